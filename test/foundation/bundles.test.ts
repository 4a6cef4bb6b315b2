// npm test runs the Espruino compatibility gate on the real bundles that npm run build made.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as acorn from "acorn";
import { ROOT, boardIds, loadBoard } from "../../tools/api";
import { checkBundle, definedNames, formatViolations } from "../../tools/gate";
import { readCold } from "../../tools/cold";

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
    });
  }
});
