// Functions that run seldom leave the program for comments at the end of .bootcde (tools/cold.ts):
// the move on small programs, and the built bundles as flashed. That the board runs them (boot,
// connect, the `status` and `config` commands) is shown by the e2e tests on both engines; that they
// cost no RAM at idle, by the memory budget on the real interpreter (test/runtime/memory.real.test.ts).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as vm from "node:vm";
import { minify } from "terser";
import { COLD_FUNCTIONS, COLD_HOLDER, moveCold, readCold, splitCold } from "../../tools/cold";
import { boardIds } from "../../tools/api";

const ROOT = join(__dirname, "..", "..");

/** A program shaped like the firmware: cold functions calling each other, the rest calling them. */
const PROGRAM = [
  "function check(cfg) { return cfg.ok ? [] : ['bad']; }",
  "function run(cfg) { var e = check(cfg); applied.push(e.length); }",
  "function manageCommand(cmd, a) { if (cmd === 'config') { run(a); return {applied: 1}; } return 'no ' + cmd; }",
  "function runCommand(cmd, a) { if (cmd === 'ping') return {}; return manageCommand(cmd, a); }",
  "var applied = [];",
  "function boot(cfg) { run(cfg); }",
].join("\n");

/** minified with the build's options for the holder (top_retain, reserved name), then split */
async function built(code: string): Promise<{ program: string; tail: string; functions: string[]; calls: number }> {
  const moved = moveCold(code);
  const keep = [COLD_HOLDER, "boot", "runCommand", "applied"];
  const min = await minify(moved.code, { ecma: 5, toplevel: true, compress: { passes: 2, top_retain: keep }, mangle: { toplevel: true, reserved: keep } });
  return { ...splitCold(min.code!, moved), calls: moved.calls };
}

/** runs the stored file in a fresh context whose Storage holds it as .bootcde */
function boardWith(stored: string): any {
  const sandbox: any = { require: (m: string) => (m === "Storage" ? { read: (_n: string, off = 0, len = stored.length) => stored.substr(off, len) } : undefined) };
  vm.createContext(sandbox);
  vm.runInContext(stored, sandbox);
  return sandbox;
}

