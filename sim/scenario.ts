// Scenario runner: a JSON file (or object) describes a board, its Storage/config, sensors, faults
// over time (`at` ms) and expectations; runScenario() plays it and reports which expectations held.
// Two engines (sim/device.ts): "v8" (default) plays it on SimBoard's virtual time; "espruino" on the
// real Espruino interpreter (sim/espruino/board.ts), where `at` times are real milliseconds times
// `timeScale` (the option, else the scenario's own `timeScale`, else 1) and positive expectations
// may take up to `graceMs` longer to hold. See examples/scenarios/*.json and the README.
import * as fs from "node:fs";
import * as path from "node:path";
import { SimBoard, type BoardId, type WifiAP } from "./board";
import { startBroker, type Broker } from "./broker/index";
import { EspruinoBoard, espruinoMissing, hasEspruino } from "./espruino/board";
import type { Device } from "./device";
import type { SensorModel } from "./sensors";

export type ScenarioEngine = "v8" | "espruino";

export type ScenarioEvent = { at: number } & (
  | { do: "wifiDown" | "wifiUp" | "resetConnections" | "halfOpen" | "reboot" }
  | { do: "serverUnreachable"; on: boolean }
  | { do: "slowLink"; ms: number }
  | { do: "chunkSize"; n: number }
  | { do: "setDigital"; pin: string; value: number; bounces?: number; bounceMs?: number }
  | { do: "setAnalog"; pin: string; value: number }
  | { do: "sensor"; pin: string; model: SensorModel | null }
  | { do: "temperature"; value: number }
  | { do: "rssi"; dbm: number }
  | { do: "storage"; name: string; data: string | object }
  /** a virtual sensor of `devices` (by its name, or its type when there is one of it): new values, unplug/plug, faults */
  | ({ do: "device"; name: string } & DeviceStep)
);

/** What a "device" event may change (sim/hw/buses.ts SensorBuses.apply). */
export interface DeviceStep {
  set?: { t?: number; p?: number; h?: number };
  unplug?: boolean;
  plug?: boolean;
  /** DHT: add 1 to the checksum of the next n frames; DS18B20: flip a bit of the next n scratchpads */
  corrupt?: number;
  /** BME280: answer with this chip id (null: its own) */
  chipId?: number | null;
  /** BME280: conversions never finish */
  stuck?: boolean;
  /** DS18B20: ignore CONVERT T */
  noConvert?: boolean;
  /** DHT: stop the next frame after this many bits */
  truncate?: number;
}

/** A virtual sensor wired to the board's pins before boot (both engines; sim/hw/buses.ts). */
export type ScenarioDevice = { name?: string; t?: number } & (
  | { type: "bme280" | "bmp280"; sda: string; scl: string; addr?: number; p?: number; h?: number }
  | { type: "ds18b20"; pin: string; serial?: number; res?: number }
  | { type: "dht22" | "dht11"; pin: string; h?: number }
);

export type ScenarioExpect = { at?: number; name?: string } & (
  | { console: string }
  | { consoleNot: string }
  | { output: { pin: string; value: number } }
  /** scaled: the count is of something periodic in device time (a blink), so on a run with timeScale s the bounds become floor(min*s)..ceil(max*s) */
  | { changes: { pin: string; min?: number; max?: number; scaled?: boolean } }
  | { memoryBelow: number }
  | { resetsAtMost: number }
  | { wifi: string }
  | { storage: { name: string; contains?: string; absent?: boolean } }
  | { openSockets: number }
  /** (with `broker`) the device (the config's id) has a session at the broker, or not */
  | { brokerSession: boolean }
  /** (with `broker`) the device published at least `min` (default 1), at most `max` messages on `channel` (whose JSON contains `contains`, when given) */
  | { published: { channel: string; min?: number; max?: number; contains?: string } }
);

