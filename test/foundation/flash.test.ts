// npm run flash -- --dry-run: the real `espruino` tool, offline, writes exactly what it would send.
// The test replays that upload against a fake Storage and checks the board would end up with
// dist/<board>.js as `.bootcde`, the config as `jmqt.json` and the OTA files `.boot1`, `jmqt.otr`.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vm from "node:vm";
import { ROOT } from "../../tools/api";
import { flash } from "../../tools/flash";

/** Runs the upload text as the board would, with a Storage that records writes. */
function replayUpload(text: string): { files: Record<string, string>; loaded: string[] } {
  const files: Record<string, string> = {};
  const loaded: string[] = [];
  const Storage = {
    write(name: string, data: string, offset?: number, size?: number) {
      if (offset === undefined || offset === 0) files[name] = "";
      const cur = files[name];
      files[name] = cur.slice(0, offset || 0) + data + cur.slice((offset || 0) + data.length);
      if (size !== undefined) assert.ok(size >= files[name].length, "declared size too small");
      return true;
    },
  };
  const context = vm.createContext({
    require: (m: string) => {
      assert.equal(m, "Storage");
      return Storage;
    },
    atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
    load: (f: string) => loaded.push(f),
  });
  vm.runInContext(text, context);
  return { files, loaded };
}

describe("flashing (espruino tool, dry run)", function () {
  this.timeout(120000);
  const config = JSON.parse(readFileSync(join(ROOT, "examples", "device.json"), "utf8"));

  for (const board of ["esp32", "esp8266"]) {
    it(`${board}: writes the bundle to Storage .bootcde and the config as jmqt.json, offline`, async () => {
      const out = join(mkdtempSync(join(tmpdir(), "flash-")), "upload.js");
      const cfg = board === "esp8266" ? JSON.parse(readFileSync(join(ROOT, "examples", "device-esp8266.json"), "utf8")) : config;
      const r = await flash({ board, config: cfg, dryRun: out, quiet: true });
      assert.ok(!r.args.includes("-p"), "a dry run must not open a port");
      const { files, loaded } = replayUpload(readFileSync(out, "latin1"));
      assert.equal(files[".bootcde"], readFileSync(join(ROOT, "dist", board + ".bootcde"), "latin1"), "the pretokenised bundle");
      assert.deepEqual(JSON.parse(files["jmqt.json"]), cfg);
      assert.equal(files[".boot1"], readFileSync(join(ROOT, "dist", "boot1.js"), "latin1"), "the OTA boot guard");
      assert.equal(files["jmqt.otr"], readFileSync(join(ROOT, "dist", board + ".ota.js"), "latin1"), "the OTA receiver");
      assert.deepEqual(loaded, [".bootcde"]);
    });
  }

  it("refuses a config that is not valid for the board, naming the field", async () => {
    const bad = JSON.parse(JSON.stringify(config));
    bad.inputs = [{ name: "x", type: "analog", pin: "D99" }];
    await assert.rejects(flash({ board: "esp32", config: bad, dryRun: "/dev/null", quiet: true, noBuild: true }), /D99/);
  });

  it("writes drv.run, drv.bus and the drivers of the sensor types the config names (none without sensors, all without a config)", async () => {
    const { sensorFiles } = await import("../../tools/flash");
    assert.deepEqual(sensorFiles(config), []);
    assert.deepEqual(sensorFiles(undefined), ["drv.run", "drv.bus", "drv.bme280", "drv.ds18b20", "drv.dht"]);
    const sensors = JSON.parse(readFileSync(join(ROOT, "examples", "device-sensors.json"), "utf8"));
    assert.deepEqual(sensorFiles(sensors), ["drv.run", "drv.bus", "drv.bme280", "drv.ds18b20", "drv.dht"]);
    assert.deepEqual(sensorFiles({ inputs: [{ type: "dht11" }, { type: "uptime" }] }), ["drv.run", "drv.bus", "drv.dht"]);
    const out = join(mkdtempSync(join(tmpdir(), "flash-")), "upload.js");
    const cfg = { ...sensors, inputs: sensors.inputs.filter((i: any) => i.type === "bmp280" || i.type === "uptime") };
    const r = await flash({ board: "esp32", config: cfg, dryRun: out, quiet: true, noBuild: true });
    assert.deepEqual(r.files, ["jmqt.json", ".boot1", "jmqt.otr", "drv.run", "drv.bus", "drv.bme280"]);
    const { files } = replayUpload(readFileSync(out, "latin1"));
    for (const n of ["run", "bus", "bme280"]) assert.equal(files["drv." + n], readFileSync(join(ROOT, "dist", `esp32.drv.${n}.js`), "latin1"), "drv." + n);
    assert.equal(files["drv.dht"], undefined);
  });

  it("refuses to run without a port or --dry-run", async () => {
    await assert.rejects(flash({ board: "esp32", quiet: true, noBuild: true }), /--port/);
  });

  it("the npm script works from the command line (npm run flash -- --dry-run)", () => {
    const out = join(mkdtempSync(join(tmpdir(), "flash-")), "up.js");
    const text = execFileSync("npm", ["run", "--silent", "flash", "--", "--board", "esp32", "--config", "examples/device.json", "--no-build", "--dry-run", out], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.match(text, /dry run: wrote/);
    assert.match(readFileSync(out, "latin1"), /require\("Storage"\)\.write\("\.bootcde"/);
  });
});
