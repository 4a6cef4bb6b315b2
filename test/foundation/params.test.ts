// Parameters as locals (tools/params.ts): the resident functions off the per-frame path declare no
// parameters in the built program and take their arguments from `arguments`. The rewrite on small
// programs (same results in V8 as before it), and the built bundles. That Espruino runs the
// rewritten form alike is in the fidelity corpus (fn.locals.*); that it saves blocks, in the memory
// budget on the real interpreter (test/runtime/memory.real.test.ts); that the per-frame path reads
// no more flash, in test/espruino/flash-reads.espruino.test.ts.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as vm from "node:vm";
import { KEEP_PARAMETERS, leafParametersAsLocals, parametersAsLocals, residentFunctions } from "../../tools/params";
import { checkBundle } from "../../tools/gate";
import { readCold } from "../../tools/cold";
import { ROOT, boardIds, loadBoard } from "../../tools/api";

const PROGRAM = [
  "function add(a, b, c) { return [a, b, c].join(','); }",
  "function hot(a, b) { return a + b; }",
  "function one(x) { x = x || 'none'; return x; }",
  "function later(v) { return function () { return v; }; }",
  "function loader() { return arguments[0] * 2; }",
  "function none() { return 0; }",
  "var hal = { io: function (op, pin, v) { return op + ':' + pin + ':' + v; }, n: 1 };",
  "var METHODS = { pub: function (cn, dt) { return cn + dt; } };",
].join("\n");

/** the program's globals after running it */
function run(code: string): any {
  const box: any = {};
  vm.runInNewContext(code, box);
  return box;
}

/** the parameters each resident function of a program declares, by name (`object.property` for a method) */
function declared(code: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, fn] of residentFunctions(code)) out[name] = fn.params.length;
  return out;
}

describe("parameters as locals (tools/params.ts): resident functions off the per-frame path declare none", () => {
  it("rewrites the functions not kept, and each gives what it gave before, with fewer or more arguments", () => {
    const r = parametersAsLocals(PROGRAM, new Set(["hot", "METHODS.pub"]));
    assert.deepEqual(r.functions, ["add", "one", "later", "hal.io"]);
    assert.equal(r.parameters, 3 + 1 + 1 + 3);
    assert.deepEqual(declared(r.code), { add: 0, hot: 2, one: 0, later: 0, loader: 0, none: 0, "hal.io": 0, "METHODS.pub": 2 });
    const before = run(PROGRAM);
    const after = run(r.code);
    for (const [name, args] of [["add", [1, 2, 3]], ["add", [1]], ["add", [1, 2, 3, 4]], ["add", []], ["one", []], ["one", ["x"]], ["hot", [1, 2]], ["loader", [4]]] as [string, any[]][])
      assert.equal(after[name](...args), before[name](...args), name + "(" + args.join(",") + ")");
    assert.equal(after.later(7)(), 7, "a closure keeps the local");
    assert.equal(after.hal.io(1, "D2", 0), "1:D2:0");
    assert.equal(after.METHODS.pub("a", "b"), "ab");
  });

  it("leaves a function that names arguments itself as it is (the cold-code loader)", () => {
    const code = "function f(a) { return arguments.length + a; }";
    assert.equal(parametersAsLocals(code, new Set()).code, code);
  });

  it("in a driver file, rewrites only the functions that make no function, and none inside one that names arguments", () => {
    const driver = [
      "({",
      "  i2c: function (sda, scl, rate) { return [sda, scl, rate || 100].join(','); },",
      "  pin: function (p) { return { low: function (ms) { return p + ':' + ms; }, watch: function (cb) { return function (e) { return cb(e + p); }; } }; },",
      "  odd: function () { var a = arguments; return { get: function (k) { return a[k]; } }; },",
      "  set v(x) { this.x = x; }",
      "})",
    ].join("\n");
    const r = leafParametersAsLocals(driver);
    // i2c, low and the watch's callback; not pin, watch (they make functions), odd's get (odd names arguments), nor the setter
    assert.equal(r.functions.length, 3);
    assert.equal(r.parameters, 3 + 1 + 1);
    const before = vm.runInNewContext(driver);
    const after = vm.runInNewContext(r.code);
    assert.equal(after.i2c(4, 5), before.i2c(4, 5));
    assert.equal(after.pin("D2").low(7), "D2:7");
    assert.equal(after.pin("D2").watch((x: string) => "got " + x)(1), "got 1D2");
    assert.equal(after.odd(1, 2).get(1), 2);
    after.v = 3;
    assert.equal(after.x, 3);
    assert.deepEqual(checkBundle("var d = " + r.code + ";", loadBoard("esp8266")).filter((v) => v.rule === "nested-arguments"), [], "nothing for the gate's nested-arguments rule");
  });

  for (const board of boardIds()) {
    it(`${board}: in the built program only the functions kept (KEEP_PARAMETERS) and the cold-code loader declare parameters; each kept one is there`, () => {
      const min = readFileSync(join(ROOT, "dist", board + ".js"), "latin1");
      const names: Record<string, string> = JSON.parse(readFileSync(join(ROOT, "dist", board + ".names.json"), "utf8"));
      const program = readCold(min).program;
      const source = (n: string) => n.split(".").map((part, i) => (i === 0 && names[part]) || part).join(".");
      const params: Record<string, number> = {};
      for (const [n, k] of Object.entries(declared(program))) params[source(n)] = k;
      const withParams = Object.keys(params).filter((n) => params[n] > 0 && KEEP_PARAMETERS.indexOf(n) < 0);
      assert.deepEqual(withParams, [], "resident functions that still declare parameters: " + withParams.join(", "));
      // the names in the list are the program's (a renamed function would silently lose them)
      for (const n of KEEP_PARAMETERS) assert.ok(params[n] > 0, `${n} is a function of the ${board} program with its parameters`);
      assert.ok(Object.keys(params).length > 20, "the program's functions were found");
    });
  }
});
