// Sensors end to end (issue 13), the same test bodies on BOTH engines: the BUILT bundle and
// driver files (built here from the current sources) in the V8 simulator, whose realm's I2C /
// OneWire / digitalPulse + setWatch reach the virtual chips of sim/hw/buses.ts, and the same files
// flashed to the real Espruino interpreter (sim/espruino/board.ts), whose .boot2
// (sim/espruino/buses.js) sends each bus transaction to the same chip models on the host.
// Readings go through the real broker over loopback TCP to a Node-side subscriber. Faults
// (unplugged, a wrong chip, corrupt frames, CRC errors) show in `status` `se` and on the retained
// status channel, and the other inputs keep publishing.
//
// On the real engine time is real, so the periods are short (2 s, the DHT22's minimum). The
// esp32 scenario runs on espruino-esp32 (5000 blocks); the esp8266 scenario (three sensors and a
// memory input) runs the esp8266 bundle on espruino-large, because on espruino-esp8266 the three
// sensors and the bus emulation (about 100 blocks a real board does not spend) run out of its
// 1600 blocks; a two-sensor device on espruino-esp8266 is tested at the end.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard, buildDrivers } from "../../tools/build";
import { SimBoard } from "../../sim";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, espruinoBinary, espruinoMissing, hasEspruino, type EspruinoBuild } from "../../sim/espruino/board";
import type { Device } from "../../sim/device";
import { ST_OK } from "../../firmware/jmqt/api";
import { Peer } from "../jmqt/client-peer";
import { p2p } from "../../firmware/jmqt/client";

const TOKEN = "tok";
const WIFI = { ssid: "net", password: "pw" };
const BAD = /Uncaught|MEMORY|ASSERT/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const code: Record<string, string> = {};
const drivers: Record<string, Record<string, string>> = {};
let built: Promise<void> | null = null;

/** the bundle and driver files of both boards, built once from the current sources (the V8 engine runs them as built; the real engine's flash dry run reads dist/) */
function build(): Promise<void> {
  if (!built)
    built = (async () => {
      const out = mkdtempSync(join(tmpdir(), "jmqt-sensors-"));
      for (const b of ["esp32", "esp8266"]) {
        code[b] = readFileSync((await buildBoard({ board: b, outDir: out })).files.min, "latin1");
        drivers[b] = {};
        for (const d of await buildDrivers(b, out)) drivers[b][d.storage] = d.min;
      }
    })();
  return built;
}


/** the ROM id of a VirtualDs18b20 with the default serial (family 28, CRC valid) */
const ROM1 = "282b4a4e03160432";

type Engine = "v8" | "espruino";
/** the interpreter a scenario of this board runs on, on the real engine */
const REAL: Record<"esp32" | "esp8266", EspruinoBuild> = { esp32: "esp32", esp8266: "large" };

/** what a test body gets: the engine's board (sensors wired before boot) and the broker's helpers */
interface Rig {
  engine: Engine;
  broker: Broker;
  /** a board with this config, not booted yet: wire dev.sensors, then await dev.boot() */
  board(board: "esp32" | "esp8266", cfg: any, build?: EspruinoBuild): Device;
  peer(subs: string[]): Promise<Peer>;
  until(what: string, pred: () => boolean, maxMs?: number): Promise<void>;
  ask(p: Peer, dt: any): Promise<any>;
  config(inputs: any[]): any;
}

