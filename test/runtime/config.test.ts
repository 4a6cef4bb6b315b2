import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { RANGES, Scope, packRanges, scopeChar, validateConfig } from "../../firmware/runtime/config";
import { boardInfo } from "./fakes";

const esp32 = boardInfo("esp32");
const esp8266 = boardInfo("esp8266");
const example = () => JSON.parse(readFileSync("examples/device.json", "utf8"));
const example8266 = () => JSON.parse(readFileSync("examples/device-esp8266.json", "utf8"));

function expectError(cfg: any, board: typeof esp32, field: string, reason: RegExp) {
  const errs = validateConfig(cfg, board);
  const hit = errs.find((e) => e.startsWith(field + ":"));
  assert.ok(hit, `expected an error on ${field}, got ${JSON.stringify(errs)}`);
  assert.match(hit!, reason);
}

describe("runtime/config validateConfig", () => {
  it("accepts the example configs on their boards", () => {
    assert.deepEqual(validateConfig(example(), esp32), []);
    assert.deepEqual(validateConfig(example8266(), esp8266), []);
  });
  it("accepts the boards/*.json reserved map as well as a list", () => {
    const b: any = { ...esp32, reserved: { D6: "flash" } };
    const c = example();
    c.outputs[0].pin = "D6";
    expectError(c, b, "outputs[0].pin", /reserved \(flash\)/);
  });
  it("rejects a non-object", () => {
    assert.deepEqual(validateConfig(null, esp32), ["config: must be a JSON object"]);
    assert.equal(validateConfig([], esp32).length, 1);
  });
  it("reports a missing server, id, bad port", () => {
    const c = example();
    delete c.server;
    delete c.id;
    const errs = validateConfig(c, esp32);
    assert.ok(errs.some((e) => e.startsWith("server: missing")));
    assert.ok(errs.some((e) => e.startsWith("id: missing")));
    const d = example();
    d.server.port = 70000;
    expectError(d, esp32, "server.port", /between 1 and 65535/);
    d.server.port = "8010";
    expectError(d, esp32, "server.port", /number/);
    const e = example();
    delete e.server.token;
    expectError(e, esp32, "server", /token or auth/);
    e.server.auth = { client_name: "x" };
    assert.deepEqual(validateConfig(e, esp32), []);
  });
  it("rejects an unknown pin", () => {
    const c = example();
    c.inputs[0].pin = "D99";
    expectError(c, esp32, "inputs[0].pin", /^inputs\[0\]\.pin: D99 is not a pin of esp32$/);
  });
  it("rejects analog on a pin that cannot read analog", () => {
    const c = example();
    c.inputs[1].pin = "D4";
    expectError(c, esp32, "inputs[1].pin", /cannot read analog/);
  });
  it("rejects an input-only pin used as output", () => {
    const c = example();
    c.inputs[1].pin = "D32";
    c.outputs[0].pin = "D35";
    expectError(c, esp32, "outputs[0].pin", /input-only/);
  });
  it("rejects a reserved pin and a pin without PWM", () => {
    const c = example();
    c.outputs[0].pin = "D1";
    c.outputs[1].pin = "D34";
    c.inputs[1].pin = "D33";
    expectError(c, esp32, "outputs[0].pin", /reserved/);
    expectError(c, esp32, "outputs[1].pin", /input-only/);
    c.outputs[1].pin = "D1".replace("1", "3");
    expectError(c, esp32, "outputs[1].pin", /reserved/);
    const d = example8266();
    d.outputs[1].pin = "D16";
    expectError(d, esp8266, "outputs[1].pin", /no PWM/);
  });
  it("rejects a watched input on a pin that cannot be watched (esp8266 D16)", () => {
    const c = example8266();
    c.inputs[0].pin = "D16";
    expectError(c, esp8266, "inputs[0].pin", /cannot be watched/);
  });
  it("rejects duplicate names and a pin used twice", () => {
    const c = example();
    c.outputs[0].name = "button";
    c.outputs[1].pin = "D13";
    expectError(c, esp32, "outputs[0].name", /duplicate name button/);
    expectError(c, esp32, "outputs[1].pin", /already used by inputs\[2\]/);
  });
  it("rejects bad numbers and unknown types", () => {
    const c = example();
    c.inputs[1].period = -5;
    c.inputs[1].precision = 1.5;
    c.inputs[2].debounce = "x";
    c.inputs[3].type = "humidity";
    c.outputs[1].safe = 2;
    c.safeMs = "soon";
    expectError(c, esp32, "inputs[1].period", /between/);
    expectError(c, esp32, "inputs[1].precision", /whole number/);
    expectError(c, esp32, "inputs[2].debounce", /number/);
    expectError(c, esp32, "inputs[3].type", /unknown input type "humidity"/);
    expectError(c, esp32, "outputs[1].safe", /between 0 and 1/);
    expectError(c, esp32, "safeMs", /number/);
  });
  it("keeps the tick within 1 s: it is the client's timer too", () => {
    for (const tick of [50, 1000]) assert.deepEqual(validateConfig({ ...example(), tick }, esp32), [], "tick " + tick);
    for (const tick of [49, 1001, 60000]) expectError({ ...example(), tick }, esp32, "tick", /between 50 and 1000/);
  });
  it("rejects a temperature input on a board without a sensor", () => {
    const c = example8266();
    c.inputs[3] = { name: "t", type: "temperature", period: 1000 };
    expectError(c, esp8266, "inputs[3].type", /no temperature sensor/);
  });
  it("requires a period for periodic inputs and none for digital", () => {
    const c = example();
    delete c.inputs[1].period;
    c.inputs[0].period = 100;
    expectError(c, esp32, "inputs[1].period", /missing/);
    expectError(c, esp32, "inputs[0].period", /not for digital/);
  });
  it("rejects the name status, bad allow lists and bad group", () => {
    const c = example();
    c.inputs[0].name = "status";
    c.allow = ["ok", 3];
    c.group = "$sys";
    expectError(c, esp32, "inputs[0].name", /status is reserved/);
    expectError(c, esp32, "allow[1]", /client id/);
    expectError(c, esp32, "group", /\$/);
  });
});

