// SimBoard: one simulated Espruino board (ESP32 or ESP8266) running a program in its own vm realm,
// with virtual pins, a simulated WiFi access point, sockets backed by real Node TCP sockets,
// Storage, a watchdog and a memory estimate. Device code only ever runs inside the clock's tasks
// (boot(), advance(), runUntil()), never concurrently with the test that drives it.
import * as fs from "node:fs";
import * as path from "node:path";
import * as nodeNet from "node:net";
import * as vm from "node:vm";
import type { BoardJson } from "../tools/api";
import { SimClock, type Task } from "./clock";
import { MemoryEstimator, MEMORY_MODEL } from "./memory";
import { createEspruinoRealm, quirks, type Quirks, type RealmApi } from "./realm";
import type { Device } from "./device";
import { makeSensor, seededRandom, type Sensor, type SensorModel } from "./sensors";

export type BoardId = "esp32" | "esp8266";

export interface WifiAP {
  ssid: string;
  password: string;
  /** dBm reported by getDetails() (default -55) */
  rssi?: number;
  /** virtual ms from Wifi.connect() to connected (default 1200) */
  connectMs?: number;
}

export interface SimBoardOptions {
  board: BoardId;
  /** JS source to run as `.bootcde`; default: dist/<board>.js */
  code?: string;
  /** initial Storage files */
  storage?: Record<string, string>;
  /** JSON file backing Storage: loaded at start when it exists, rewritten on every change */
  storageFile?: string;
  /** the simulated access point; null for none */
  wifi?: WifiAP | null;
  /** socket data is delivered in chunks of at most this many characters (default 536, down to 1) */
  chunkSize?: number;
  /** "virtual" (default), "real", or a clock shared with other boards */
  clock?: "virtual" | "real" | SimClock;
  /** seeds Math.random, sensor walks and bounce (default 1) */
  seed?: number;
  /** every console line of the device, as printed */
  log?: (line: string) => void;
  /** code runs from Storage (flash), so boot-time function bodies cost no RAM (default true) */
  fromStorage?: boolean;
  /** Date.now() when the clock reads 0 (default 0: the board has no real time, like after power-on) */
  epochMs?: number;
  /** maps the host/port the device asks for to where the sim really connects */
  resolve?: (host: string, port: number) => { host: string; port: number };
  /** without `resolve`, connects to hosts other than 127.0.0.1/localhost fail unless this is true */
  allowRemote?: boolean;
  /** a name used in fleet logs */
  name?: string;
  /**
   * at boot end, record which functions exist, so that only functions made later cost their code
   * in RAM (default true). About 40 ms per boot of the real firmware; big fleets turn it off, and
   * then every function is costed as run from flash.
   */
  memoryBootScan?: boolean;
  /**
   * Espruino behaviours the realm reproduces (sim/realm.ts Quirks): all on by default; switch
   * single ones off ({ writeFalse: false }) or all (false) for code written against V8.
   */
  quirks?: Partial<Quirks> | boolean;
}

/** boards/<board>.json, as the build and the gate read it. */
export type BoardData = BoardJson;

export interface PinChange {
  t: number;
  v: number;
}

interface PinState {
  name: string;
  num: number;
  mode: string;
  manual: boolean;
  out: number;
  input: number;
  driven: boolean;
  analog: number;
  sensor: Sensor | null;
  sensorStart: number;
  sensorTasks: Task[];
  pwmFreq: number;
  timeline: PinChange[];
}

interface Watch {
  id: number;
  fn: Function;
  pin: number;
  repeat: boolean;
  edge: string;
  debounce: number;
  state: number;
  lastTime: number;
  pending: Task | null;
}

interface Timer {
  id: number;
  fn: Function;
  args: any[];
  ms: number;
  repeat: boolean;
  task: Task | null;
}

interface SimSocket {
  obj: any;
  raw: nodeNet.Socket | null;
  state: "connecting" | "open" | "closed";
  frozen: boolean;
  pendingIo: boolean;
  /** counted in clock.openSockets (between Node's connect and close) */
  counted: boolean;
}

const ROOT = path.resolve(__dirname, "..");
const STORAGE_BYTES: Record<BoardId, number> = { esp32: 1048576, esp8266: 196608 };
const MAX_CONSOLE_LINES = 5000;
const NODEMCU: Record<string, string> = {
  D0: "D16", D1: "D5", D2: "D4", D3: "D0", D4: "D2", D5: "D14", D6: "D12", D7: "D13", D8: "D15", D9: "D3", D10: "D1", A0: "A0",
};
/** Socket error details the sim reports (Espruino passes {code, message}; codes are negative). */
export const SOCKET_ERRORS = {
  refused: { code: -111, message: "connection refused" },
  timeout: { code: -110, message: "connection timed out" },
  reset: { code: -104, message: "connection reset" },
  noNetwork: { code: -101, message: "network unreachable" },
};