function rig(engine: Engine): Rig & { cleanup(): Promise<void> } {
  const r: any = { engine };
  let dev: Device | null = null;
  const peers: Peer[] = [];
  r.config = (inputs: any[]) => ({ id: "dev", prefix: "d/", server: { host: "127.0.0.1", port: r.broker.port, token: TOKEN }, wifi: WIFI, inputs });
  r.board = (board: "esp32" | "esp8266", cfg: any, build: EspruinoBuild = REAL[board]) => {
    if (engine === "v8") {
      const storage: Record<string, string> = { "jmqt.json": JSON.stringify(cfg), ...drivers[board] };
      dev = new SimBoard({ board, code: code[board], storage, wifi: WIFI });
    } else dev = new EspruinoBoard({ board, config: cfg, binary: espruinoBinary(build), wifi: { rssi: -60 } });
    return dev;
  };
  r.peer = async (subs: string[]) => {
    const p = new Peer(r.broker.port, "admin");
    peers.push(p);
    await p.start(subs);
    return p;
  };
  r.until = async (what: string, pred: () => boolean, maxMs = 60000) =>
    assert.ok(await dev!.waitFor(pred, maxMs), "timed out waiting for " + what + "\n" + dev!.console.slice(-10).join("\n"));
  r.ask = async (p: Peer, dt: any) => {
    const n = p.on("#admin").length;
    assert.equal(p2p(p.c, "dev", dt, 1), ST_OK);
    await r.until("reply to " + JSON.stringify(dt), () => p.on("#admin").length > n, 20000);
    return p.on("#admin")[n].dt;
  };
  r.cleanup = async () => {
    if (dev) await dev.stop();
    dev = null;
    for (const p of peers.splice(0)) await p.stop();
  };
  return r;
}

/** Every sensor type on one esp32: the model's values arrive; a BME280 unplugged, a corrupt DHT
 *  frame and a DS18B20 CRC error show in se (command and retained channel) and are survived. */
async function everyType(t: Rig): Promise<void> {
  const s = t.board("esp32", t.config([
    { name: "air", type: "bme280", sda: "D21", scl: "D22", period: 2000, precision: { t: 1, p: 1, h: 0 } },
    { name: "baro", type: "bmp280", sda: "D21", scl: "D22", addr: 119, period: 2000 },
    { name: "water", type: "ds18b20", pin: "D4", period: 2000 },
    { name: "one", type: "ds18b20", pin: "D15", rom: [ROM1], res: 11, period: 2000 },
    { name: "room", type: "dht22", pin: "D5", period: 2000 },
    { name: "dry", type: "dht11", pin: "D18", period: 2000, precision: 0 },
    { name: "up", type: "uptime", period: 2000 },
  ]));
  const bme = s.sensors.addBme280("D21", "D22", { t: 22.3, p: 1001.2, h: 40.9 });
  s.sensors.addBme280("D21", "D22", { addr: 0x77, chip: "bmp280", t: 18.25, p: 990.4 });
  const w1 = s.sensors.addDs18b20("D4", { serial: 0x111111111111, t: 19.5 });
  const w2 = s.sensors.addDs18b20("D4", { serial: 0x222222222222, t: -3.25 });
  const one = s.sensors.addDs18b20("D15", { t: 21.5 });
  assert.equal(one.id, ROM1);
  const dht = s.sensors.addDht("D5", { t: 23.4, h: 51.2 });
  s.sensors.addDht("D18", { type: 11, t: 24, h: 38 });
  await s.boot();
  const P = "d/";
  const names = ["status", "air", "baro", "water", "one", "room", "dry", "up"];
  const a = await t.peer(names.map((n) => P + n));
  await t.until("first readings", () => names.every((n) => a.on(P + n).length > 0), 30000);
  assert.deepEqual(a.on(P + "status")[0].dt, { online: 1, id: "dev", fw: a.on(P + "status")[0].dt.fw });
  assert.deepEqual(a.last(P + "air"), { t: 22.3, p: 1001.2, h: 41 });
  assert.deepEqual(a.last(P + "baro"), { t: 18.25, p: 990.4 });
  assert.deepEqual(a.last(P + "water"), { [w1.id]: 19.5, [w2.id]: -3.25 });
  assert.equal(a.last(P + "one"), 21.5);
  assert.equal(one.res, 11, "res written to the sensor");
  assert.deepEqual(a.last(P + "room"), { t: 23.4, h: 51.2 });
  assert.deepEqual(a.last(P + "dry"), { t: 24, h: 38 });
  assert.deepEqual((await t.ask(a, { cmd: "get", id: "g1", target: "air" })).v, { t: 22.3, p: 1001.2, h: 41 });
  const st0 = await t.ask(a, { cmd: "status", id: "s0" });
  assert.equal(st0.se, undefined);
  // the config command refuses a bad rom, precision or deadband (the device's own validator)
  const refused = await t.ask(a, { cmd: "config", id: "c0", set: { inputs: [
    { name: "one", type: "ds18b20", pin: "D15", rom: ["282b4a4e03160433"], period: 2000 },
    { name: "air", type: "bme280", sda: "D21", scl: "D22", period: 2000, precision: { t: 1.5 }, deadband: { p: -1 } },
  ] } });
  assert.equal(refused.ok, 0);
  assert.equal(refused.err, "invalid config: inputs[0].rom: must be ds18b20 ROM ids (16 lower-case hex digits, 28 first, valid CRC); " +
    "inputs[1].deadband.p: must be a number between 0 and 1e9; inputs[1].precision.t: must be a whole number between 0 and 6");

  // the BME280 goes away: se on status (command and retained channel), the others go on
  bme.unplug();
  dht.corrupt = 1000;
  one.corrupt = 1000;
  const nStatus = a.on(P + "status").length;
  await t.until("status with se", () => a.on(P + "status").length > nStatus && !!a.last(P + "status").se, 20000);
  await s.sleep(3000);
  const st1 = await t.ask(a, { cmd: "status", id: "s1" });
  assert.deepEqual(st1.se, { air: "no answer at 0x76", one: "crc error", room: "checksum" });
  assert.deepEqual(a.last(P + "status").se, st1.se, "the retained status carries se");
  assert.equal((await t.ask(a, { cmd: "get", id: "g2", target: "air" })).v, null);
  const nUp = a.on(P + "up").length;
  const nWater = a.on(P + "water").length;
  const nAir = a.on(P + "air").length;
  await s.sleep(6000);
  assert.ok(a.on(P + "up").length >= nUp + 2, "uptime keeps publishing");
  assert.ok(a.on(P + "water").length >= nWater + 2, "the working DS18B20s keep publishing");
  assert.equal(a.on(P + "air").length, nAir, "nothing published for the failing sensor");
  assert.equal((await t.ask(a, { cmd: "ping", id: "p1" })).ok, 1, "commands still answered");

  // back: the first good readings republish the status, without se once all are good
  bme.plug();
  bme.set({ t: 25.04 });
  dht.corrupt = 0;
  one.corrupt = 0;
  await t.until("recovered", () => a.last(P + "status").se === undefined && a.last(P + "air").t === 25, 20000);
  const st2 = await t.ask(a, { cmd: "status", id: "s2" });
  assert.equal(st2.se, undefined);
  assert.deepEqual(s.console.filter((l) => BAD.test(l)), []);
}

