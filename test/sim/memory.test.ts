// The memory ESTIMATE: calibrated to shared/espruino/README.md, grows with data, bounded by total.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";

// 60 small functions in the style the README measured (comment above each, short body).
function sixtyFunctions(): string {
  let s = "";
  for (let i = 0; i < 60; i++) s += `// helper ${i}: clamps a reading\nfunction helper${i}(value, scale) {\n  var t = value * scale + ${i};\n  if (t > 100) t = 100;\n  return t;\n}\n`;
  return s;
}

describe("sim memory estimate", () => {
  const boards: SimBoard[] = [];
  function boot(code: string, opts: { fromStorage?: boolean; board?: "esp32" | "esp8266" } = {}): SimBoard {
    const b = new SimBoard({ board: opts.board || "esp8266", code, fromStorage: opts.fromStorage });
    boards.push(b);
    b.boot();
    return b;
  }
  afterEach(() => boards.splice(0).forEach((b) => b.stop()));

  it("matches the README calibration within 10%: 60 functions cost ~367 blocks from Storage, ~603 from a string", () => {
    const flash = boot(sixtyFunctions()).memory().usage;
    const ram = boot(sixtyFunctions(), { fromStorage: false }).memory().usage;
    assert.ok(Math.abs(flash - 367) / 367 < 0.1, `from Storage: ${flash}`);
    assert.ok(Math.abs(ram - 603) / 603 < 0.1, `from a string: ${ram}`);
  });

  it("grows with data held by the program, and shrinks when it is dropped", () => {
    const b = boot("var keep = [];");
    const m0 = b.memory().usage;
    b.eval("(function () { for (var i = 0; i < 100; i++) keep.push({ id: i, name: 'sensor-' + i }); })();");
    const m1 = b.memory().usage;
    assert.ok(m1 - m0 >= 300 && m1 - m0 <= 700, `100 small objects cost ${m1 - m0}`);
    b.eval("keep = [];");
    assert.equal(b.memory().usage, m0);
    const s = b.memory().usage;
    b.eval("var str = new Array(1201).join('x');");
    assert.equal(b.memory().usage - s, 1 + 100, "a 1200-char string: 100 blocks, its 3-char global name 1");
  });

  it("counts module state held in a closure (a bundle's IIFE), not only globals", () => {
    const b = boot("(function () { var state = { buf: new Array(601).join('z') }; setInterval(function () { state.n = 1; }, 1000); })();");
    const usage = b.memory().usage;
    assert.ok(usage > 24 + 50, `closure state counted: ${usage}`);
  });

  it("a closure made at run time costs its body in RAM; one made at boot from Storage does not", async () => {
    const boot1 = boot("function make() { return function handler(d) { var x = d + 1; var y = x * 2; return y + x + d; }; } var h = null;");
    const before = boot1.memory().usage;
    boot1.eval("h = make();");
    const after = boot1.memory().usage;
    assert.ok(after - before >= 4, `run-time closure cost ${after - before}`);
  });

  it("is bounded by total from boards/*.json and free = total - usage; process.memory() and E.getSizeOf agree", () => {
    const b = boot("var big = []; for (var i = 0; i < 3000; i++) big.push(i * 1.5);");
    const m = b.memory();
    assert.equal(m.total, 1600);
    assert.ok(m.estimate > m.total, "the uncapped estimate shows the program is over budget");
    assert.equal(m.usage, m.total, "usage is bounded by total");
    assert.equal(m.free, 0);
    assert.equal(b.eval("process.memory().usage"), 1600);
    assert.ok(b.console.some((l) => /over the board's 1600/.test(l)));
    const e = boot("", { board: "esp32" });
    assert.equal(e.memory().total, 5000);
    assert.equal(e.eval("process.memory().total"), 5000);
    assert.ok(e.eval("E.getSizeOf([1, 2, 3])") >= 4);
    assert.ok(e.eval("E.getSizeOf('x')") >= 1);
  });
});
