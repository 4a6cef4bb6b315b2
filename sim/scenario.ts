// Scenario runner: a JSON file (or object) describes a board, its Storage/config, sensors, faults
// over time (`at` ms) and expectations; runScenario() plays it on virtual time and reports which
// expectations held. See examples/scenarios/*.json and the README section of the simulator.
import * as fs from "node:fs";
import * as path from "node:path";
import { SimBoard, type BoardId, type WifiAP } from "./board";
import type { SensorModel } from "./sensors";

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
);

export type ScenarioExpect = { at?: number; name?: string } & (
  | { console: string }
  | { consoleNot: string }
  | { output: { pin: string; value: number } }
  | { changes: { pin: string; min?: number; max?: number } }
  | { memoryBelow: number }
  | { resetsAtMost: number }
  | { wifi: string }
  | { storage: { name: string; contains?: string; absent?: boolean } }
  | { openSockets: number }
);

export interface Scenario {
  name?: string;
  board: BoardId;
  /** inline ES5 source; or codeFile (relative to the scenario file); default dist/<board>.js */
  code?: string;
  codeFile?: string;
  /** Storage files; objects are written as JSON (e.g. "jmqt.json": {...}) */
  storage?: Record<string, string | object>;
  wifi?: WifiAP | null;
  chunkSize?: number;
  seed?: number;
  /** every connect the device makes goes here instead (e.g. a broker on 127.0.0.1) */
  server?: { host: string; port: number };
  sensors?: { pin: string; model: SensorModel }[];
  durationMs: number;
  events?: ScenarioEvent[];
  expect?: ScenarioExpect[];
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  /** one line per expectation: "ok ..." or "FAIL ..." */
  results: string[];
  failures: string[];
  console: string[];
  board: SimBoard;
}

export interface RunScenarioOptions {
  /** overrides the scenario's server (a test starts a broker on port 0 and passes it here) */
  server?: { host: string; port: number };
  log?: (line: string) => void;
  /** keep the board running after the scenario (default: stopped) */
  keep?: boolean;
}

/** Validates a scenario object; throws an Error naming the first problem. */
export function checkScenario(s: any): Scenario {
  if (!s || typeof s !== "object") throw new Error("scenario: not an object");
  if (s.board !== "esp32" && s.board !== "esp8266") throw new Error('scenario: board must be "esp32" or "esp8266"');
  if (typeof s.durationMs !== "number" || !(s.durationMs > 0)) throw new Error("scenario: durationMs must be a positive number");
  for (const e of s.events || []) {
    if (typeof e.at !== "number" || e.at < 0) throw new Error("scenario: event without a valid at: " + JSON.stringify(e));
    if (typeof e.do !== "string") throw new Error("scenario: event without do: " + JSON.stringify(e));
  }
  return s as Scenario;
}

export async function runScenario(fileOrObject: string | Scenario, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  let base = process.cwd();
  let raw: any = fileOrObject;
  if (typeof fileOrObject === "string") {
    raw = JSON.parse(fs.readFileSync(fileOrObject, "utf8"));
    base = path.dirname(path.resolve(fileOrObject));
  }
  const sc = checkScenario(raw);
  const storage: Record<string, string> = {};
  for (const [k, v] of Object.entries(sc.storage || {})) storage[k] = typeof v === "string" ? v : JSON.stringify(v);
  const code = sc.code !== undefined ? sc.code : sc.codeFile ? fs.readFileSync(path.resolve(base, sc.codeFile), "latin1") : undefined;
  const server = opts.server || sc.server;
  const board = new SimBoard({
    board: sc.board,
    code,
    storage,
    wifi: sc.wifi,
    chunkSize: sc.chunkSize,
    seed: sc.seed,
    log: opts.log,
    resolve: server ? () => ({ host: server.host, port: server.port }) : undefined,
  });
  for (const s of sc.sensors || []) board.sensor(s.pin, s.model);
  const steps: { at: number; kind: "event" | "expect"; item: any }[] = [];
  for (const e of sc.events || []) steps.push({ at: e.at, kind: "event", item: e });
  for (const x of sc.expect || []) steps.push({ at: x.at === undefined ? sc.durationMs : x.at, kind: "expect", item: x });
  steps.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === "event" ? -1 : 1));
  const results: string[] = [];
  const failures: string[] = [];
  board.boot();
  try {
    for (const st of steps) {
      if (st.at > board.now()) await board.advance(st.at - board.now());
      if (st.kind === "event") applyEvent(board, st.item);
      else {
        const msg = checkExpect(board, st.item);
        const label = `${st.item.name || describeExpect(st.item)} @${st.at}ms`;
        if (msg) {
          failures.push(`FAIL ${label}: ${msg}`);
          results.push(`FAIL ${label}: ${msg}`);
        } else results.push(`ok ${label}`);
      }
    }
    if (board.now() < sc.durationMs) await board.advance(sc.durationMs - board.now());
  } finally {
    if (!opts.keep) board.stop();
  }
  return { name: sc.name || "scenario", passed: failures.length === 0, results, failures, console: board.console.slice(), board };
}

function applyEvent(b: SimBoard, e: ScenarioEvent): void {
  switch (e.do) {
    case "wifiDown": return b.wifiDown();
    case "wifiUp": return b.wifiUp();
    case "resetConnections": return b.resetConnections();
    case "halfOpen": return b.halfOpen();
    case "reboot": return b.reboot("reset");
    case "serverUnreachable": return b.serverUnreachable(!!e.on);
    case "slowLink": return b.slowLink(e.ms);
    case "chunkSize": return b.setChunkSize(e.n);
    case "setDigital": return b.setDigital(e.pin, e.value, { bounces: e.bounces, bounceMs: e.bounceMs });
    case "setAnalog": return b.setAnalog(e.pin, e.value);
    case "sensor": return b.sensor(e.pin, e.model);
    case "temperature": return b.setTemperature(e.value);
    case "rssi": return b.setRssi(e.dbm);
    case "storage": return b.storage.write(e.name, typeof e.data === "string" ? e.data : JSON.stringify(e.data));
    default:
      throw new Error("scenario: unknown event " + JSON.stringify(e));
  }
}

function describeExpect(x: any): string {
  const k = Object.keys(x).find((n) => n !== "at" && n !== "name");
  return k ? `${k} ${JSON.stringify(x[k])}` : "expectation";
}

// Returns "" when the expectation holds, else what was seen.
function checkExpect(b: SimBoard, x: any): string {
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
    if (x.changes.min !== undefined && n < x.changes.min) return `${n} changes`;
    if (x.changes.max !== undefined && n > x.changes.max) return `${n} changes`;
    return "";
  }
  if ("memoryBelow" in x) {
    const m = b.memory();
    return m.usage < x.memoryBelow ? "" : `usage ${m.usage} blocks`;
  }
  if ("resetsAtMost" in x) return b.resets.length <= x.resetsAtMost ? "" : `${b.resets.length} resets: ${JSON.stringify(b.resets)}`;
  if ("wifi" in x) return b.wifiState() === x.wifi ? "" : `wifi is ${b.wifiState()}`;
  if ("storage" in x) {
    const f = b.storage.read(x.storage.name);
    if (x.storage.absent) return f === undefined ? "" : "file exists";
    if (f === undefined) return "no such file";
    return x.storage.contains === undefined || f.indexOf(x.storage.contains) >= 0 ? "" : `file is ${JSON.stringify(f.slice(0, 80))}`;
  }
  if ("openSockets" in x) return b.openSockets() === x.openSockets ? "" : `${b.openSockets()} sockets open`;
  return "unknown expectation " + JSON.stringify(x);
}
