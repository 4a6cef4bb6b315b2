// Virtual time: timers in order, hours of device life quickly and deterministically; watchdog.
import { strict as assert } from "node:assert";
import { Fleet, SimBoard } from "../../sim";

describe("sim virtual time", () => {
  const boards: SimBoard[] = [];
  function boot(code: string, opts: { seed?: number } = {}): SimBoard {
    const b = new SimBoard({ board: "esp32", code, seed: opts.seed });
    boards.push(b);
    b.boot();
    return b;
  }
  afterEach(() => boards.splice(0).forEach((b) => b.stop()));

  it("runs timers in time order, with Date.now() and getTime() on the virtual clock", async () => {
    const b = boot("var log = []; setTimeout(function () { log.push('b' + Date.now()); }, 20); setTimeout(function () { log.push('a' + Date.now()); }, 10); setTimeout(function () { log.push('c' + getTime()); }, 20);");
    await b.advance(25);
    assert.equal(b.eval("log.join()"), "a10,b20,c0.02");
    assert.equal(b.now(), 25);
  });

  it("simulates 6 hours of a 1 s interval exactly (speed is measured in bench/sim.ts)", async () => {
    const b = boot("var n = 0, last = 0, late = 0; setInterval(function () { n++; if (Date.now() - last !== 1000) late++; last = Date.now(); }, 1000);");
    await b.advance(6 * 3600 * 1000);
    assert.equal(b.eval("n"), 21600);
    assert.equal(b.eval("late"), 0);
    assert.equal(b.now(), 6 * 3600 * 1000);
  });

  it("is deterministic: same seed, same Math.random() sequence and same history", async () => {
    const code = "var s = []; setInterval(function () { s.push(Math.floor(Math.random() * 1000)); }, 333);";
    const a = boot(code, { seed: 7 });
    const c = boot(code, { seed: 7 });
    const d = boot(code, { seed: 8 });
    await a.advance(10000);
    await c.advance(10000);
    await d.advance(10000);
    assert.equal(a.eval("s.join()"), c.eval("s.join()"));
    assert.notEqual(a.eval("s.join()"), d.eval("s.join()"));
  });

  it("clearTimeout, clearInterval and changeInterval", async () => {
    const b = boot("var n = 0, m = 0; var i = setInterval(function () { n++; }, 100); var t = setTimeout(function () { m++; }, 50); clearTimeout(t); setTimeout(function () { changeInterval(i, 500); }, 1050); setTimeout(function () { clearInterval(i); }, 3060);");
    await b.advance(10000);
    assert.equal(b.eval("m"), 0);
    assert.equal(b.eval("n"), 14, "10 ticks at 100 ms, then 1550, 2050, 2550, 3050, cleared at 3060");
  });

  it("a fleet shares one clock", async () => {
    const f = new Fleet();
    const a = f.add({ board: "esp32", code: "var n = 0; setInterval(function () { n++; }, 100);" });
    const c = f.add({ board: "esp8266", code: "var n = 0; setInterval(function () { n++; }, 250);" });
    f.bootAll();
    await f.advance(1000);
    assert.equal(a.eval("n"), 10);
    assert.equal(c.eval("n"), 4);
    assert.equal(a.now(), c.now());
    f.stop();
  });

  it("a missed watchdog kick reboots the board; kicking keeps it alive", async () => {
    const b = boot("E.enableWatchdog(2, false); var k = setInterval(function () { E.kickWatchdog(); }, 500); setTimeout(function () { clearInterval(k); }, 5000);");
    await b.advance(6000);
    assert.equal(b.resets.length, 0);
    await b.advance(1500);
    assert.equal(b.resets.length, 1);
    assert.equal(b.resets[0].reason, "watchdog");
    assert.ok(b.console.indexOf("WATCHDOG RESET") >= 0);
    await b.advance(1000);
    assert.ok(b.isBooted(), "boots again from .bootcde");
  });

  it("E.reboot() restarts the program from Storage with fresh state and no old timers", async () => {
    const b = boot("var n = 0; setInterval(function () { n++; if (n === 3) E.reboot(); }, 100);");
    await b.advance(350);
    assert.equal(b.resets.length, 1);
    await b.advance(600);
    assert.ok(b.eval("n") >= 1 && b.eval("n") <= 2, "counter restarted after reboot");
  });
});

describe("sim real clock", () => {
  it("runs device timers on Node's own timers when made with clock 'real'", async () => {
    const b = new SimBoard({ board: "esp32", clock: "real", code: "var fired = 0; setTimeout(function () { fired = Date.now(); }, 30);" });
    b.boot();
    try {
      assert.equal(b.eval("fired"), 0);
      await new Promise((r) => setTimeout(r, 120));
      assert.ok(b.eval("fired") >= 30, "fired after its delay on the real clock");
    } finally {
      b.stop();
    }
  });
});