describe("runtime/config validateConfig: sensor inputs (issue 13)", () => {
  const base = () => {
    const c = example();
    c.inputs = [];
    c.outputs = [];
    return c;
  };
  const withInputs = (...inputs: any[]) => {
    const c = base();
    c.inputs = inputs;
    return c;
  };
  it("accepts examples/device-sensors.json on esp32 (the validator, and the build's check of it)", async () => {
    const { validateForBoard } = await import("../../tools/build");
    const { loadBoard } = await import("../../tools/api");
    const c = JSON.parse(readFileSync("examples/device-sensors.json", "utf8"));
    assert.deepEqual(validateConfig(c, esp32), []);
    assert.deepEqual(await validateForBoard(c, loadBoard("esp32")), []);
  });
  it("accepts each type with its fields, period defaulting", () => {
    const c = withInputs(
      { name: "air", type: "bme280", sda: "D21", scl: "D22", addr: 118, osr: 3, precision: { t: 1, p: 1, h: 0 }, deadband: { t: 0.2, p: 0.5, h: 1 } },
      { name: "baro", type: "bmp280", sda: "D21", scl: "D22", addr: 119, period: 1000 },
      { name: "water", type: "ds18b20", pin: "D4", rom: ["282b4a4e03160432"], res: 12, precision: 2, deadband: 0.1 },
      { name: "room", type: "dht22", pin: "D5", period: 2000 },
      { name: "dry", type: "dht11", pin: "D18", period: 1000 },
    );
    assert.deepEqual(validateConfig(c, esp32), []);
  });
  it("checks the pins against the board: missing, unknown, reserved, input-only, unwatchable, used twice", () => {
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21" }), esp32, "inputs[0].scl", /missing/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D99", scl: "D22" }), esp32, "inputs[0].sda", /not a pin of esp32/);
    expectError(withInputs({ name: "a", type: "ds18b20", pin: "D6" }), esp32, "inputs[0].pin", /reserved/);
    expectError(withInputs({ name: "a", type: "ds18b20", pin: "D34" }), esp32, "inputs[0].pin", /input-only/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D4", scl: "D39" }), esp32, "inputs[0].scl", /input-only/);
    expectError(withInputs({ name: "a", type: "dht22", pin: "D16" }), esp8266, "inputs[0].pin", /cannot be watched on esp8266/);
    expectError(withInputs({ name: "a", type: "dht22", pin: "D5" }, { name: "b", type: "ds18b20", pin: "D5" }), esp32, "inputs[1].pin", /already used by inputs\[0\]/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22" }, { name: "b", type: "digital", pin: "D22" }), esp32, "inputs[1].pin", /already used/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22" }, { name: "b", type: "bme280", sda: "D21", scl: "D23", addr: 119 }), esp32, "inputs[1].sda", /already used/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D21" }), esp32, "inputs[0].scl", /already used/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22", pin: "D4" }), esp32, "inputs[0].pin", /not for bme280/);
  });
  it("two chips on one sda/scl pair need two addresses", () => {
    assert.deepEqual(validateConfig(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22" }, { name: "b", type: "bmp280", sda: "D21", scl: "D22", addr: 119 }), esp32), []);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22" }, { name: "b", type: "bmp280", sda: "D21", scl: "D22" }), esp32, "inputs[1].addr", /118 is already used on that bus by inputs\[0\]/);
  });
  it("addr, osr, res ranges; period minimum per type", () => {
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22", addr: 0x40 }), esp32, "inputs[0].addr", /between 118 and 119/);
    expectError(withInputs({ name: "a", type: "bme280", sda: "D21", scl: "D22", osr: 6 }), esp32, "inputs[0].osr", /whole number between 1 and 5/);
    expectError(withInputs({ name: "a", type: "ds18b20", pin: "D4", res: 8 }), esp32, "inputs[0].res", /between 9 and 12/);
    expectError(withInputs({ name: "a", type: "dht22", pin: "D4", period: 1500 }), esp32, "inputs[0].period", /between 2000 and/);
    expectError(withInputs({ name: "a", type: "dht11", pin: "D4", period: 500 }), esp32, "inputs[0].period", /between 1000 and/);
    expectError(withInputs({ name: "a", type: "ds18b20", pin: "D4", period: 500 }), esp32, "inputs[0].period", /between 1000 and/);
    assert.deepEqual(validateConfig(withInputs({ name: "a", type: "dht11", pin: "D4", period: 1000 }), esp32), []);
  });
  it("rejects a bad precision, deadband or rom of a sensor input (the config command and boot refuse them too)", async () => {
    const { validateForBoard } = await import("../../tools/build");
    const { loadBoard } = await import("../../tools/api");
    const air = (o: any) => withInputs({ name: "air", type: "bme280", sda: "D21", scl: "D22", ...o });
    const water = (o: any) => withInputs({ name: "w", type: "ds18b20", pin: "D4", ...o });
    assert.deepEqual(validateConfig(air({ precision: { t: 1, p: 0, h: 2 }, deadband: 0.5 }), esp32), []);
    assert.deepEqual(validateConfig(air({ precision: 3, deadband: { t: 0.2, h: 2 } }), esp32), []);
    expectError(air({ precision: 7 }), esp32, "inputs[0].precision", /^inputs\[0\]\.precision: must be a whole number between 0 and 6$/);
    expectError(air({ precision: { t: 1.5 } }), esp32, "inputs[0].precision.t", /whole number between 0 and 6/);
    expectError(air({ precision: "2" }), esp32, "inputs[0].precision", /whole number/);
    expectError(air({ deadband: { p: -1 } }), esp32, "inputs[0].deadband.p", /number between 0 and 1e9/);
    expectError(air({ deadband: { h: "1" } }), esp32, "inputs[0].deadband.h", /number between/);
    expectError(withInputs({ name: "r", type: "dht22", pin: "D5", period: 2000, deadband: "1" }), esp32, "inputs[0].deadband", /number between/);
    expectError(withInputs({ name: "r", type: "dht11", pin: "D5", period: 2000, precision: null }), esp32, "inputs[0].precision", /whole number/);
    // an object is per quantity for sensors only: an analog input's precision stays one number
    expectError(withInputs({ name: "a", type: "analog", pin: "D34", period: 1000, precision: { t: 1 } }), esp32, "inputs[0].precision", /whole number/);
    assert.deepEqual(validateConfig(water({ rom: ["282b4a4e03160432"] }), esp32), []);
    assert.deepEqual(validateConfig(water({ rom: ["282b4a4e03160432", "281111111111117e"] }), esp32), []);
    const romErr = /^inputs\[0\]\.rom: must be ds18b20 ROM ids \(16 lower-case hex digits, 28 first, valid CRC\)$/;
    for (const rom of [["282b4a4e03160433"], ["102b4a4e03160432"], ["282B4A4E03160432"], ["28zz4a4e03160432"], ["282b4a4e0316043"], [], "282b4a4e03160432", [null], [282], [["282b4a4e03160432"]], ["282b4a4e03160432", "x"]])
      expectError(water({ rom }), esp32, "inputs[0].rom", romErr);
    expectError(withInputs({ name: "r", type: "dht22", pin: "D5", period: 2000, rom: ["282b4a4e03160432"] }), esp32, "inputs[0].rom", romErr);
    // a bad field makes the input one the runtime skips (boot), and the build and flashing refuse it
    const bad: any = {};
    validateConfig(water({ rom: ["28zz4a4e03160432"] }), esp32, bad);
    assert.deepEqual(Object.keys(bad), ["inputs[0]"]);
    assert.deepEqual(await validateForBoard(water({ rom: ["28zz4a4e03160432"] }), loadBoard("esp32")), ["inputs[0].rom: must be ds18b20 ROM ids (16 lower-case hex digits, 28 first, valid CRC)"]);
  });
});