export interface Scenario {
  name?: string;
  board: BoardId;
  /** inline ES5 source; or codeFile (relative to the scenario file); default dist/<board>.bootcde, as flashed */
  code?: string;
  codeFile?: string;
  /** Storage files; objects are written as JSON (e.g. "jmqt.json": {...}) */
  storage?: Record<string, string | object>;
  wifi?: WifiAP | null;
  chunkSize?: number;
  seed?: number;
  /** every connect the device makes goes here instead (e.g. a broker on 127.0.0.1) */
  server?: { host: string; port: number };
  /**
   * the runner starts a JMQT broker on 127.0.0.1 (ephemeral port) for the run and points the
   * server of Storage's jmqt.json at it (token: the config's, else `token` here)
   */
  broker?: boolean | { token?: string };
  sensors?: { pin: string; model: SensorModel }[];
  /** I2C / 1-Wire / DHT sensors (V8 engine); the drv.* files are added to Storage from dist/ when absent */
  devices?: ScenarioDevice[];
  durationMs: number;
  /** the time scale the espruino engine uses when runScenario is given none (e.g. 0.05: 600 s in 30 s) */
  timeScale?: number;
  events?: ScenarioEvent[];
  expect?: ScenarioExpect[];
}

export interface ScenarioResult {
  name: string;
  engine: ScenarioEngine;
  /** the time scale the run used */
  timeScale: number;
  passed: boolean;
  /** one line per expectation: "ok ..." or "FAIL ..." */
  results: string[];
  failures: string[];
  console: string[];
  board: SimBoard | EspruinoBoard;
  /** the broker the runner started (`broker` in the scenario); closed unless `keep` */
  broker: Broker | null;
}

export interface RunScenarioOptions {
  /** "v8" (default): SimBoard on virtual time; "espruino": the real interpreter, real time */
  engine?: ScenarioEngine;
  /**
   * multiplies every `at` and durationMs (default: 1 on v8; the scenario's timeScale, else 1, on
   * espruino). Device-side times (the code's own timers, debounce, bounceMs, sensor periods) are
   * not scaled: a long scenario compressed for the real engine must still make sense at that speed.
   */
  timeScale?: number;
  /**
   * how much longer (engine ms) an expectation that something holds (console, output, wifi,
   * storage, openSockets, brokerSession, published) may take to hold (default 0 on v8, 2000 on
   * espruino, whose timing is real: a debounce or a WiFi join finishes a few ms after its nominal
   * time). consoleNot, changes, memoryBelow and resetsAtMost are checked at their time exactly.
   */
  graceMs?: number;
  /** overrides the scenario's server (a test starts a broker on port 0 and passes it here) */
  server?: { host: string; port: number };
  log?: (line: string) => void;
  /** keep the board (and the broker) running after the scenario (default: stopped) */
  keep?: boolean;
}

/** What the espruino engine cannot do (the link there is a plain TCP forwarder). */
const V8_ONLY_EVENTS = ["halfOpen", "slowLink", "chunkSize"];
/** expectations that wait up to graceMs to hold */
const POSITIVE = ["console", "output", "wifi", "storage", "openSockets", "brokerSession", "published"];

/** Validates a scenario object; throws an Error naming the first problem. */
export function checkScenario(s: any, engine: ScenarioEngine = "v8"): Scenario {
  if (!s || typeof s !== "object") throw new Error("scenario: not an object");
  if (s.board !== "esp32" && s.board !== "esp8266") throw new Error('scenario: board must be "esp32" or "esp8266"');
  if (typeof s.durationMs !== "number" || !(s.durationMs > 0)) throw new Error("scenario: durationMs must be a positive number");
  if (s.timeScale !== undefined && !(typeof s.timeScale === "number" && s.timeScale > 0)) throw new Error("scenario: timeScale must be a positive number");
  for (const e of s.events || []) {
    if (typeof e.at !== "number" || e.at < 0) throw new Error("scenario: event without a valid at: " + JSON.stringify(e));
    if (typeof e.do !== "string") throw new Error("scenario: event without do: " + JSON.stringify(e));
    if (engine === "espruino" && V8_ONLY_EVENTS.includes(e.do)) throw new Error(`scenario: event "${e.do}" is not available on the espruino engine (V8 only)`);
  }
  if (engine === "espruino" && s.chunkSize !== undefined) throw new Error("scenario: chunkSize is not available on the espruino engine (V8 only)");
  for (const x of s.expect || []) {
    if (("brokerSession" in x || "published" in x) && !s.broker) throw new Error("scenario: brokerSession/published expectations need `broker`");
  }
  return s as Scenario;
}