/** esp8266 pins: a wrong chip, a DS18B20 that drops off, a truncated DHT frame, deadband per quantity. */
async function faults(t: Rig): Promise<void> {
  const s = t.board("esp8266", t.config([
    { name: "air", type: "bme280", sda: "D4", scl: "D5", period: 2000, deadband: { t: 0.5, p: 100, h: 100 } },
    { name: "water", type: "ds18b20", pin: "D2", rom: [ROM1], period: 2000 },
    { name: "room", type: "dht22", pin: "D12", period: 2000 },
    { name: "mem", type: "memory", period: 2000 },
  ]));
  const bme = s.sensors.addBme280("D4", "D5", { t: 20, p: 1000, h: 50 });
  const ds = s.sensors.addDs18b20("D2", { t: 30 });
  const dht = s.sensors.addDht("D12", { t: 10, h: 20 });
  await s.boot();
  const P = "d/";
  const a = await t.peer(["status", "air", "water", "room", "mem"].map((n) => P + n));
  await t.until("first readings", () => ["air", "water", "room"].every((n) => a.on(P + n).length > 0), 30000);
  assert.deepEqual(a.last(P + "air"), { t: 20, p: 1000, h: 50 });
  assert.equal(a.last(P + "water"), 30);
  assert.deepEqual(a.last(P + "room"), { t: 10, h: 20 });
  // within the deadband of every quantity: nothing; t moves by 0.6: sent
  bme.set({ t: 20.3, h: 52 });
  await s.sleep(4000);
  assert.equal(a.on(P + "air").length, 1);
  bme.set({ t: 20.6 });
  await t.until("t moved by its deadband", () => a.on(P + "air").length === 2, 10000);
  assert.deepEqual(a.last(P + "air"), { t: 20.6, p: 1000, h: 52 });

  // a BME280 answering with another chip id is found when the driver starts again (after a failure)
  const nMem = a.on(P + "mem").length;
  bme.chipId = 0x55;
  bme.unplug();
  s.sensors.apply("ds18b20", { unplug: true });
  await t.until("se", () => {
    const se = a.last(P + "status").se;
    return !!se && !!se.air && !!se.water;
  }, 20000);
  dht.truncate = 25;
  await t.until("the truncated frame reported", () => a.on(P + "status").some((m) => m.dt.se && m.dt.se.room === "short frame (25 bits)"), 10000);
  assert.equal(a.last(P + "status").se.air, "no answer at 0x76");
  bme.plug();
  await s.sleep(4000);
  const st = await t.ask(a, { cmd: "status", id: "s" });
  assert.equal(st.se.air, "no BME280/BMP280 at 0x76 (chip id 0x55)");
  assert.equal(st.se.water, "no answer");
  assert.equal(st.se.room, undefined, "a truncated frame lasts one reading");
  assert.ok(a.on(P + "mem").length >= nMem + 3, "memory keeps publishing");
  bme.chipId = null;
  s.sensors.apply("ds18b20", { plug: true, set: { t: 31 } });
  await t.until("recovered", () => a.last(P + "status").se === undefined && a.last(P + "water") === 31, 20000);
  assert.ok(ds.conversions > 0);
  assert.deepEqual(s.console.filter((l) => BAD.test(l)), []);
}