describe("runtime/config: the numeric ranges are a typed table the build packs", () => {
  it("packRanges writes each rule as the validator reads it, powers of ten from 1e6 as 1e<n>", () => {
    assert.equal(
      packRanges([
        { field: "port", min: 1, max: 65535, scopes: [Scope.Server], whole: true },
        { field: "scale", min: -1e9, max: 1e9, scopes: [Scope.Analog, Scope.Rssi] },
        { field: "precision", min: 0, max: 6, scopes: [Scope.Bme280], whole: true, perQuantity: true },
        { field: "freq", min: 1, max: 40000000, scopes: [Scope.PwmOut] },
      ]),
      "port 1 65535 " + scopeChar(Scope.Server) + " i,scale -1e9 1e9 " + scopeChar(Scope.Analog) + scopeChar(Scope.Rssi) +
        ",precision 0 6 " + scopeChar(Scope.Bme280) + " iq,freq 1 40000000 " + scopeChar(Scope.PwmOut),
    );
  });

  it("a rule of the table is what the validator enforces, message and all", () => {
    const r = RANGES.find((x) => x.field === "debounce")!;
    const cfg = example();
    const button = cfg.inputs.find((i: any) => i.type === "digital");
    button.debounce = r.max + 1;
    expectError(cfg, esp32, "inputs[0].debounce", new RegExp(`must be a number between ${r.min} and ${r.max}$`));
    button.debounce = r.max;
    assert.deepEqual(validateConfig(cfg, esp32), []);
  });

  for (const board of ["esp8266", "esp32"])
    it(`${board}: the bundle holds the packed table as one string literal, and none of the table's objects`, () => {
      const min = readFileSync(`dist/${board}.js`, "utf8");
      assert.ok(min.includes(JSON.stringify(packRanges(RANGES))), "the packed rows, as packRanges writes them");
      assert.ok(!/perQuantity|scopes/.test(min), "no object of the table");
    });
});
