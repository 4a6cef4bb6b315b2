// The scenario runner on the shipped examples, on both engines (sim/device.ts): "v8" (SimBoard,
// virtual time) and "espruino" (the real interpreter, real time: skipped with one line when it
// is not there), and on expectations that must fail.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { runScenario } from "../../sim";
import { ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";

const BUTTON_WIFI = path.join(__dirname, "../../examples/scenarios/button-wifi.json");
const FIRMWARE_WIFI_DROP = path.join(__dirname, "../../examples/scenarios/firmware-wifi-drop.json");
const SENSORS = path.join(__dirname, "../../examples/scenarios/sensors.json");

describe("sim scenarios", () => {
  it("runs examples/scenarios/button-wifi.json and every expectation holds", async () => {
    const r = await runScenario(BUTTON_WIFI);
    assert.deepEqual(r.failures, []);
    assert.equal(r.results.length, 12);
    assert.equal(r.engine, "v8");
    assert.equal(r.timeScale, 1, "the scenario's timeScale is for the real engine only");
  });

  it("runs examples/scenarios/firmware-wifi-drop.json (the firmware, a broker the runner starts) and every expectation holds", async () => {
    const r = await runScenario(FIRMWARE_WIFI_DROP);
    assert.deepEqual(r.failures, [], r.console.slice(-20).join("\n"));
    assert.equal(r.results.length, 14);
  });

  it("runs examples/scenarios/sensors.json (I2C, 1-Wire and DHT sensors, unplug and corrupt steps) and every expectation holds", async () => {
    const r = await runScenario(SENSORS);
    assert.deepEqual(r.failures, [], r.console.slice(-20).join("\n"));
    assert.equal(r.results.length, 11);
  });

  it("a scaled run: times and scaled counts shrink together (v8 at timeScale 0.05, with the real engine's grace)", async () => {
    // the simulated WiFi join takes 1200 ms, longer than 3000 ms scaled: graceMs lets it finish
    const r = await runScenario(BUTTON_WIFI, { timeScale: 0.05, graceMs: 2000 });
    assert.deepEqual(r.failures, []);
    assert.ok(r.board.now() >= 30000 && r.board.now() < 31000, `ran ${r.board.now()} ms`);
    assert.equal((await runScenario(BUTTON_WIFI, { timeScale: 0.05 })).passed, false, "without grace, the join is not done 150 ms in");
  });

  it("reports an expectation that does not hold", async () => {
    const r = await runScenario({
      board: "esp32",
      code: "setInterval(function () { D2.toggle(); }, 1000);",
      durationMs: 5000,
      expect: [{ changes: { pin: "D2", min: 10 } }, { output: { pin: "D2", value: 1 } }],
    });
    assert.equal(r.passed, false);
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0], /changes/);
  });

  it("rejects a malformed scenario with a clear error", async () => {
    await assert.rejects(runScenario({ board: "esp99", durationMs: 1 } as any), /board must be/);
    await assert.rejects(runScenario({ board: "esp32", code: "", durationMs: 10, events: [{ do: "wifiDown" } as any] }), /valid at/);
    await assert.rejects(runScenario({ board: "esp32", code: "", durationMs: 10 }, { engine: "node" as any }), /engine must be/);
    await assert.rejects(runScenario({ board: "esp32", code: "", durationMs: 10, expect: [{ brokerSession: true }] }), /need `broker`/);
    // what the real engine's link cannot do is refused before anything starts
    await assert.rejects(
      runScenario({ board: "esp32", code: "", durationMs: 10, events: [{ at: 1, do: "halfOpen" }] }, { engine: "espruino" }),
      /not available on the espruino engine/,
    );
  });
});

describe("sim scenarios on the real Espruino interpreter", function () {
  this.timeout(90000);

  before(function () {
    if (!hasEspruino()) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
  });

  it("button-wifi.json (inline code uploaded as .bootcde, app.json in Storage), 600 s at timeScale 0.045: every expectation holds", async () => {
    const t = Date.now();
    const r = await runScenario(BUTTON_WIFI, { engine: "espruino" });
    assert.deepEqual(r.failures, [], r.console.slice(-20).join("\n"));
    assert.equal(r.results.length, 12);
    assert.equal(r.timeScale, 0.045);
    assert.ok(Date.now() - t < 32000, `took ${Date.now() - t} ms`);
  });

  it("firmware-wifi-drop.json (the flash dry run, config pointed at the runner's broker): every expectation holds", async () => {
    const r = await runScenario(FIRMWARE_WIFI_DROP, { engine: "espruino" });
    assert.deepEqual(r.failures, [], r.console.slice(-20).join("\n"));
    assert.equal(r.results.length, 14);
  });

  it("examples/scenarios/sensors.json's devices and events, shortened: the same SensorBuses answer the interpreter's bus transactions", async () => {
    const sc = JSON.parse(fs.readFileSync(SENSORS, "utf8"));
    const cfg = sc.storage["jmqt.json"];
    for (const i of cfg.inputs) i.period = i.type === "dht22" ? 2000 : 1000;
    sc.durationMs = 12000;
    sc.events = sc.events.map((e: any) => ({ ...e, at: e.at === 10000 ? 5000 : 8000 }));
    sc.expect = sc.expect.map((x: any) => {
      if (x.at === 9000) return { ...x, at: 4500 };
      if (x.at === 17000) return { ...x, at: 7500 };
      if (x.at === 30000) return { ...x, at: 12000 };
      return x.published && x.published.channel === "gh/up" ? { ...x, published: { ...x.published, min: 8 } } : x;
    });
    const r = await runScenario(sc, { engine: "espruino" });
    assert.deepEqual(r.failures, [], r.console.slice(-20).join("\n"));
    assert.equal(r.results.length, 11);
  });

  it("reports an expectation that does not hold, in real time", async () => {
    const r = await runScenario(
      {
        board: "esp8266",
        code: "setInterval(function () { D2.toggle(); }, 100);",
        durationMs: 1000,
        expect: [{ changes: { pin: "D2", min: 50 } }, { output: { pin: "D2", value: 7 } }, { consoleNot: "Uncaught" }],
      },
      { engine: "espruino", graceMs: 200 },
    );
    assert.equal(r.passed, false);
    assert.equal(r.failures.length, 2, r.results.join("\n"));
    assert.match(r.failures[0], /changes/);
    assert.match(r.failures[1], /D2 is [01]/);
  });
});