/** Plays `e` on the device (SimBoard or EspruinoBoard). Shared with the demo (sim/demo.ts). */
export async function applyScenarioEvent(b: Device, e: ScenarioEvent): Promise<void> {
  const sim = b.engine === "v8" ? (b as unknown as SimBoard) : null;
  const real = b.engine === "espruino" ? (b as unknown as EspruinoBoard) : null;
  const v8Only = (): never => {
    throw new Error(`scenario: event "${e.do}" is not available on the espruino engine (V8 only)`);
  };
  switch (e.do) {
    case "wifiDown": return b.wifiDown();
    case "wifiUp": return b.wifiUp();
    case "resetConnections": return b.resetConnections();
    case "halfOpen": return sim ? sim.halfOpen() : v8Only();
    case "reboot": return b.reboot("reset");
    case "serverUnreachable": return sim ? sim.serverUnreachable(!!e.on) : real!.serverUnreachable(!!e.on);
    case "slowLink": return sim ? sim.slowLink(e.ms) : v8Only();
    case "chunkSize": return sim ? sim.setChunkSize(e.n) : v8Only();
    case "setDigital":
      if (sim) return sim.setDigital(e.pin, e.value, { bounces: e.bounces, bounceMs: e.bounceMs });
      return realBounce(real!, e.pin, e.value, e.bounces || 0, e.bounceMs || 1);
    case "setAnalog": return b.setAnalog(e.pin, e.value);
    case "sensor": return b.sensor(e.pin, e.model);
    case "temperature": return b.setTemperature(e.value);
    case "rssi": return b.setRssi(e.dbm);
    case "storage": {
      const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
      return sim ? void sim.storage.write(e.name, data) : real!.store(e.name, data);
    }
    case "device": return (sim || real!).sensors.apply(e.name, e);
    default:
      throw new Error("scenario: unknown event " + JSON.stringify(e));
  }
}

