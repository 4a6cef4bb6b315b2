// The driver files npm run build emits next to each board's bundle (tools/build.ts DRIVERS): each
// passes the Espruino gate, is one ES5 expression (the loading contract: eval() gives the factory),
// and leaves the main bundle as it was.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as acorn from "acorn";
import { ROOT, boardIds, loadBoard } from "../../tools/api";
import { DRIVERS, type DriverBuild, gateDriver } from "../../tools/build";
import { formatViolations } from "../../tools/gate";

const HARDWARE = /\b(I2C1?|OneWire|digitalPulse|digitalWrite|setWatch|clearWatch|pinMode)\b/;

for (const id of boardIds()) {
  describe(`driver files of ${id}`, () => {
    const board = loadBoard(id);
    const load = (name: string): DriverBuild => {
      const base = join(ROOT, "dist", `${id}.drv.${name}`);
      const files = { min: base + ".js", debug: base + ".debug.js", map: base + ".debug.js.map" };
      for (const f of Object.values(files)) assert.ok(existsSync(f), `${f} is missing: run npm run build`);
      const min = readFileSync(files.min, "utf8");
      return { board: id, name, storage: "drv." + name, min, debug: readFileSync(files.debug, "utf8"), map: readFileSync(files.map, "utf8"), minBytes: min.length, files };
    };

    for (const d of DRIVERS) {
      it(`${d.name}: passes the gate, is one ES5 expression${d.name === "bus" ? "" : ", touches no hardware global"}`, () => {
        const r = load(d.name);
        const bus = load("bus");
        // drv.run calls the runtime's methods (b.sys, rt.pub): the main bundle's names count as defined
        const v = gateDriver(r, board, d.name === "run" ? bus.min + ";\n" + readFileSync(join(ROOT, "dist", `${id}.js`), "utf8") : bus.min);
        assert.deepEqual(v, [], formatViolations(v));
        const ast: any = acorn.parse(r.min, { ecmaVersion: 5 });
        assert.equal(ast.body.length, 1, "one statement");
        assert.equal(ast.body[0].type, "ExpressionStatement", "an expression (its value is what eval returns)");
        if (d.name !== "bus") assert.doesNotMatch(r.min, HARDWARE, "only drv.bus touches Espruino's hardware objects");
        console.log(`      ${id} ${d.name}: ${r.minBytes} bytes`);
      });
    }

    it("the main bundle carries no driver code", () => {
      const main = readFileSync(join(ROOT, "dist", `${id}.js`), "utf8");
      for (const s of ["BME280", "crc error", "short frame", "opendrain_pullup"]) assert.ok(!main.includes(s), `dist/${id}.js contains ${s}`);
    });
  });
}
