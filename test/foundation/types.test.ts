// The board's API as types: generated from api.json, and the firmware config turns what the
// board lacks into type errors.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../tools/api";
import { generate } from "../../tools/gen-dts";

/** Type-checks `source` as a firmware file (lib es5 + the Espruino declarations); returns tsc's output. */
function typecheckFirmware(source: string): string {
  const dir = mkdtempSync(join(ROOT, "firmware", ".tc-"));
  writeFileSync(join(dir, "snippet.ts"), source + "\nexport {};\n");
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../tsconfig.json", include: ["./snippet.ts", "../types/*.d.ts"], compilerOptions: { noUnusedLocals: false } }),
  );
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8", stdio: "pipe" });
    return "";
  } catch (e: any) {
    return String(e.stdout) + String(e.stderr);
  } finally {
    execFileSync("rm", ["-rf", dir]);
  }
}

describe("Espruino declarations", function () {
  this.timeout(60000);
  it("firmware/types/espruino.d.ts is what tools/gen-dts.ts generates from api.json", () => {
    assert.equal(readFileSync(join(ROOT, "firmware", "types", "espruino.d.ts"), "utf8"), generate(), "run npm run gen:types");
  });

  it("declares the board's globals, pins and modules", () => {
    const out = typecheckFirmware(`
      const t: number = getTime();
      D2.write(true); const v: boolean = D5.read(); analogWrite(D4, 0.5, { freq: 1000 });
      const p = Pin("D13"); if (p !== undefined) p.set();
      const id = setWatch(function (e) { print(e.state, e.time); }, D0, { repeat: true, edge: "both", debounce: 25 });
      clearWatch(id);
      const s = require("net").connect({ host: "h", port: 8010 }, function () {});
      s.on("data", function (d) { print(d); }); const ok: boolean = s.write("x");
      require("Storage").write("a", "b"); const r = require("Storage").read("a");
      require("Wifi").connect("ssid", { password: "pw" }, function (err: any) { print(err); });
      E.kickWatchdog(); const m = process.memory(); print(m, r, ok, t, v);
      const found = [1, 2].find(function (x) { return x > 1; }); print(found, "ab".startsWith("a"), Object.assign({}, {}));
    `);
    assert.equal(out, "");
  });

  for (const [what, code, re] of [
    ["Map", "const m = new Map();", /Cannot find name 'Map'/],
    ["Set", "const s = new Set();", /Cannot find name 'Set'/],
    ["Symbol", "const s = Symbol('x');", /'Symbol' only refers to a type|Cannot find name 'Symbol'/],
    ["Promise.allSettled", "Promise.allSettled([]);", /allSettled/],
    ["Buffer", "const b = Buffer.from('x');", /Cannot find name 'Buffer'/],
    ["a Node module", "const fs = require('fs');", /fs/],
    ["a missing Storage method", "require('Storage').writeFile('a', 'b');", /writeFile/],
    ["Array.from", "const a = Array.from([1]);", /Property 'from' does not exist/],
  ] as [string, string, RegExp][]) {
    it(`makes ${what} a type error`, () => {
      const out = typecheckFirmware(code);
      assert.match(out, re, out || "tsc reported no error");
    });
  }
});
