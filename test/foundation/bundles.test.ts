// npm test runs the Espruino compatibility gate on the real bundles that npm run build made.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { ROOT, boardIds, loadBoard } from "../../tools/api";
import { NET_OPTION_KEYS, checkBundle, declaredIn, definedNames, formatViolations } from "../../tools/gate";
import { readCold } from "../../tools/cold";
import { wholeLiterals } from "../../tools/build";

describe("the built bundles pass the Espruino gate", () => {
  for (const id of boardIds()) {
    describe(id, () => {
      const board = loadBoard(id);
      const min = join(ROOT, "dist", id + ".js");
      const debug = join(ROOT, "dist", id + ".debug.js");
      const map = debug + ".map";

      it("exists (npm run build) with its readable twin and source map", () => {
        for (const f of [min, debug, map]) assert.ok(existsSync(f), `${f} is missing: run npm run build`);
      });

      it("parses as ECMAScript 5 and is one self-contained file", () => {
        const code = readFileSync(min, "utf8");
        acorn.parse(code, { ecmaVersion: 5 });
        const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
        for (const r of required) assert.ok(board.modules.includes(r), `requires ${r}, not a built-in module of ${id}`);
        assert.ok(!/require\(["'][./]/.test(code), "requires a project file");
      });

      it("names nothing the board lacks and is within its size budget", () => {
        const code = readFileSync(min, "utf8");
        // the functions kept in comments at its end (tools/cold.ts) are code the board runs: checked
        // with the program, and the methods they define count as the bundle's
        const cold = readCold(code).functions.join(";\n");
        assert.ok(cold.length > 0, "the bundle ends with its cold functions");
        const v = [
          ...checkBundle(readFileSync(debug, "utf8"), board, { map: readFileSync(map, "utf8"), file: debug }),
          ...checkBundle(code, board, { file: min, budget: board.budget.bundleBytes, defined: definedNames(cold) }),
          ...checkBundle(code + "\n;" + cold, board, { file: min + " (its cold functions)" }),
        ];
        assert.deepEqual(v, [], formatViolations(v));
        console.log(`      ${id}: ${Buffer.byteLength(code)} bytes minified, budget ${board.budget.bundleBytes}`);
      });

      it("writes no integer up to 1023 with an exponent (Espruino reads 1e3 as a float: a block more where it is stored)", () => {
        const code = readFileSync(min, "utf8");
        const cold = readCold(code).functions.join(";\n");
        let numbers = 0;
        for (const text of [code, cold])
          for (const t of acorn.tokenizer(text, { ecmaVersion: 5 }) as Iterable<any>) {
            if (t.type !== acorn.tokTypes.num) continue;
            numbers++;
            const raw = text.slice(t.start, t.end);
            assert.ok(!(/e/i.test(raw) && Number.isInteger(t.value) && t.value <= 1023), `${raw} at ${t.start}`);
          }
        assert.ok(numbers > 100, `${numbers} number literals checked`);
        assert.ok(/[^0-9.]1000[^0-9]/.test(code), "the bundle's 1000s are written out");
      });

      it("gives no private field a name that net.connect reads: the client is its own connect options", () => {
        const names = JSON.parse(readFileSync(join(ROOT, "dist", id + ".names.json"), "utf8"));
        const fields = Object.keys(names).filter((k) => k.charAt(0) === ".").map((k) => k.slice(1));
        assert.ok(fields.length > 50, fields.length + " mangled fields");
        assert.deepEqual(fields.filter((f) => NET_OPTION_KEYS.includes(f)), []);
        // host and port are the client's own, as written
        assert.match(readFileSync(min, "utf8"), /\.host=[\w$]+\.host/);
      });

      it("keeps no constant number in a top-level variable (a block each on the board; the literal costs none)", () => {
        // terser, told that names will be mangled, keeps a constant used often as `var r=12`:
        // the build compresses with the names as written, then mangles (tools/build.ts)
        const code = readFileSync(min, "utf8");
        const cold = readCold(code).functions.join(";\n");
        const numeric = new Set<string>();
        for (const s of (acorn.parse(code, { ecmaVersion: 5 }) as any).body)
          if (s.type === "VariableDeclaration")
            for (const d of s.declarations) if (d.init && d.init.type === "Literal" && typeof d.init.value === "number") numeric.add(d.id.name);
        const assigned = new Set<string>();
        for (const text of [code, cold]) for (const n of topLevelAssignments(text)) assigned.add(n);
        assert.deepEqual([...numeric].filter((n) => !assigned.has(n)), [], "top-level variables holding a number that nothing assigns");
        // the check tells the two apart (the bundle has no top-level number left: the WiFi backoff and
        // timer became device fields absent at rest)
        assert.deepEqual(topLevelAssignments("var a=1,b=2,c=3;function f(){a++;var c;c=4}function g(b){b=1}"), ["a"]);
      });
    });
  }
});

/** The top-level names that `text` assigns (=, op=, ++, --) where no enclosing function declares them. */
function topLevelAssignments(text: string): string[] {
  const found: string[] = [];
  const declared = new Map<any, Set<string>>();
  // the names a function declares (the gate's declaredIn: parameters, vars, inner function
  // declarations), and a function expression's own name
  const names = (fn: any): Set<string> => {
    let set = declared.get(fn);
    if (!set) {
      set = declaredIn(fn.body, fn.params);
      if (fn.type === "FunctionExpression" && fn.id) set.add(fn.id.name);
      declared.set(fn, set);
    }
    return set;
  };
  walk.fullAncestor(acorn.parse(text, { ecmaVersion: 5 }) as any, (node: any, _st: any, ancestors: any[]) => {
    const target = node.type === "AssignmentExpression" ? node.left : node.type === "UpdateExpression" ? node.argument : null;
    if (!target || target.type !== "Identifier") return;
    for (const a of ancestors) {
      if ((a.type === "FunctionDeclaration" || a.type === "FunctionExpression") && names(a).has(target.name)) return;
      if (a.type === "CatchClause" && a.param.name === target.name) return;
    }
    found.push(target.name);
  });
  return found;
}

describe("wholeLiterals (tools/build.ts)", () => {
  it("writes out an integer literal up to 1023 that has an exponent, and nothing else", () => {
    assert.equal(wholeLiterals('a=1e3,b=1e4,c="1e3",d=1.5e3,e=5e2,f=1e-3,g=x1e3;'), 'a=1000,b=1e4,c="1e3",d=1.5e3,e=500,f=1e-3,g=x1e3;');
  });
});