/** The ESP8266's own layout (espruino-esp8266 on the real engine, 1600 blocks): two sensors, their
 *  readings, both failing at once and coming back, with the free blocks printed. */
async function twoOnEsp8266(t: Rig): Promise<void> {
  const s = t.board("esp8266", t.config([
    { name: "air", type: "bme280", sda: "D4", scl: "D5", period: 2000 },
    { name: "room", type: "dht22", pin: "D12", period: 2000 },
    { name: "up", type: "uptime", period: 2000 },
  ]), "esp8266");
  const bme = s.sensors.addBme280("D4", "D5", { t: 19.87, p: 1021.3, h: 61.2 });
  const dht = s.sensors.addDht("D12", { t: -4.3, h: 88.1 });
  await s.boot();
  const P = "d/";
  const a = await t.peer(["status", "air", "room", "up"].map((n) => P + n));
  await t.until("first readings", () => a.on(P + "air").length > 0 && a.on(P + "room").length > 0, 30000);
  assert.deepEqual(a.last(P + "air"), { t: 19.87, p: 1021.3, h: 61.2 });
  assert.deepEqual(a.last(P + "room"), { t: -4.3, h: 88.1 });
  const st0 = await t.ask(a, { cmd: "status", id: "s0" });
  assert.equal(st0.se, undefined);
  bme.unplug();
  dht.unplug();
  await t.until("se", () => {
    const se = a.last(P + "status").se;
    return !!se && !!se.air && !!se.room;
  }, 20000);
  const nUp = a.on(P + "up").length;
  await s.sleep(4000);
  const st1 = await t.ask(a, { cmd: "status", id: "s1" });
  assert.deepEqual(st1.se, { air: "no answer at 0x76", room: "no answer" });
  assert.ok(a.on(P + "up").length >= nUp + 1, "uptime keeps publishing");
  bme.plug();
  dht.plug();
  await t.until("recovered", () => a.last(P + "status").se === undefined, 20000);
  const st2 = await t.ask(a, { cmd: "status", id: "s2" });
  console.log(`      ${t.engine}: esp8266 with a BME280 and a DHT22: ${st2.free} of ${st2.tot} blocks free`);
  assert.deepEqual(s.console.filter((l) => BAD.test(l)), []);
}