export function loadBoardData(id: BoardId): BoardData {
  const file = path.join(ROOT, "boards", id + ".json");
  if (!fs.existsSync(file)) throw new Error(`unknown board "${id}" (no ${file})`);
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function describeError(e: any): string {
  if (e && typeof e === "object" && typeof e.message === "string") return (e.name || "Error") + ": " + e.message;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

function crc32(s: string): number {
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i) & 255;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

export class SimBoard implements Device {
  readonly engine = "v8" as const;
  readonly id: BoardId;
  readonly data: BoardData;
  readonly clock: SimClock;
  readonly name: string;
  /** every line the device printed (bounded to the last 5000) */
  readonly console: string[] = [];
  /** reboots so far: {t, reason} ("software", "watchdog", "deepsleep", "reset") */
  readonly resets: { t: number; reason: string }[] = [];
  /** storage files (latin1 strings); tests may read and write it directly */
  readonly files: Record<string, string> = {};
  context: vm.Context | null = null;
  private realm: RealmApi | null = null;
  private estimator: MemoryEstimator | null = null;
  private opts: SimBoardOptions;
  private code: string | undefined;
  private pinByNum: PinState[] = [];
  private pinNums: Record<string, number> = {};
  private watches: Watch[] = [];
  private timers: Record<number, Timer> = {};
  private nextId = 1;
  private nextWatchId = 1;
  private readonly quirks: Quirks;
  /** listeners queued by emit(), run after the current code returns (before timers) */
  private events: { fn: Function; self: any; args: any[] }[] = [];
  private sockets: SimSocket[] = [];
  private zombies: nodeNet.Socket[] = [];
  private owner = {};
  private random: () => number;
  /** drives contact bounce, apart from the program's Math.random() */
  private physics: () => number;
  private ap: (WifiAP & { up: boolean }) | null;
  private sta = { status: "off", want: false, ssid: "", password: "", ip: "0.0.0.0", task: null as Task | null, hostname: "" };
  private wifiCb: Function | null = null;
  private chunkSize: number;
  private latencyMs = 0;
  private unreachable = false;
  private temperatureValue: number | Sensor = 40;
  private wdTask: Task | null = null;
  private wdMs = 0;
  private flags: Record<string, number> = { deepSleep: 0, pretokenise: 0, unsafeFlash: 0, unsyncFiles: 0 };
  private lastReset = "power on";
  private halted = false;
  private booted = false;
  private stopped = false;
  private bootedAt = 0;

  constructor(opts: SimBoardOptions) {
    this.opts = opts;
    this.quirks = quirks(opts.quirks);
    this.id = opts.board;
    this.data = loadBoardData(opts.board);
    this.name = opts.name || opts.board;
    this.clock = opts.clock instanceof SimClock ? opts.clock : new SimClock({ mode: opts.clock === "real" ? "real" : "virtual" });
    this.random = seededRandom(opts.seed === undefined ? 1 : opts.seed);
    this.physics = seededRandom((opts.seed === undefined ? 1 : opts.seed) ^ 0x5bd1e995);
    this.chunkSize = opts.chunkSize && opts.chunkSize > 0 ? Math.floor(opts.chunkSize) : 536;
    this.ap = opts.wifi === null ? null : { rssi: -55, connectMs: 1200, ssid: "sim-ap", password: "sim-password", ...(opts.wifi || {}), up: true };
    this.code = opts.code;
    if (opts.storageFile && fs.existsSync(opts.storageFile)) Object.assign(this.files, JSON.parse(fs.readFileSync(opts.storageFile, "latin1")));
    if (opts.storage) Object.assign(this.files, opts.storage);
    let maxD = 0;
    for (const n of this.data.pins) if (/^D\d+$/.test(n)) maxD = Math.max(maxD, +n.slice(1));
    for (const n of this.data.pins) {
      const num = /^D\d+$/.test(n) ? +n.slice(1) : ++maxD;
      this.pinNums[n] = num;
      this.pinByNum[num] = {
        name: n, num, mode: "input", manual: false, out: 0, input: 0, driven: false, analog: 0, sensor: null,
        sensorStart: 0, sensorTasks: [], pwmFreq: 0, timeline: [],
      };
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Runs the code as if loaded from Storage `.bootcde`. */
  boot(): void {
    if (this.stopped) throw new Error("SimBoard: stopped");
    if (this.code === undefined) {
      const file = path.join(ROOT, "dist", this.id + ".js");
      if (!fs.existsSync(file)) throw new Error(`SimBoard: no code given and ${file} does not exist (run npm run build)`);
      this.code = fs.readFileSync(file, "latin1");
    }
    this.files[".bootcde"] = this.code;
    this.persist();
    this.startRealm();
  }

  /** Virtual time: runs due timers in order (yielding to Node for socket I/O) until now()+ms. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  runUntil(pred: () => boolean, maxMs: number, stepMs?: number): Promise<boolean> {
    return this.clock.runUntil(pred, maxMs, stepMs);
  }

  /** Device: runs until cond() holds or a console line matches, at most timeoutMs of clock time */
  waitFor(cond: (() => boolean) | RegExp, timeoutMs: number): Promise<boolean> {
    const pred = typeof cond === "function" ? cond : () => this.console.some((l) => cond.test(l));
    return this.runUntil(pred, timeoutMs, 20);
  }

  /** Device: lets ms of clock time pass */
  sleep(ms: number): Promise<void> {
    return this.advance(ms);
  }

  /** clock milliseconds (virtual unless the board was made with clock "real") */
  now(): number {
    return this.clock.now();
  }

  /** Closes sockets and clears every timer of this board; the board cannot be booted again. */
  stop(): void {
    this.stopped = true;
    this.halt();
    for (const z of this.zombies) z.destroy();
    this.zombies = [];
    if (!(this.opts.clock instanceof SimClock)) this.clock.stop();
  }

  /** reboots like E.reboot() (reason is recorded in resets) */
  reboot(reason = "software"): void {
    if (this.stopped) return;
    this.halt();
    this.resets.push({ t: this.now(), reason });
    this.lastReset = reason;
    this.println(reason === "watchdog" ? "WATCHDOG RESET" : "Rebooting...");
    this.clock.schedule(500, () => this.startRealm(), this.owner);
  }

  private startRealm(): void {
    this.halted = false;
    this.booted = false;
    this.bootedAt = this.now();
    const realmInfo = {
      family: this.data.family,
      pins: this.pinNums,
      nodeMcu: this.data.family === "ESP8266" ? NODEMCU : undefined,
      version: String(this.data.espruinoVersion || "2v29"),
      quirks: this.quirks,
    };
    const { context, api } = createEspruinoRealm(this.hooks(), realmInfo);
    this.context = context;
    this.realm = api;
    this.estimator = new MemoryEstimator(context, vm.runInContext("globalThis", context));
    this.estimator.fromStorage = this.opts.fromStorage !== false;
    this.estimator.snapshotBuiltins();
    const code = this.files[".bootcde"];
    if (code !== undefined) {
      try {
        vm.runInContext(code, context, { filename: ".bootcde" });
      } catch (e) {
        this.uncaught(e);
      }
    }
    if (this.halted) return;
    if (this.opts.memoryBootScan !== false) this.estimator.markLoaded(this.memoryRoots());
    else this.estimator.allLoaded = true;
    this.booted = true;
    this.emitRealm(api.E, "init");
  }

  // Clears everything that belongs to the running program (timers, watches, sockets, watchdog).
  private halt(): void {
    this.halted = true;
    this.clock.cancelOwner(this.owner);
    this.timers = {};
    this.watches = [];
    this.events = [];
    this.wdTask = null;
    for (const s of this.sockets.slice()) this.dropSocket(s, false);
    this.sockets = [];
    if (this.sta.task) this.clock.cancel(this.sta.task);
    this.sta.task = null;
    this.sta.status = "off";
    this.sta.want = false;
    this.wifiCb = null;
    for (const p of this.pinByNum) if (p) {
      p.mode = "input";
      p.manual = false;
      p.out = 0;
    }
  }

  // ---- device-side helpers -----------------------------------------------------------------

  private println(line: string): void {
    this.console.push(line);
    if (this.console.length > MAX_CONSOLE_LINES) this.console.splice(0, this.console.length - MAX_CONSOLE_LINES);
    if (this.opts.log) this.opts.log(line);
  }

  /** Like Espruino: an exception escaping a callback is printed; process 'uncaughtException' listeners get it first. */
  private uncaught(e: any): void {
    const r = this.realm;
    if (r && r.hasListeners(r.process, "uncaughtException")) {
      r.emit(r.process, "uncaughtException", e, undefined, (e2) => this.println("Uncaught " + describeError(e2)));
      return;
    }
    this.println("Uncaught " + describeError(e));
  }

  private emitRealm(obj: any, ev: string, a?: any, b?: any): void {
    if (this.realm) this.realm.emit(obj, ev, a, b, (e) => this.uncaught(e));
  }

  private mk(v: any): any {
    return this.realm ? this.realm.mk(JSON.stringify(v)) : v;
  }

  private call(fn: Function, args: any[]): void {
    try {
      fn.apply(undefined, args);
    } catch (e) {
      this.uncaught(e);
    }
  }

  /** schedules device work on the clock, owned by this board (dropped on reboot) */
  private later(ms: number, fn: () => void): Task {
    return this.clock.schedule(ms, fn, this.owner);
  }

  private pin(num: number): PinState {
    const p = this.pinByNum[num];
    if (!p) throw new Error("Invalid pin!");
    return p;
  }

  private pinByName(pin: string | number): PinState {
    const num = typeof pin === "number" ? pin : this.pinNums[pin];
    const p = num === undefined ? undefined : this.pinByNum[num];
    if (!p) throw new Error(`SimBoard(${this.id}): no pin ${pin}`);
    return p;
  }

  private isOutput(p: PinState): boolean {
    return /output|opendrain/.test(p.mode);
  }

  private level(p: PinState): number {
    if (this.isOutput(p)) return p.out ? 1 : 0;
    if (p.sensor) return p.sensor.value(this.now() - p.sensorStart) >= 0.5 ? 1 : 0;
    if (p.driven) return p.input;
    return p.mode === "input_pullup" ? 1 : 0;
  }

  private setOut(p: PinState, v: number): void {
    if (this.data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
    const before = this.level(p);
    if (!p.manual && !this.isOutput(p)) p.mode = "output";
    if (p.out !== v || p.timeline.length === 0) p.timeline.push({ t: this.now(), v });
    p.out = v;
    if (this.level(p) !== before) this.levelChanged(p);
  }

  // A pin's level changed: each watch on it sees the edge now (or after its debounce).
  private levelChanged(p: PinState): void {
    for (const w of this.watches.slice()) {
      if (w.pin !== p.num) continue;
      if (w.debounce > 0) {
        this.clock.cancel(w.pending);
        w.pending = this.later(w.debounce, () => this.checkWatch(w, p));
      } else this.checkWatch(w, p);
    }
  }

  private checkWatch(w: Watch, p: PinState): void {
    w.pending = null;
    const v = this.level(p);
    if (v === w.state) return;
    w.state = v;
    if ((w.edge === "rising" && !v) || (w.edge === "falling" && v)) return;
    const time = this.epochNow() / 1000;
    const ev = { state: !!v, time, lastTime: w.lastTime, pin: p.num };
    w.lastTime = time;
    if (!w.repeat) this.watches.splice(this.watches.indexOf(w), 1);
    this.later(0, () => this.call(w.fn, [this.mk(ev)]));
  }

  private epochNow(): number {
    return (this.opts.epochMs || 0) + this.timeOffset + this.now();
  }
  private timeOffset = 0;

  private runTimer(t: Timer): void {
    if (t.repeat) t.task = this.later(t.ms, () => this.runTimer(t));
    else if (!this.quirks.timerIds) delete this.timers[t.id];
    this.call(t.fn, t.args);
    // Espruino drops a timeout after its callback: a timer made in it does not get its id
    if (!t.repeat && this.timers[t.id] === t) delete this.timers[t.id];
  }

  // Espruino: a new timer gets the highest id in use + 1 (so freed ids are reused).
  private newTimerId(): number {
    if (!this.quirks.timerIds) return this.nextId++;
    let max = 0;
    for (const k of Object.keys(this.timers)) max = Math.max(max, +k);
    return max + 1;
  }

  private newWatchId(): number {
    if (!this.quirks.timerIds) return this.nextId++;
    let max = 0;
    for (const w of this.watches) max = Math.max(max, w.id);
    return max + 1;
  }

  // emit(): each listener is queued and runs once the current code has returned, before timers.
  private queueEvent(fn: Function, self: any, args: any[]): void {
    this.events.push({ fn, self, args });
    if (this.events.length > 1) return;
    this.later(0, () => {
      while (this.events.length) {
        const e = this.events.shift()!;
        try {
          e.fn.apply(e.self, e.args);
        } catch (err) {
          this.uncaught(err);
        }
      }
    });
  }

  // ---- the hooks the realm's prelude calls -------------------------------------------------

  private hooks(): Record<string, (...a: any[]) => any> {
    return {
      random: () => this.random(),
      now: () => this.epochNow(),
      setTime: (s: number) => {
        this.timeOffset = s * 1000 - (this.opts.epochMs || 0) - this.now();
      },
      serial: () => "sim-" + this.id + "-" + this.name,
      log: (line: string) => this.println(String(line)),
      queueEvent: (fn: Function, self: any, args: any[]) => this.queueEvent(fn, self, args),
      validPin: (n: number) => !!this.pinByNum[n],
      digitalRead: (n: number) => {
        const p = this.pin(n);
        if (!p.manual && this.isOutput(p)) p.mode = "input";
        return this.level(p);
      },
      digitalWrite: (n: number, v: number) => this.setOut(this.pin(n), v),
      outputValue: (n: number) => this.level(this.pin(n)),
      analogRead: (n: number) => {
        const p = this.pin(n);
        if (this.data.analog.indexOf(p.name) < 0) throw new Error(`Pin ${p.name} is not an ADC pin`);
        if (!p.manual) p.mode = "analog";
        const v = p.sensor ? p.sensor.value(this.now() - p.sensorStart) : p.analog;
        return Math.min(1, Math.max(0, v));
      },
      analogWrite: (n: number, v: number, freq: number) => {
        const p = this.pin(n);
        if (this.data.pwm.indexOf(p.name) < 0) throw new Error(`Pin ${p.name} can not do PWM`);
        if (this.data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
        const duty = Math.min(1, Math.max(0, v));
        if (!p.manual) p.mode = "output";
        p.pwmFreq = freq || 1000;
        if (p.out !== duty || p.timeline.length === 0) p.timeline.push({ t: this.now(), v: duty });
        p.out = duty;
      },
      pinMode: (n: number, m: string | undefined, auto: boolean) => {
        const p = this.pin(n);
        const modes = ["analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "af_output", "af_opendrain", "opendrain_pullup", "auto"];
        if (m !== undefined && modes.indexOf(m) < 0) throw new Error("Unknown pin mode");
        if (m === undefined || m === "auto") {
          p.manual = false;
          return;
        }
        if (/output|opendrain/.test(m) && this.data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
        const before = this.level(p);
        p.mode = m;
        p.manual = !auto;
        if (this.level(p) !== before) this.levelChanged(p);
      },
      getPinMode: (n: number) => this.pin(n).mode,
      pinInfo: (n: number) => {
        const p = this.pin(n);
        return this.mk({ port: "D", num: p.num, analog: this.data.analog.indexOf(p.name) >= 0 ? { ADC: 1, channel: 0 } : undefined });
      },
      digitalPulse: (n: number, v: number, times: string) => {
        const p = this.pin(n);
        let t = 0;
        let cur = v;
        this.setOut(p, v);
        for (const ms of times.split(",").map(Number)) {
          t += ms;
          cur = cur ? 0 : 1;
          const val = cur;
          this.later(t, () => this.setOut(p, val));
        }
      },
      setWatch: (fn: Function, n: number, repeat: boolean, edge: string, debounce: number) => {
        const p = this.pin(n);
        if (this.data.noWatch.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} can not be watched on ${this.id}`);
        if (["rising", "falling", "both"].indexOf(edge) < 0) edge = edge === "1" ? "rising" : edge === "-1" ? "falling" : "both";
        const w: Watch = { id: this.newWatchId(), fn, pin: n, repeat, edge, debounce, state: this.level(p), lastTime: this.epochNow() / 1000, pending: null };
        this.watches.push(w);
        return w.id;
      },
      clearWatch: (id: any) => {
        if (id === -1) {
          this.watches = [];
          return;
        }
        const i = this.watches.findIndex((w) => w.id === id);
        if (i < 0) throw new Error("Unknown Watch " + id);
        this.watches.splice(i, 1);
      },
      setTimer: (fn: Function, ms: number, args: any[], repeat: boolean) => {
        const t: Timer = { id: this.newTimerId(), fn, args, ms: repeat ? Math.max(1, ms) : Math.max(0, ms), repeat, task: null };
        t.task = this.later(t.ms, () => this.runTimer(t));
        this.timers[t.id] = t;
        return t.id;
      },
      clearTimer: (id: any) => {
        if (id === -1) {
          for (const k of Object.keys(this.timers)) this.clock.cancel(this.timers[+k].task);
          this.timers = {};
          return;
        }
        const t = this.timers[id];
        if (!t) return;
        this.clock.cancel(t.task);
        delete this.timers[id];
      },
      changeInterval: (id: any, ms: number) => {
        const t = this.timers[id];
        if (!t) throw new Error("Unknown Interval");
        this.clock.cancel(t.task);
        t.ms = Math.max(1, ms);
        t.task = this.later(t.ms, () => this.runTimer(t));
      },
      btoa: (s: string) => Buffer.from(s, "latin1").toString("base64"),
      atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
      reboot: (why: string) => this.reboot(why),
      deepSleep: (ms: number) => {
        this.halt();
        this.resets.push({ t: this.now(), reason: "deepsleep" });
        this.lastReset = "deepsleep";
        this.clock.schedule(ms, () => this.startRealm(), this.owner);
      },
      temperature: () => {
        if (!this.data.hasTemperature) return NaN;
        const t = this.temperatureValue;
        return typeof t === "number" ? t : t.value(this.now());
      },
      kickWatchdog: () => {
        if (this.wdTask) {
          this.clock.cancel(this.wdTask);
          this.wdTask = this.later(this.wdMs, () => this.reboot("watchdog"));
        }
      },
      enableWatchdog: (s: number, auto: boolean) => {
        this.clock.cancel(this.wdTask);
        this.wdTask = null;
        if (auto) return;
        this.wdMs = Math.max(1, s * 1000);
        this.wdTask = this.later(this.wdMs, () => this.reboot("watchdog"));
      },
      sizeOf: (v: any) => (this.estimator ? this.estimator.sizeOf(v) : 0),
      memory: () => JSON.stringify(this.memory()),
      getFlags: () => JSON.stringify(this.flags),
      setFlags: (j: string) => Object.assign(this.flags, JSON.parse(j)),
      errorFlags: () => JSON.stringify([]),
      crc32: (s: string) => crc32(s),
      chipState: () =>
        JSON.stringify(
          this.data.family === "ESP32"
            ? { sdkVersion: "v4.4.8", freeHeap: 80000, BLE: false, Wifi: true, minHeap: 60000 }
            : { sdkVersion: "2.2.1(cfd48f3)", cpuFrequency: 160, freeHeap: 12000, maxCon: 10, flashMap: "4MB:1024/1024", flashKB: 4096, flashChip: "0xef 0x4016" },
        ),
      resetInfo: () => JSON.stringify({ code: 0, reason: this.lastReset }),
      hostname: () => this.sta.hostname || "espruino-" + this.name,
      setHostname: (n: string) => {
        this.sta.hostname = n;
      },
      wifiConnect: (ssid: string, password: string, cb: Function | null) => this.wifiConnect(ssid, password, cb),
      wifiDisconnect: (cb: Function | null) => {
        const was = this.sta.status === "connected";
        this.sta.want = false;
        if (this.sta.task) this.clock.cancel(this.sta.task);
        this.sta.task = null;
        this.sta.status = "off";
        this.dropAllSockets();
        if (was) this.later(0, () => this.emitRealm(this.realm!.wifi, "disconnected", this.mk(this.disconnectDetails("leave"))));
        if (cb) this.later(0, () => this.call(cb, []));
      },
      wifiStatus: () => JSON.stringify(this.wifiStatus()),
      wifiDetails: () => JSON.stringify(this.wifiDetails()),
      wifiIP: () => JSON.stringify({ ip: this.sta.status === "connected" ? this.sta.ip : "0.0.0.0", netmask: "255.255.255.0", gw: "192.168.4.1", mac: this.mac() }),
      wifiScan: () => JSON.stringify(this.ap && this.ap.up ? [{ ssid: this.ap.ssid, authMode: "wpa2", rssi: this.ap.rssi, channel: 6, isHidden: false }] : []),
      netConnect: (obj: any, host: string, port: number) => this.netConnect(obj, host, port),
      sockWrite: (obj: any, d: string) => this.sockWrite(obj, d),
      sockEnd: (obj: any) => {
        const s = this.sockets.find((x) => x.obj === obj);
        if (!s || !s.raw || s.state === "closed") return;
        const raw = s.raw;
        raw.end();
        this.later(100, () => raw.destroy());
      },
      stWrite: (n: string, d: string, off: number, size: number) => this.storageWrite(n, d, off, size),
      stRead: (n: string, off: number, len: number) => {
        const f = this.files[n];
        if (f === undefined) return undefined;
        return len < 0 ? f.substr(off) : f.substr(off, len);
      },
      stErase: (n: string) => {
        delete this.files[n];
        this.persist();
      },
      stEraseAll: () => {
        for (const k of Object.keys(this.files)) delete this.files[k];
        this.persist();
      },
      stList: () => JSON.stringify(Object.keys(this.files)),
      stFree: () => this.storageFree(),
      stStats: () => {
        const used = STORAGE_BYTES[this.id] - this.storageFree();
        return JSON.stringify({ totalBytes: STORAGE_BYTES[this.id], freeBytes: this.storageFree(), fileBytes: used, fileCount: Object.keys(this.files).length, trashBytes: 0, trashCount: 0 });
      },
    };
  }

  // ---- WiFi ------------------------------------------------------------------------------

  private mac(): string {
    const h = crc32(this.name + this.id);
    return "5c:cf:7f:" + [h & 255, (h >> 8) & 255, (h >> 16) & 255].map((x) => x.toString(16).padStart(2, "0")).join(":");
  }

  // ESP32 reports ESP-IDF numeric reasons; ESP8266 reports the SDK reason as a string.
  private disconnectDetails(why: "leave" | "no_ap_found" | "auth_fail" | "beacon_timeout"): any {
    const num = { leave: 8, no_ap_found: 201, auth_fail: 202, beacon_timeout: 200 }[why];
    return { ssid: this.sta.ssid, mac: this.ap ? "00:11:22:33:44:55" : "", reason: this.data.family === "ESP32" ? num : why };
  }

  private wifiStatus(): any {
    const s = { station: this.sta.status, ap: "disabled", mode: this.sta.want || this.sta.status !== "off" ? "sta" : "off" };
    return this.data.family === "ESP8266" ? { ...s, phy: "11n", powersave: "ps-poll", savedMode: "off" } : s;
  }

  private wifiDetails(): any {
    const connected = this.sta.status === "connected";
    return {
      status: this.sta.status,
      rssi: connected && this.ap ? this.ap.rssi : 0,
      ssid: this.sta.ssid,
      password: this.sta.password,
      authMode: "wpa2",
      ...(this.data.family === "ESP8266" ? { savedSsid: null } : {}),
    };
  }

  private wifiConnect(ssid: string, password: string, cb: Function | null): void {
    if (this.sta.task) this.clock.cancel(this.sta.task);
    if (this.sta.status === "connected") this.dropAllSockets();
    this.sta.want = true;
    this.sta.ssid = ssid;
    this.sta.password = password;
    this.sta.status = "connecting";
    this.wifiCb = cb;
    this.sta.task = this.later(this.ap ? this.ap.connectMs || 1200 : 1200, () => this.wifiAttempt());
  }

  // One association attempt; on failure the station keeps retrying every 5 s while wanted.
  private wifiAttempt(): void {
    this.sta.task = null;
    const ap = this.ap;
    const cb = this.wifiCb;
    this.wifiCb = null;
    let why: "no_ap_found" | "auth_fail" | null = null;
    if (!ap || !ap.up || ap.ssid !== this.sta.ssid) why = "no_ap_found";
    else if (ap.password !== this.sta.password) why = "auth_fail";
    if (why) {
      this.sta.status = why === "auth_fail" ? "wrong_password" : "no_ap_found";
      this.emitRealm(this.realm!.wifi, "disconnected", this.mk(this.disconnectDetails(why)));
      if (cb) this.call(cb, [this.sta.status]);
      if (this.sta.want && why === "no_ap_found") this.sta.task = this.later(5000, () => this.wifiAttempt());
      return;
    }
    this.sta.status = "connected";
    this.sta.ip = "192.168.4." + (2 + (crc32(this.name) % 250));
    this.emitRealm(this.realm!.wifi, "associated", this.mk({ ssid: ap!.ssid, mac: "00:11:22:33:44:55", channel: 6 }));
    this.emitRealm(this.realm!.wifi, "connected", this.mk({ ip: this.sta.ip, netmask: "255.255.255.0", gw: "192.168.4.1" }));
    if (cb) this.call(cb, [null]);
  }

  /** The access point goes away: the station drops, its sockets die (the server is not told). */
  wifiDown(): void {
    if (!this.ap) return;
    this.ap.up = false;
    if (this.sta.status !== "connected") return;
    this.sta.status = "connecting";
    this.dropAllSockets(true);
    this.later(0, () => this.emitRealm(this.realm!.wifi, "disconnected", this.mk(this.disconnectDetails("beacon_timeout"))));
    if (this.sta.want && !this.sta.task) this.sta.task = this.later(5000, () => this.wifiAttempt());
  }

  /** The access point is back; a station that wants to be connected reconnects at its next retry. */
  wifiUp(): void {
    if (!this.ap) return;
    this.ap.up = true;
    if (this.sta.want && this.sta.status !== "connected" && !this.sta.task) this.sta.task = this.later(this.ap.connectMs || 1200, () => this.wifiAttempt());
  }

  /** changes the access point's password (stations that fail to authenticate stop retrying, as the SDKs do) */
  setApPassword(password: string): void {
    if (this.ap) this.ap.password = password;
  }

  /** changes the RSSI the access point is seen at */
  setRssi(dbm: number): void {
    if (this.ap) this.ap.rssi = dbm;
  }

  wifiState(): string {
    return this.sta.status;
  }

  // ---- net -------------------------------------------------------------------------------

  /** New connections fail (after a timeout) while on; existing ones are left alone. */
  serverUnreachable(on: boolean): void {
    this.unreachable = on;
  }

  /** Every open socket is reset: the device sees error+close, the server an RST. */
  resetConnections(): void {
    this.dropAllSockets();
  }

  /** Bytes stop flowing both ways on the open sockets; nobody sees a close. */
  halfOpen(): void {
    for (const s of this.sockets) s.frozen = true;
  }

  /** Delays every socket event and write by `ms` of clock time (0: off). */
  slowLink(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  setChunkSize(n: number): void {
    this.chunkSize = Math.max(1, Math.floor(n));
  }

  /** sockets the device has open now */
  openSockets(): number {
    return this.sockets.filter((s) => s.state !== "closed").length;
  }

  private netConnect(obj: any, host: string, port: number): void {
    const s: SimSocket = { obj, raw: null, state: "connecting", frozen: false, pendingIo: false, counted: false };
    this.sockets.push(s);
    if (this.sta.status !== "connected") {
      this.later(100, () => this.socketFailed(s, SOCKET_ERRORS.noNetwork));
      return;
    }
    if (this.unreachable) {
      this.later(10000, () => this.socketFailed(s, SOCKET_ERRORS.timeout));
      return;
    }
    const target = this.opts.resolve ? this.opts.resolve(host, port) : { host, port };
    if (!this.opts.allowRemote && !/^(127\.0\.0\.1|localhost)$/.test(target.host)) {
      this.println(`sim: connect to ${target.host}:${target.port} refused (not loopback; give the board resolve or allowRemote)`);
      this.later(100, () => this.socketFailed(s, SOCKET_ERRORS.noNetwork));
      return;
    }
    const raw = nodeNet.connect({ host: target.host, port: target.port });
    raw.setNoDelay(true);
    s.raw = raw;
    s.pendingIo = true;
    this.clock.ioPending++;
    this.clock.ioEvents++;
    raw.on("connect", () => {
      this.ioDone(s);
      s.counted = true;
      this.clock.openSockets++;
      this.sockEvent(s, () => {
        if (s.state !== "connecting") return;
        s.state = "open";
        this.emitRealm(s.obj, "connect");
      });
    });
    raw.on("data", (buf: Buffer) => {
      if (s.frozen) return;
      const text = buf.toString("latin1");
      const n = this.chunkSize;
      for (let i = 0; i < text.length; i += n) {
        const chunk = text.substr(i, n);
        this.sockEvent(s, () => {
          if (s.state === "open") this.emitRealm(s.obj, "data", chunk);
        });
      }
    });
    raw.on("drain", () => this.quirks.writeFalse || this.sockEvent(s, () => s.state === "open" && this.emitRealm(s.obj, "drain")));
    raw.on("error", (err: any) => {
      this.ioDone(s);
      if (s.frozen) return;
      const d = err && err.code === "ECONNREFUSED" ? SOCKET_ERRORS.refused : err && err.code === "ETIMEDOUT" ? SOCKET_ERRORS.timeout : SOCKET_ERRORS.reset;
      this.sockEvent(s, () => s.state !== "closed" && this.emitRealm(s.obj, "error", this.mk(d)));
    });
    raw.on("close", (hadError: boolean) => {
      this.ioDone(s);
      if (s.counted) {
        s.counted = false;
        this.clock.openSockets--;
      }
      if (s.frozen) return;
      this.sockEvent(s, () => this.closeSocket(s, hadError));
    });
  }

  private ioDone(s: SimSocket): void {
    this.clock.ioEvents++;
    if (s.pendingIo) {
      s.pendingIo = false;
      this.clock.ioPending--;
    }
  }

  // Socket events reach the device through the clock (after the link latency), in arrival order.
  private sockEvent(s: SimSocket, fn: () => void): void {
    this.clock.ioEvents++;
    if (this.halted) return;
    this.later(this.latencyMs, fn);
  }

  private closeSocket(s: SimSocket, hadError: boolean): void {
    if (s.state === "closed") return;
    s.state = "closed";
    const i = this.sockets.indexOf(s);
    if (i >= 0) this.sockets.splice(i, 1);
    this.emitRealm(s.obj, "close", hadError);
  }

  private socketFailed(s: SimSocket, d: { code: number; message: string }): void {
    if (s.state === "closed") return;
    this.emitRealm(s.obj, "error", this.mk(d));
    this.closeSocket(s, true);
  }

  private sockWrite(obj: any, d: string): boolean {
    const s = this.sockets.find((x) => x.obj === obj);
    if (!s || s.state !== "open" || !s.raw) return false;
    if (s.frozen) return !this.quirks.writeFalse;
    const buf = Buffer.from(d, "latin1");
    const raw = s.raw;
    this.clock.ioEvents++;
    if (this.quirks.writeFalse) {
      // Espruino: write() returns false every time and a "drain" event follows once it is sent
      // (no sign of a full buffer). Node's own drain is not passed on in this mode.
      const send = () => {
        this.clock.ioEvents++;
        if (!raw.destroyed) raw.write(buf, () => this.sockEvent(s, () => s.state === "open" && this.emitRealm(s.obj, "drain")));
      };
      if (this.latencyMs > 0) this.later(this.latencyMs, send);
      else send();
      return false;
    }
    if (this.latencyMs > 0) {
      this.later(this.latencyMs, () => {
        this.clock.ioEvents++;
        if (!raw.destroyed) raw.write(buf);
      });
      return true;
    }
    return raw.write(buf);
  }

  // The device loses its sockets (wifi drop, reset, reboot). With `silent` the server is not told
  // (the socket is kept open and mute until stop(): a half-open connection on the server side).
  private dropAllSockets(silent = false): void {
    for (const s of this.sockets.slice()) this.dropSocket(s, silent);
  }

  private dropSocket(s: SimSocket, silent: boolean): void {
    const raw = s.raw;
    if (raw) {
      if (s.pendingIo) {
        s.pendingIo = false;
        this.clock.ioPending--;
      }
      s.frozen = true;
      if (silent) {
        raw.removeAllListeners("data");
        raw.on("error", () => {});
        this.zombies.push(raw);
      } else if (!raw.destroyed) {
        if (typeof (raw as any).resetAndDestroy === "function" && raw.readyState === "open") (raw as any).resetAndDestroy();
        else raw.destroy();
      }
    }
    if (s.state === "closed") return;
    if (this.halted) {
      s.state = "closed";
      return;
    }
    this.later(0, () => this.socketFailed(s, SOCKET_ERRORS.reset));
  }

  // ---- Storage ---------------------------------------------------------------------------

  private storageFree(): number {
    let used = 0;
    for (const k of Object.keys(this.files)) used += 32 + ((this.files[k].length + 3) & ~3);
    return Math.max(0, STORAGE_BYTES[this.id] - used);
  }

  private storageWrite(name: string, data: string, off: number, size: number): boolean {
    if (!name.length || name.length > 28) throw new Error("Storage filename must be 1..28 characters: " + JSON.stringify(name));
    let content: string;
    if (size >= 0) content = "\xff".repeat(size);
    else if (off >= 0) {
      const f = this.files[name];
      if (f === undefined) throw new Error("Storage: file " + name + " does not exist (write with a size first)");
      content = f;
    } else content = "";
    const at = Math.max(0, off);
    if (size >= 0 || off >= 0) {
      if (at + data.length > content.length) throw new Error("Storage: write beyond the end of " + name);
      content = content.substr(0, at) + data + content.substr(at + data.length);
    } else content = data;
    const old = this.files[name];
    delete this.files[name];
    if (this.storageFree() < 32 + content.length) {
      if (old !== undefined) this.files[name] = old;
      return false;
    }
    this.files[name] = content;
    this.persist();
    return true;
  }

  private persist(): void {
    if (this.opts.storageFile) fs.writeFileSync(this.opts.storageFile, JSON.stringify(this.files), "latin1");
  }

  /** Storage access from the test side */
  get storage() {
    return {
      read: (name: string): string | undefined => this.files[name],
      write: (name: string, data: string): void => {
        this.files[name] = data;
        this.persist();
      },
      erase: (name: string): void => {
        delete this.files[name];
        this.persist();
      },
      list: (): string[] => Object.keys(this.files),
    };
  }

  // ---- pins (test side) ------------------------------------------------------------------

  /**
   * Drives an input pin. With `bounces`, the level first toggles that many times `bounceMs`
   * apart (like a mechanical contact) before settling on `v`.
   */
  setDigital(pin: string | number, v: number | boolean, opts: { bounces?: number; bounceMs?: number } = {}): void {
    const p = this.pinByName(pin);
    const target = v ? 1 : 0;
    const bounces = opts.bounces || 0;
    const gap = opts.bounceMs || 1;
    const apply = (val: number) => {
      const before = this.level(p);
      p.driven = true;
      p.input = val;
      if (this.level(p) !== before) this.levelChanged(p);
    };
    if (!bounces) return apply(target);
    const seq: number[] = [];
    for (let i = 0; i < bounces; i++) seq.push(target, target ? 0 : 1);
    seq.push(target);
    apply(seq[0]);
    let t = 0;
    for (let i = 1; i < seq.length; i++) {
      const val = seq[i];
      t += gap * (0.5 + this.physics());
      this.clock.schedule(t, () => apply(val), this.owner);
    }
  }

  /** Sets the voltage of an analog input as a fraction 0..1 of full scale. */
  setAnalog(pin: string | number, v: number): void {
    const p = this.pinByName(pin);
    p.sensor = null;
    p.analog = v;
  }

  /** Attaches a sensor model to a pin (analog value, or digital level >= 0.5), time 0 = now. */
  sensor(pin: string | number, model: SensorModel | null): void {
    const p = this.pinByName(pin);
    for (const t of p.sensorTasks) this.clock.cancel(t);
    p.sensorTasks = [];
    if (!model) {
      p.sensor = null;
      return;
    }
    const before = this.level(p);
    p.sensor = makeSensor(model, (this.opts.seed || 1) + p.num);
    p.sensorStart = this.now();
    if (this.level(p) !== before) this.levelChanged(p);
    let last = this.level(p);
    for (const at of p.sensor.changeTimes) {
      if (at <= 0) continue;
      p.sensorTasks.push(
        this.clock.schedule(at, () => {
          const v = this.level(p);
          if (v !== last) {
            last = v;
            this.levelChanged(p);
          }
        }),
      );
    }
  }

  /** board temperature (°C) or a model of it (ESP32; ESP8266 has no sensor and reads NaN) */
  setTemperature(v: number | SensorModel): void {
    this.temperatureValue = typeof v === "number" ? v : makeSensor(v, this.opts.seed || 1);
  }

  /** current output value of a pin (0/1, or the PWM duty 0..1) */
  output(pin: string | number): number {
    const p = this.pinByName(pin);
    return this.isOutput(p) ? p.out : this.level(p);
  }

  /** every change of a pin's output since boot: [{t (clock ms), v}] */
  timeline(pin: string | number): PinChange[] {
    return this.pinByName(pin).timeline.slice();
  }

  pinMode(pin: string | number): string {
    return this.pinByName(pin).mode;
  }

  // ---- memory ----------------------------------------------------------------------------

  private memoryRoots(): any[] {
    const roots: any[] = [];
    for (const k of Object.keys(this.timers)) {
      const t = this.timers[+k];
      roots.push(t.fn, t.args);
    }
    for (const w of this.watches) roots.push(w.fn);
    for (const s of this.sockets) roots.push(s.obj);
    return roots;
  }

  /**
   * process.memory(): an ESTIMATE in Espruino blocks of what the program holds (see sim/memory.ts
   * for the model and its calibration); total is boards/<board>.json memory.blocks. usage is
   * capped at total like on a board; `estimate` is the uncapped figure (over total: a real board
   * would be out of memory, and the console says so once).
   */
  memory(): { free: number; usage: number; total: number; history: number; gc: number; gctime: number; blocksize: number; estimate: number } {
    const total = this.data.memory.blocks;
    let estimate = 0;
    if (this.estimator) {
      const fixed =
        Object.keys(this.timers).length * MEMORY_MODEL.timerBlocks + this.watches.length * MEMORY_MODEL.watchBlocks + this.sockets.length * MEMORY_MODEL.socketBlocks;
      estimate = this.estimator.estimate(this.memoryRoots(), fixed);
    }
    if (estimate > total && !this.warnedMemory) {
      this.warnedMemory = true;
      this.println(`sim: estimated memory use ${estimate} blocks is over the board's ${total} (a real board would be out of memory)`);
    }
    const usage = Math.min(total, estimate);
    return { free: total - usage, usage, total, history: 0, gc: 0, gctime: 0.1, blocksize: this.data.memory.blockBytes, estimate };
  }
  private warnedMemory = false;

  /** evaluates an expression in the device's realm (a test helper, like typing at the REPL) */
  eval(src: string): any {
    if (!this.context) throw new Error("SimBoard: not booted");
    return vm.runInContext(src, this.context);
  }

  isBooted(): boolean {
    return this.booted && !this.halted;
  }
}
