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
import { readCold } from "../../tools/cold";

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
        // drv.run calls the runtime's methods (b.sys, rt.publish_): the main bundle's names (and its
        // readable twin's) count as defined
        const main = (f: string) => readFileSync(join(ROOT, "dist", `${id}${f}`), "utf8");
        // (and the functions the bundle keeps in comments at its end: tools/cold.ts)
        const v = gateDriver(r, board, d.name === "run" ? bus.min + ";\n" + main(".js") + ";\n" + readCold(main(".js")).functions.join(";\n") + ";\n" + main(".debug.js") : bus.min);
        assert.deepEqual(v, [], formatViolations(v));
        const ast: any = acorn.parse(r.min, { ecmaVersion: 5 });
        assert.equal(ast.body.length, 1, "one statement");
        assert.equal(ast.body[0].type, "ExpressionStatement", "an expression (its value is what eval returns)");
        if (d.name !== "bus") assert.doesNotMatch(r.min, HARDWARE, "only drv.bus touches Espruino's hardware objects");
        console.log(`      ${id} ${d.name}: ${r.minBytes} bytes`);
      });
    }

    it("drv.run names the device's and the inputs' private fields as the main bundle does", () => {
      const names = JSON.parse(readFileSync(join(ROOT, "dist", `${id}.names.json`), "utf8"));
      const mainName: Record<string, string> = {};
      for (const k of Object.keys(names)) if (k.charAt(0) === ".") mainName[names[k]] = k.slice(1);
      const used = new Set(Object.values(mainName));
      const run = load("run");
      const fields = [...new Set([...run.debug.matchAll(/\.([A-Za-z0-9$]+_)\b/g)].map((m) => m[1]))];
      const shared = fields.filter((f) => mainName[f]);
      assert.ok(shared.includes("inputs_") && shared.includes("name_") && shared.includes("publish_"), "drv.run works on the device's records: " + fields.join(", "));
      const props = new Set([...run.min.matchAll(/\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
      for (const f of shared) assert.ok(props.has(mainName[f]), `${f}: the main bundle calls it ${mainName[f]}, drv.run does not use that name`);
      // the fields only drv.run names get names of their own, none the main bundle gave another field
      const own = fields.filter((f) => !mainName[f]);
      assert.ok(own.length > 0, "driver_, rom_ and statusPending_ are drv.run's own");
      const fresh = [...props].filter((p) => /^x\d+$/.test(p));
      assert.equal(fresh.length, own.length, `one name each for ${own.join(", ")}: ${fresh.join(", ")}`);
      for (const p of fresh) assert.ok(!used.has(p), `${p} is a main bundle name too`);
    });

    it("the main bundle carries no driver code", () => {
      const main = readFileSync(join(ROOT, "dist", `${id}.js`), "utf8");
      for (const s of ["BME280", "crc error", "short frame", "opendrain_pullup"]) assert.ok(!main.includes(s), `dist/${id}.js contains ${s}`);
    });
  });
}