for (const engine of ["v8", "espruino"] as const) {
  describe(`sensors end to end (${engine} engine: built bundle + driver files, virtual chips, loopback broker)`, function () {
    this.timeout(120000);
    const t = rig(engine);

    before(async function () {
      this.timeout(120000);
      await build();
    });
    beforeEach(async () => {
      t.broker = await startBroker({ port: 0, token: TOKEN });
    });
    afterEach(async () => {
      await t.cleanup();
      await t.broker.close();
    });
    /** skips (one line) when the real engine's interpreter is not there */
    const needs = (ctx: Mocha.Context, build: EspruinoBuild) => {
      if (engine === "espruino" && !hasEspruino(build)) {
        console.log("      real-interpreter tests skipped: " + espruinoMissing(build));
        ctx.skip();
      }
    };

    it(`esp32${engine === "espruino" ? " (espruino-esp32)" : ""}: every sensor type publishes the model's values; faults show in se and are survived`, async function () {
      needs(this, REAL.esp32);
      await everyType(t);
    });

    it(`esp8266${engine === "espruino" ? " (its bundle on espruino-large)" : ""}: a wrong chip, a DS18B20 that drops off, a truncated DHT frame, deadband per quantity`, async function () {
      needs(this, REAL.esp8266);
      await faults(t);
    });

    it(`esp8266${engine === "espruino" ? " (espruino-esp8266, 1600 blocks)" : ""}: a BME280 and a DHT22 read, fail and come back`, async function () {
      needs(this, "esp8266");
      await twoOnEsp8266(t);
    });
  });
}

describe("sensor driver files missing (v8 engine)", function () {
  this.timeout(60000);
  let broker: Broker;
  let sim: SimBoard | null = null;
  const peers: Peer[] = [];

  before(async function () {
    this.timeout(120000);
    await build();
  });
  beforeEach(async () => {
    broker = await startBroker({ port: 0, token: TOKEN });
  });
  afterEach(async () => {
    if (sim) sim.stop();
    sim = null;
    for (const p of peers.splice(0)) await p.stop();
    await broker.close();
  });

  function config(inputs: any[]): any {
    return { id: "dev", prefix: "d/", server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: WIFI, inputs };
  }
  function boot(board: "esp32" | "esp8266", cfg: any, files: string[]) {
    const storage: Record<string, string> = { "jmqt.json": JSON.stringify(cfg) };
    for (const [k, v] of Object.entries(drivers[board])) if (files.includes(k)) storage[k] = v;
    sim = new SimBoard({ board, code: code[board], storage, wifi: WIFI });
    return sim;
  }
  async function peer(subs: string[]) {
    const p = new Peer(broker.port, "admin");
    peers.push(p);
    await p.start(subs);
    return p;
  }
  async function until(what: string, pred: () => boolean, maxMs = 60000) {
    assert.ok(await sim!.runUntil(pred, maxMs, 20), "timed out (virtual) waiting for " + what);
  }

  it("a missing driver file is a config error on status; other inputs still run", async () => {
    const s = boot("esp32", config([
      { name: "air", type: "bme280", sda: "D21", scl: "D22", period: 2000 },
      { name: "room", type: "dht22", pin: "D5", period: 2000 },
      { name: "up", type: "uptime", period: 2000 },
    ]), ["drv.run", "drv.bus", "drv.dht"]);
    s.sensors.addDht("D5", { t: 23.4, h: 51.2 });
    s.boot();
    const a = await peer(["d/status", "d/room", "d/up"]);
    await until("readings", () => a.on("d/room").length > 0 && a.on("d/up").length > 0, 20000);
    assert.deepEqual(a.on("d/status")[0].dt.err, ["inputs[0]: driver drv.bme280 not in Storage, flash it"]);
  });

  it("without drv.run in Storage, a sensor input is a config error", async () => {
    const s2 = boot("esp32", config([{ name: "room", type: "dht22", pin: "D5", period: 2000 }]), []);
    s2.boot();
    const b = await peer(["d/status"]);
    await until("status", () => b.on("d/status").length > 0, 20000);
    assert.deepEqual(b.last("d/status").err, ["inputs[0]: driver drv.run not in Storage, flash it"]);
  });
});
