// npm test runs the Espruino compatibility gate on the real bundles that npm run build made.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as acorn from "acorn";
import { ROOT, boardIds, loadBoard } from "../../tools/api";
import { checkBundle, definedNames, formatViolations } from "../../tools/gate";
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
    });
  }
});

describe("wholeLiterals (tools/build.ts)", () => {
  it("writes out an integer literal up to 1023 that has an exponent, and nothing else", () => {
    assert.equal(wholeLiterals('a=1e3,b=1e4,c="1e3",d=1.5e3,e=5e2,f=1e-3,g=x1e3;'), 'a=1000,b=1e4,c="1e3",d=1.5e3,e=500,f=1e-3,g=x1e3;');
  });
});