// A bouncing contact on the real engine: the level toggles `bounces` times bounceMs apart (real
// ms), then settles on v. Not awaited: the scenario goes on while the contact bounces.
function realBounce(b: EspruinoBoard, pin: string, v: number, bounces: number, gap: number): void {
  const target = v ? 1 : 0;
  const seq: number[] = [];
  for (let i = 0; i < bounces; i++) seq.push(target, 1 - target);
  seq.push(target);
  b.setDigital(pin, seq[0]);
  seq.slice(1).forEach((val, i) => setTimeout(() => b.setDigital(pin, val), gap * (i + 1)).unref());
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runScenario(fileOrObject: string | Scenario, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const engine: ScenarioEngine = opts.engine || "v8";
  if (engine !== "v8" && engine !== "espruino") throw new Error(`scenario: engine must be "v8" or "espruino", not ${JSON.stringify(engine)}`);
  let base = process.cwd();
  let raw: any = fileOrObject;
  if (typeof fileOrObject === "string") {
    raw = JSON.parse(fs.readFileSync(fileOrObject, "utf8"));
    base = path.dirname(path.resolve(fileOrObject));
  }
  const sc = checkScenario(raw, engine);
  const scale = opts.timeScale ?? (engine === "espruino" ? sc.timeScale ?? 1 : 1);
  if (!(typeof scale === "number" && scale > 0)) throw new Error("scenario: timeScale must be a positive number");
  const grace = opts.graceMs ?? (engine === "espruino" ? 2000 : 0);
  if (engine === "espruino" && !hasEspruino(sc.board)) throw new Error(`scenario: the espruino engine needs the real interpreter: ${espruinoMissing(sc.board)}`);

  const storage: Record<string, string> = {};
  for (const [k, v] of Object.entries(sc.storage || {})) storage[k] = typeof v === "string" ? v : JSON.stringify(v);
  if (sc.devices && sc.devices.length) {
    // what flashing writes for a config with sensors (tools/flash.ts sensorFiles), when built
    for (const n of ["run", "bus", "bme280", "ds18b20", "dht"]) {
      const f = path.join(__dirname, "..", "dist", `${sc.board}.drv.${n}.js`);
      if (storage["drv." + n] === undefined && fs.existsSync(f)) storage["drv." + n] = fs.readFileSync(f, "latin1");
    }
  }
  const code = sc.code !== undefined ? sc.code : sc.codeFile ? fs.readFileSync(path.resolve(base, sc.codeFile), "latin1") : undefined;

  let broker: Broker | null = null;
  const pubs: { cn: string; dt: any }[] = [];
  let deviceId = "";
  let server = opts.server || sc.server;
  if (storage["jmqt.json"] !== undefined) {
    try {
      deviceId = String(JSON.parse(storage["jmqt.json"]).id || "");
    } catch {
      /* a scenario may store a broken config on purpose */
    }
  }
  if (sc.broker) {
    const cfg = JSON.parse(storage["jmqt.json"] || "null");
    if (!cfg || typeof cfg !== "object") throw new Error("scenario: `broker` needs a jmqt.json config in storage");
    const token = (cfg.server && typeof cfg.server.token === "string" && cfg.server.token) || (typeof sc.broker === "object" && sc.broker.token) || "scenario-token";
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      token,
      announce: false,
      onPacket: (ev) => {
        if (ev.dir === "in" && ev.type === "pub" && ev.cl === deviceId && ev.body) pubs.push({ cn: ev.body.cn, dt: ev.body.dt });
      },
    });
    cfg.server = { ...(cfg.server || {}), host: "127.0.0.1", port: broker.port, token };
    storage["jmqt.json"] = JSON.stringify(cfg);
    server = undefined;
  }

  let board: SimBoard | EspruinoBoard;
  if (engine === "v8") {
    board = new SimBoard({
      board: sc.board,
      code,
      storage,
      wifi: sc.wifi,
      chunkSize: sc.chunkSize,
      seed: sc.seed,
      log: opts.log,
      resolve: server ? () => ({ host: server!.host, port: server!.port }) : undefined,
    });
  } else {
    // the real engine has no resolver: the config's server is where the link forwards to
    if (server && storage["jmqt.json"] !== undefined) {
      const cfg = JSON.parse(storage["jmqt.json"]);
      cfg.server = { ...(cfg.server || {}), host: server.host, port: server.port };
      storage["jmqt.json"] = JSON.stringify(cfg);
    }
    board = new EspruinoBoard({
      board: sc.board,
      code,
      storage,
      wifi: sc.wifi === null ? null : { rssi: sc.wifi && sc.wifi.rssi, connectMs: sc.wifi && sc.wifi.connectMs },
      log: opts.log,
      name: sc.name,
    });
  }
  // the virtual sensors, wired before boot: the same SensorBuses on both engines (on the real
  // interpreter, EspruinoBoard answers the device's bus transactions from them: sim/espruino/buses.ts)
  for (const d of sc.devices || []) {
    if (d.type === "bme280" || d.type === "bmp280") board.sensors.addBme280(d.sda, d.scl, { chip: d.type, addr: d.addr, name: d.name, t: d.t, p: d.p, h: d.h });
    else if (d.type === "ds18b20") board.sensors.addDs18b20(d.pin, { name: d.name, serial: d.serial, t: d.t, res: d.res });
    else board.sensors.addDht((d as any).pin, { type: d.type === "dht11" ? 11 : 22, name: d.name, t: d.t, h: (d as any).h });
  }

  const steps: { at: number; kind: "event" | "expect"; item: any }[] = [];
  for (const e of sc.events || []) steps.push({ at: e.at, kind: "event", item: e });
  for (const x of sc.expect || []) steps.push({ at: x.at === undefined ? sc.durationMs : x.at, kind: "expect", item: x });
  steps.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1));
  const results: string[] = [];
  const failures: string[] = [];
  const ctx: Ctx = { b: board, scale, broker, pubs, deviceId };
  // scenario time: engine ms since the code started (v8: the clock from boot; espruino: from the
  // end of boot(), when the uploaded code's top level has run)
  let t0 = 0;
  const elapsed = () => board.now() - t0;
  const until = async (t: number) => {
    if (t <= elapsed()) return;
    if (board instanceof SimBoard) await board.advance(t - elapsed());
    else await sleep(t - elapsed());
  };
  try {
    if (board instanceof SimBoard) {
      for (const s of sc.sensors || []) board.sensor(s.pin, s.model);
      board.boot();
    } else {
      await board.boot();
      t0 = board.now();
      for (const s of sc.sensors || []) board.sensor(s.pin, s.model);
    }
    for (const st of steps) {
      const at = st.at * scale;
      await until(at);
      if (st.kind === "event") await applyScenarioEvent(board, st.item);
      else {
        // an upper bound cannot come to hold by waiting
        const positive = POSITIVE.some((k) => k in st.item) && !(st.item.published && st.item.published.max !== undefined);
        const deadline = at + (positive ? grace : 0);
        let msg: string;
        for (;;) {
          msg = await checkExpect(ctx, st.item);
          if (!msg || elapsed() >= deadline) break;
          if (board instanceof SimBoard) await board.advance(10);
          else await sleep("storage" in st.item ? 200 : 20);
        }
        const label = `${st.item.name || describeExpect(st.item)} @${st.at}ms`;
        if (msg) {
          failures.push(`FAIL ${label}: ${msg}`);
          results.push(`FAIL ${label}: ${msg}`);
        } else results.push(`ok ${label}`);
      }
    }
    await until(sc.durationMs * scale);
  } finally {
    if (!opts.keep) {
      await board.stop();
      if (broker) await broker.close();
    }
  }
  return { name: sc.name || "scenario", engine, timeScale: scale, passed: failures.length === 0, results, failures, console: board.console.slice(), board, broker };
}