describe("cold code (tools/cold.ts): functions that run seldom, in comments at the end of .bootcde", function () {
  this.timeout(60000);

  it("moves them out, and every call to them (also from one another) evaluates its comment", async () => {
    const { program, tail, functions, calls } = await built(PROGRAM);
    assert.equal(calls, 3, "boot's run(), runCommand's manageCommand() and manageCommand's run()");
    assert.equal(functions.length, 2);
    assert.ok(!/function (run|manageCommand)\b/.test(program), "no cold function left in the program: " + program);
    const stored = program + tail;
    assert.ok(stored.endsWith("*/"));
    const board = boardWith(stored);
    board.boot({ ok: 1 });
    board.boot({});
    assert.equal(JSON.stringify(board.applied), "[0,1]", "run ran from its comment, and called the program's check");
    assert.equal(JSON.stringify(board.runCommand("config", { ok: 1 })), '{"applied":1}', "manageCommand called run, each from its comment");
    assert.equal(JSON.stringify(board.applied), "[0,1,0]");
    assert.equal(board.runCommand("reboot"), "no reboot");
    assert.equal(JSON.stringify(board.runCommand("ping")), "{}");
  });

  it("the evaluated code reads the globals, not the loader's locals (Espruino's eval sees the caller's scope)", async () => {
    const { program, tail } = await built(PROGRAM);
    const loader = new RegExp("function (\\w+)\\(\\)\\{return\\(0,eval\\)").exec(program);
    assert.ok(loader, "the loader declares no parameter: " + program);
    assert.ok(!/var /.test(program.slice(loader!.index, program.indexOf("}", loader!.index))), "and no variable");
    assert.ok(tail.length > 0);
  });

  it("refuses a cold function used other than called or as a once-only callback (it must stay a function of the program)", () => {
    assert.throws(() => moveCold(PROGRAM + "\nvar keep = run;"), /run is used other than called or as a setTimeout or connect callback/);
    assert.throws(() => moveCold(PROGRAM + "\nnet.connect(run, 1);"), /run is used other than called/);
    assert.equal(moveCold(PROGRAM + "\nnet.connect({}, run);").calls, 4, "the callback of a connect");
    assert.throws(() => moveCold(PROGRAM + "\nsetInterval(run, 10);"), /run is used other than called/);
    assert.throws(() => moveCold(PROGRAM + "\nsetTimeout(check, 10, run);"), /run is used other than called/);
  });

  it("a timer's callback is evaluated from its comment when the timer is set, and runs when it fires", async () => {
    const code = PROGRAM + "\nfunction schedule(cfg) { setTimeout(run, 10, cfg); }";
    const moved = moveCold(code);
    assert.equal(moved.calls, 4, "the three calls and the callback");
    const keep = [COLD_HOLDER, "boot", "runCommand", "applied", "schedule"];
    const min = await minify(moved.code, { ecma: 5, toplevel: true, compress: { passes: 2, top_retain: keep }, mangle: { toplevel: true, reserved: keep } });
    const { program, tail } = splitCold(min.code!, moved);
    assert.ok(!/function run\b/.test(program));
    const board = boardWith(program + tail);
    const timers: [any, number, any][] = [];
    board.setTimeout = (f: any, ms: number, a: any) => timers.push([f, ms, a]);
    board.schedule({});
    assert.equal(timers.length, 1);
    assert.equal(typeof timers[0][0], "function", "setTimeout got the function evaluated from the comment");
    assert.equal(JSON.stringify(board.applied), "[]", "not run yet");
    timers[0][0](timers[0][2]);
    assert.equal(JSON.stringify(board.applied), "[1]", "run ran when the timer fired, and called the program's check");
  });

  it("leaves a local of the same name alone", () => {
    const moved = moveCold(PROGRAM + "\nfunction other(run) { return run(1); }");
    assert.equal(moved.calls, 3, "other's run is its parameter");
  });

  it("refuses a cold function that names arguments (evaluated in the loader's scope, Espruino gives it the loader's)", async () => {
    const code = PROGRAM.replace("function run(cfg) { var e = check(cfg);", "function run() { var cfg = arguments[0], e = check(cfg);");
    await assert.rejects(() => built(code), /run names arguments/);
  });

  it("throws when the bundle has none of them", () => {
    assert.throws(() => moveCold("function a(){}\na();"), /none of/);
  });

  for (const board of boardIds()) {
    it(`${board}: dist/${board}.js and the flashed .bootcde end with the same comments, and each call names where its text is`, () => {
      const min = readFileSync(join(ROOT, "dist", board + ".js"), "latin1");
      const tok = readFileSync(join(ROOT, "dist", board + ".bootcde"), "latin1");
      const { program, functions: pieces } = readCold(min);
      const tail = min.slice(program.length);
      assert.ok(pieces.length > 0 && /\}\)\*\/$/.test(min), "dist/" + board + ".js ends with the cold comments");
      assert.ok(tok.endsWith(tail), "the pretokenised file ends with the same plain text");
      assert.equal(pieces.length, COLD_FUNCTIONS.length, "one comment per cold function");
      // each call's two figures: back from the end of the file to a comment's text, and its length
      // every call of the loader (its minified name: the function that evals a piece of .bootcde)
      const loader = (program.match(/function (\w+)\(\)\{return\(0,eval\)/) || [])[1];
      assert.ok(loader, "the program defines the loader");
      const calls = [...min.matchAll(new RegExp("(?<![\\w$.])" + loader.replace(/\$/g, "\\$") + "\\(\\s*(\\d+),\\s*(\\d+)\\)", "g"))];
      const named = new Set<string>();
      for (const c of calls) {
        const text = tok.substr(tok.length - +c[1], +c[2]);
        assert.ok(pieces.indexOf(text) >= 0, `${c[0]} names the text of one comment in .bootcde`);
        assert.ok(/^\(function\(/.test(text) && /\}\)$/.test(text));
        named.add(text);
      }
      assert.equal(named.size, COLD_FUNCTIONS.length, "each cold function is called: " + calls.map((c) => c[0]).join(" "));
      // the `status` reply's text moved with statusReport; no function of the program is in a comment
      assert.ok(pieces.some((p) => p.indexOf('"jmqt.res"') >= 0), "statusReport is in a comment");
      assert.ok(program.indexOf('"jmqt.res"') < 0, "and not in the program");
      assert.ok(program.indexOf(COLD_HOLDER) < 0);
    });
  }
});
