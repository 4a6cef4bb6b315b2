// Virtual pins: outputs and their timeline, inputs, watches with edges/debounce/bounce, sensors.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";

describe("sim pins", () => {
  let b: SimBoard;
  function boot(code: string, board: "esp32" | "esp8266" = "esp32"): SimBoard {
    b = new SimBoard({ board, code });
    b.boot();
    return b;
  }
  afterEach(() => b && b.stop());

  it("records the timeline of output changes and reports the current value", async () => {
    boot("var v = 0; setInterval(function () { v = 1 - v; digitalWrite(D2, v); }, 250);");
    await b.advance(1000);
    assert.deepEqual(b.timeline("D2"), [{ t: 250, v: 1 }, { t: 500, v: 0 }, { t: 750, v: 1 }, { t: 1000, v: 0 }]);
    assert.equal(b.output("D2"), 0);
    assert.equal(b.pinMode("D2"), "output");
  });

  it("digitalPulse drives a pulse on virtual time", async () => {
    boot("digitalPulse(D4, 1, 20);");
    await b.advance(50);
    assert.deepEqual(b.timeline("D4"), [{ t: 0, v: 1 }, { t: 20, v: 0 }]);
  });

  it("analogWrite records PWM duty; refuses non-PWM and input-only pins", () => {
    boot("");
    b.eval("analogWrite(D25, 0.25, { freq: 500 })");
    assert.equal(b.output("D25"), 0.25);
    assert.throws(() => b.eval("analogWrite(D34, 0.5)"), /PWM|input-only/);
    assert.throws(() => b.eval("digitalWrite(D34, 1)"), /input-only/);
  });

  it("digital inputs: setDigital, input_pullup default, read through Pin methods", () => {
    boot("pinMode(D0, 'input_pullup');");
    assert.equal(b.eval("digitalRead(D0)"), 1);
    b.setDigital("D0", 0);
    assert.equal(b.eval("D0.read()"), false);
  });

  it("setWatch fires on the chosen edge with {state, time, lastTime, pin}", async () => {
    boot("var ev = []; setWatch(function (e) { ev.push(e); }, D13, { repeat: true, edge: 'rising' });");
    await b.advance(100);
    b.setDigital("D13", 1);
    await b.advance(100);
    b.setDigital("D13", 0);
    await b.advance(100);
    b.setDigital("D13", 1);
    await b.advance(10);
    const ev = JSON.parse(b.eval("JSON.stringify(ev)"));
    assert.equal(ev.length, 2);
    assert.deepEqual(ev[0], { state: true, time: 0.1, lastTime: 0, pin: 13 });
    assert.equal(ev[1].time, 0.3);
    assert.equal(ev[1].lastTime, 0.1);
  });

  it("a bouncing contact fires many times without debounce, once with debounce", async () => {
    boot("var raw = 0, deb = 0; setWatch(function () { raw++; }, D12, { repeat: true, edge: 'both' }); setWatch(function () { deb++; }, D14, { repeat: true, edge: 'both', debounce: 20 });");
    b.setDigital("D12", 1, { bounces: 4, bounceMs: 2 });
    b.setDigital("D14", 1, { bounces: 4, bounceMs: 2 });
    await b.advance(100);
    assert.equal(b.eval("raw"), 9);
    assert.equal(b.eval("deb"), 1);
  });

  it("a watch without repeat fires once; clearWatch stops a watch; noWatch pins refuse", async () => {
    boot("var n = 0; setWatch(function () { n++; }, D5, { edge: 'both' });", "esp8266");
    b.setDigital("D5", 1);
    await b.advance(1);
    b.setDigital("D5", 0);
    await b.advance(1);
    assert.equal(b.eval("n"), 1);
    assert.throws(() => b.eval("setWatch(function () {}, D16, { repeat: true })"), /can not be watched/);
  });

  it("analogRead follows sensor models: constant, step, sine, seeded walk and trace; non-ADC pins throw", async () => {
    boot("");
    b.setAnalog("D34", 0.5);
    assert.equal(b.eval("analogRead(D34)"), 0.5);
    b.sensor("D35", { type: "step", initial: 0.1, steps: [{ at: 1000, value: 0.9 }] });
    assert.equal(b.eval("analogRead(D35)"), 0.1);
    await b.advance(1000);
    assert.equal(b.eval("analogRead(D35)"), 0.9);
    b.sensor("D36", { type: "sine", mean: 0.5, amplitude: 0.4, periodMs: 4000 });
    await b.advance(1000);
    assert.ok(Math.abs(b.eval("analogRead(D36)") - 0.9) < 1e-9);
    b.sensor("D37", { type: "walk", start: 0.5, step: 0.05, min: 0, max: 1, seed: 3 });
    const walk: number[] = [];
    for (let i = 0; i < 5; i++) {
      walk.push(b.eval("analogRead(D37)"));
      await b.advance(1000);
    }
    assert.equal(new Set(walk).size, 5, "walk moves");
    assert.ok(walk.every((v, i) => i === 0 || Math.abs(v - walk[i - 1]) <= 0.05 + 1e-12));
    b.sensor("D38", { type: "trace", points: [{ t: 0, v: 0.2 }, { t: 500, v: 0.7 }] });
    await b.advance(600);
    assert.equal(b.eval("analogRead(D38)"), 0.7);
    assert.throws(() => b.eval("analogRead(D2)"), /not an ADC pin/);
  });

  it("a step sensor on a digital pin produces watch edges at its change times", async () => {
    boot("var t = []; setWatch(function (e) { t.push(e.time); }, D27, { repeat: true, edge: 'both' });");
    b.sensor("D27", { type: "step", steps: [{ at: 200, value: 1 }, { at: 700, value: 0 }] });
    await b.advance(1000);
    assert.equal(b.eval("t.join()"), "0.2,0.7");
  });
});
