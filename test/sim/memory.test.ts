// The memory ESTIMATE: agrees within 10 % with the real interpreter on the corpus
// (test/sim/memory-corpus, answers.json recorded by tools/record-memory.ts), grows with data,
// bounded by total.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { SimBoard } from "../../sim";
import { ANSWERS_FILE, BOARDS, Figures, JITTER, findInterpreter, loadCorpus, measureInterpreter, measureModel } from "./memory-harness";

const ANSWERS: Record<string, Record<string, Figures>> = JSON.parse(fs.readFileSync(ANSWERS_FILE, "utf8"));
const within = (model: number, real: number) => Math.abs(model - real) <= 0.1 * real;

describe("sim memory estimate against the interpreter (memory-corpus/answers.json)", function () {
  this.timeout(240000);
  for (const board of BOARDS) {
    const corpus = loadCorpus(board);
    it(`${board}: the corpus has at least 10 programs with recorded answers, the firmware among them`, () => {
      assert.ok(corpus.length >= 11, "programs: " + corpus.map((p) => p.name).join(", "));
      for (const p of corpus) assert.ok(ANSWERS[p.name] && ANSWERS[p.name][board], "no recorded answer for " + p.name + ": run npx tsx tools/record-memory.ts");
      assert.ok(corpus.some((p) => p.firmware), "dist/" + board + ".js is built by npm test's pretest");
    });
    for (const p of corpus) {
      it(`${board}: ${p.name} within 10 % (usage - baseline, and usage)`, async () => {
        // the firmware changes with every firmware commit: it is measured afresh when the
        // interpreter is here, and compared with the recorded figure (of the bundle it was
        // recorded from) only when it is not
        const bin = p.firmware ? findInterpreter(board) : null;
        const real = bin ? await measureInterpreter(bin, p, board) : ANSWERS[p.name] && ANSWERS[p.name][board];
        if (!real) return assert.fail("no recorded answer for " + p.name);
        const model = await measureModel(board, p);
        const msg = `${p.name} on ${board}: interpreter ${JSON.stringify(real)}, model ${JSON.stringify(model)}`;
        assert.ok(within(model.net, real.net), msg);
        // the firmware's interpreter usage includes the board shim (the sim provides Wifi itself)
        if (!p.firmware) assert.ok(within(model.usage, real.usage), msg);
        else assert.ok(within(model.usage, real.usage - real.baseline + model.baseline), msg);
      });
    }
  }
});

describe("memory-corpus/answers.json against the interpreter itself", function () {
  this.timeout(180000);
  // a sample, to keep npm test short; tools/record-memory.ts --check re-measures everything twice
  const SAMPLE = ["numbers", "closures", "class-proto", "timers"];
  for (const board of BOARDS) {
    it(`${board}: re-measured on the real interpreter, the recorded answers hold (deterministic)`, async function () {
      const bin = findInterpreter(board);
      if (!bin) {
        console.log(`      skipped: no espruino-${board}; get it as described in ../shared/espruino/LINUX.md (bin/espruino-${board})`);
        return this.skip();
      }
      for (const p of loadCorpus(board).filter((x) => SAMPLE.includes(x.name))) {
        const now = await measureInterpreter(bin, p, board);
        const was = ANSWERS[p.name][board];
        const d = JITTER[p.name] || 0;
        const msg = `${p.name}: now ${JSON.stringify(now)}, recorded ${JSON.stringify(was)}`;
        if (!d) assert.deepEqual(now, was, msg);
        else for (const k of ["usage", "baseline", "net"] as const) assert.ok(Math.abs(now[k] - was[k]) <= d, msg + ` (within ${d})`);
      }
    });
  }
});

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

  it("code loaded as text costs RAM for its function bodies; code run from Storage does not", () => {
    const flash = boot(sixtyFunctions()).memory().usage;
    const ram = boot(sixtyFunctions(), { fromStorage: false }).memory().usage;
    assert.ok(ram > flash + 100, `from Storage ${flash}, from a string ${ram}`);
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
    assert.equal(b.memory().usage - s, 1 + 150, "a 1200-char string: 8 chars in its first block, 8 in each further one (ESP8266 layout), its 3-char global name 1");
    const e = boot("var keep = 0;", { board: "esp32" });
    const s32 = e.memory().usage;
    e.eval("var str = new Array(1201).join('x');");
    assert.equal(e.memory().usage - s32, 1 + 134, "ESP32 layout (13-byte blocks): 9 chars in each further block");
  });

  it("counts module state held in a closure (a bundle's IIFE), not only globals", () => {
    const b = boot("(function () { var state = { buf: new Array(601).join('z') }; setInterval(function () { state.n = 1; }, 1000); })();");
    const usage = b.memory().usage;
    assert.ok(usage > 52 + 75, `closure state counted: ${usage}`);
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