interface Ctx {
  b: SimBoard | EspruinoBoard;
  scale: number;
  broker: Broker | null;
  pubs: { cn: string; dt: any }[];
  deviceId: string;
}

function describeExpect(x: any): string {
  const k = Object.keys(x).find((n) => n !== "at" && n !== "name");
  return k ? `${k} ${JSON.stringify(x[k])}` : "expectation";
}

// Returns "" when the expectation holds, else what was seen.
async function checkExpect(c: Ctx, x: any): Promise<string> {
  const b = c.b;
  if ("console" in x) {
    const re = new RegExp(x.console);
    return b.console.some((l) => re.test(l)) ? "" : `no console line matches /${x.console}/ (last: ${JSON.stringify(b.console.slice(-3))})`;
  }
  if ("consoleNot" in x) {
    const re = new RegExp(x.consoleNot);
    const hit = b.console.find((l) => re.test(l));
    return hit === undefined ? "" : `console has ${JSON.stringify(hit)}`;
  }
  if ("output" in x) {
    const v = b.output(x.output.pin);
    return v === x.output.value ? "" : `${x.output.pin} is ${v}`;
  }
  if ("changes" in x) {
    const n = b.timeline(x.changes.pin).length;
    const s = x.changes.scaled ? c.scale : 1;
    const min = x.changes.min === undefined ? undefined : Math.floor(x.changes.min * s);
    const max = x.changes.max === undefined ? undefined : Math.ceil(x.changes.max * s);
    const range = s === 1 ? "" : ` (bounds ${min ?? "-"}..${max ?? "-"} at time scale ${s})`;
    if (min !== undefined && n < min) return `${n} changes${range}`;
    if (max !== undefined && n > max) return `${n} changes${range}`;
    return "";
  }
  if ("memoryBelow" in x) {
    // the real engine: process.memory() as the interpreter counts it, the shim's blocks included
    const m = await b.memory();
    return m.usage < x.memoryBelow ? "" : `usage ${m.usage} blocks`;
  }
  if ("resetsAtMost" in x) return b.resets.length <= x.resetsAtMost ? "" : `${b.resets.length} resets: ${JSON.stringify(b.resets)}`;
  if ("wifi" in x) return b.wifiState() === x.wifi ? "" : `wifi is ${b.wifiState()}`;
  if ("storage" in x) {
    const f = b instanceof SimBoard ? b.storage.read(x.storage.name) : await b.readFile(x.storage.name).catch((e) => `(read failed: ${e.message})`);
    if (x.storage.absent) return f === undefined ? "" : "file exists";
    if (f === undefined) return "no such file";
    return x.storage.contains === undefined || f.indexOf(x.storage.contains) >= 0 ? "" : `file is ${JSON.stringify(f.slice(0, 80))}`;
  }
  if ("openSockets" in x) return b.openSockets() === x.openSockets ? "" : `${b.openSockets()} sockets open`;
  if ("brokerSession" in x) {
    const on = !!c.broker && c.broker.clients().includes(c.deviceId);
    return on === !!x.brokerSession ? "" : `${c.deviceId} ${on ? "has" : "has no"} session at the broker`;
  }
  if ("published" in x) {
    const n = c.pubs.filter((p) => p.cn === x.published.channel && (x.published.contains === undefined || JSON.stringify(p.dt).includes(x.published.contains))).length;
    const min = x.published.min ?? 1;
    if (x.published.max !== undefined && n > x.published.max) return `${n} publications on ${x.published.channel}`;
    return n >= min ? "" : `${n} publications on ${x.published.channel} (channels seen: ${JSON.stringify([...new Set(c.pubs.map((p) => p.cn))])})`;
  }
  return "unknown expectation " + JSON.stringify(x);
}
