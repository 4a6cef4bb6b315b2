// SimBoard: one simulated Espruino board (ESP32 or ESP8266) whose program runs in its own V8 vm
// realm (sim/realm.ts), on the virtual hardware of sim/hw/ (pins and sensors, the WiFi access
// point, network faults, Storage, watchdog), which it composes; the engine part here is the realm
// and its timers, watches and events, sockets backed by real Node TCP sockets, and a memory
// estimate. Device code only ever runs inside the clock's tasks (boot(), advance(), runUntil()),
// never concurrently with the test that drives it.
import * as fs from "node:fs";
import * as path from "node:path";
import * as nodeNet from "node:net";
import * as vm from "node:vm";
import { SimClock, type Task } from "./clock";
import { MemoryEstimator, MEMORY_MODEL } from "./memory";
import { createEspruinoRealm, quirks, type Quirks, type RealmApi } from "./realm";
import type { Device } from "./device";
import { seededRandom, type SensorModel } from "./sensors";
import { Pins, loadBoardData, type BoardData, type BoardId, type PinChange, type PinState, type HwTimers } from "./hw/pins";
import { Wifi, crc32, type WifiAP } from "./hw/wifi";
import { NetFaults, RECEIVE_WINDOW, SOCKET_ERRORS } from "./hw/net";
import { Storage } from "./hw/storage";
import { Watchdog } from "./hw/watchdog";
import { SensorBuses } from "./hw/buses";
import { detokenise, isPretokenised } from "../tools/pretokenise";

export { loadBoardData, SOCKET_ERRORS };
export type { BoardData, BoardId, PinChange, WifiAP };

export interface SimBoardOptions {
  board: BoardId;
  /** JS source to run as `.bootcde`; default: dist/<board>.bootcde (pretokenised, as flashed) */
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
  /** received chunks not handed to the device yet (one per idle pass, as on Espruino), and their
   *  length: bounded by RECEIVE_WINDOW (the Node socket is paused past it) */
  inbox: string[];
  inboxBytes: number;
  /** a chunk is being delivered: the next one follows it, one pass later */
  pumping: boolean;
  /** Node closed the socket while chunks were still in the inbox: close after the last one */
  closeAfter?: boolean;
  /** a "drain" is scheduled (one for all the writes of a pass, as Espruino fires it once its send buffer is empty) */
  drainDue?: boolean;
}

const ROOT = path.resolve(__dirname, "..");
const MAX_CONSOLE_LINES = 5000;
const NODEMCU: Record<string, string> = {
  D0: "D16", D1: "D5", D2: "D4", D3: "D0", D4: "D2", D5: "D14", D6: "D12", D7: "D13", D8: "D15", D9: "D3", D10: "D1", A0: "A0",
};
function describeError(e: any): string {
  if (e && typeof e === "object" && typeof e.message === "string") return (e.name || "Error") + ": " + e.message;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

/** A boot file as V8 can run it: Espruino's lexer reads pretokenised text (what the build flashes,
 *  tools/pretokenise.ts), which V8 gets written out; text that is JavaScript as it is (code with
 *  Latin-1 or UTF-8 bytes in its strings) runs unchanged. */
function forV8(code: string): string {
  if (!isPretokenised(code)) return code;
  try {
    new vm.Script(code);
    return code;
  } catch {
    return detokenise(code);
  }
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
  readonly files: Record<string, string>;
  /** the virtual hardware (sim/hw/): pins and sensors, the access point and station, network faults, Storage, watchdog */
  readonly pins: Pins;
  readonly wifi: Wifi;
  get wifiConnects(): number {
    return this.wifi.connects;
  }
  readonly net: NetFaults;
  readonly flash: Storage;
  readonly watchdog: Watchdog;
  /** the sensor buses wired to the pins (sim/hw/buses.ts): I2C chips, 1-Wire DS18B20s, DHTs */
  readonly sensors: SensorBuses;
  context: vm.Context | null = null;
  private realm: RealmApi | null = null;
  private estimator: MemoryEstimator | null = null;
  private opts: SimBoardOptions;
  private code: string | undefined;
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
    const timers: HwTimers = {
      now: () => this.now(),
      later: (ms, fn) => this.later(ms, fn),
      schedule: (ms, fn) => this.clock.schedule(ms, fn),
      cancel: (t) => this.clock.cancel(t as Task),
    };
    this.pins = new Pins(this.data, timers, opts.seed === undefined ? 1 : opts.seed);
    this.pins.onLevelChange = (p) => this.levelChanged(p);
    this.net = new NetFaults(opts.chunkSize);
    this.wifi = new Wifi(opts.wifi === null ? null : { ...(opts.wifi || {}), up: true }, this.data.family, this.name, this.id, {
      later: timers.later,
      cancel: timers.cancel,
      emit: (ev, d) => this.emitRealm(this.realm!.wifi, ev, this.mk(d)),
      call: (cb, args) => this.call(cb, args),
      dropSockets: (silent) => this.dropAllSockets(silent),
    });
    this.code = opts.code;
    this.flash = new Storage(this.id, opts.storageFile, opts.storage);
    this.files = this.flash.files;
    this.watchdog = new Watchdog(timers.later, timers.cancel, () => this.reboot("watchdog"));
    this.sensors = new SensorBuses(() => this.now());
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Runs the code as if loaded from Storage `.bootcde`. */
  boot(): void {
    if (this.stopped) throw new Error("SimBoard: stopped");
    if (this.code === undefined) {
      const file = path.join(ROOT, "dist", this.id + ".bootcde");
      if (!fs.existsSync(file)) throw new Error(`SimBoard: no code given and ${file} does not exist (run npm run build)`);
      this.code = fs.readFileSync(file, "latin1");
    }
    this.flash.put(".bootcde", this.code);
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
      pins: this.pins.nums,
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
    // like Espruino at boot: .boot0 ... .boot3 (the OTA guard is .boot1), then .bootcde, each on its own
    for (const f of [".boot0", ".boot1", ".boot2", ".boot3", ".bootcde"]) {
      const code = this.files[f];
      if (code === undefined) continue;
      try {
        vm.runInContext(forV8(code), context, { filename: f });
      } catch (e) {
        this.uncaught(e);
      }
      if (this.halted) return;
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
    this.watchdog.reset();
    for (const s of this.sockets.slice()) this.dropSocket(s, false);
    this.sockets = [];
    this.wifi.reset();
    this.pins.reset();
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

  private pinByName(pin: string | number): PinState {
    return this.pins.byName(pin, `SimBoard(${this.id})`);
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
    const v = this.pins.level(p);
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
      ...this.pins.realmHooks((v) => this.mk(v)),
      setWatch: (fn: Function, n: number, repeat: boolean, edge: string, debounce: number) => {
        const p = this.pins.pin(n);
        if (this.data.noWatch.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} can not be watched on ${this.id}`);
        if (["rising", "falling", "both"].indexOf(edge) < 0) edge = edge === "1" ? "rising" : edge === "-1" ? "falling" : "both";
        const w: Watch = { id: this.newWatchId(), fn, pin: n, repeat, edge, debounce, state: this.pins.level(p), lastTime: this.epochNow() / 1000, pending: null };
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
      ...this.watchdog.realmHooks(),
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
      ...this.wifi.realmHooks(),
      netConnect: (obj: any, host: string, port: number) => this.netConnect(obj, host, port),
      sockWrite: (obj: any, d: string) => this.sockWrite(obj, d),
      sockEnd: (obj: any) => {
        const s = this.sockets.find((x) => x.obj === obj);
        if (!s || !s.raw || s.state === "closed") return;
        const raw = s.raw;
        raw.end();
        this.later(100, () => raw.destroy());
      },
      ...this.flash.realmHooks(),
      ...this.busHooks(),
    };
  }

  // ---- sensor buses (sim/hw/buses.ts) -------------------------------------------------------

  private busHooks(): Record<string, (...a: any[]) => any> {
    const name = (n: number) => this.pins.pin(n).name;
    const bytes = (t: string) => (t ? t.split(",").map(Number) : []);
    const i2c = (key: string) => {
      const [sda, scl] = key.split(",");
      if (!sda || !scl) throw new Error("I2C not set up");
      return this.sensors.i2cBus(sda, scl);
    };
    const ow = (n: number) => this.sensors.ow.get(name(n));
    const pulse = this.pins.realmHooks((v) => this.mk(v)).digitalPulse;
    return {
      i2cSetup: (sda: number, scl: number) => name(sda) + "," + name(scl),
      i2cWrite: (key: string, addr: number, t: string) => i2c(key).writeTo(addr, bytes(t)),
      i2cRead: (key: string, addr: number, n: number) => i2c(key).readFrom(addr, n).join(","),
      owReset: (n: number) => { const b = ow(n); return b ? b.reset() : false; },
      owSearch: (n: number, cmd: number) => { const b = ow(n); return b ? b.search(cmd).join(",") : ""; },
      owSelect: (n: number, rom: string) => { const b = ow(n); if (b) b.select(rom); },
      owWrite: (n: number, t: string) => { const b = ow(n); if (b) b.write(bytes(t)); },
      owRead: (n: number, k: number) => { const b = ow(n); return b ? b.read(k).join(",") : new Array(k).fill(255).join(","); },
      // a low pulse on a DHT's pin: the line's own edges as usual, then the sensor's falling edges
      // (with their times) to the watches of that pin once the pulse ends
      digitalPulse: (n: number, v: number, times: string) => {
        pulse(n, v, times);
        const ms = +times.split(",")[0];
        const falls = v ? null : this.sensors.dhtAnswer(name(n), ms);
        if (!falls || !falls.length) return;
        const t0 = this.epochNow() / 1000 + ms / 1000;
        this.later(ms, () => {
          for (const w of this.watches.slice()) {
            if (w.pin !== n || w.edge === "rising") continue;
            for (const us of falls) this.call(w.fn, [this.mk({ state: false, time: t0 + us / 1e6, lastTime: w.lastTime, pin: n })]);
          }
        });
      },
    };
  }

  // ---- WiFi ------------------------------------------------------------------------------

  /** The access point goes away: the station drops, its sockets die (the server is not told). */
  wifiDown(): void {
    this.wifi.down();
  }

  /** The access point is back; a station that wants to be connected reconnects at its next retry. */
  wifiUp(): void {
    this.wifi.up();
  }

  /** changes the access point's password (stations that fail to authenticate stop retrying, as the SDKs do) */
  setApPassword(password: string): void {
    if (this.wifi.ap) this.wifi.ap.password = password;
  }

  /** changes the RSSI the access point is seen at */
  setRssi(dbm: number): void {
    if (this.wifi.ap) this.wifi.ap.rssi = dbm;
  }

  wifiState(): string {
    return this.wifi.sta.status;
  }

  // ---- net -------------------------------------------------------------------------------

  /** New connections fail (after a timeout) while on; existing ones are left alone. */
  serverUnreachable(on: boolean): void {
    this.net.unreachable = on;
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
    this.net.slowLink(ms);
  }

  setChunkSize(n: number): void {
    this.net.setChunkSize(n);
  }

  /** sockets the device has open now */
  openSockets(): number {
    return this.sockets.filter((s) => s.state !== "closed").length;
  }

  private netConnect(obj: any, host: string, port: number): void {
    const s: SimSocket = { obj, raw: null, state: "connecting", frozen: false, pendingIo: false, counted: false, inbox: [], inboxBytes: 0, pumping: false };
    this.sockets.push(s);
    if (!this.wifi.connected) {
      this.later(100, () => this.socketFailed(s, SOCKET_ERRORS.noNetwork));
      return;
    }
    if (this.net.unreachable) {
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
      const n = this.net.chunkSize;
      for (let i = 0; i < text.length; i += n) s.inbox.push(text.substr(i, n));
      s.inboxBytes += text.length;
      if (s.inboxBytes > RECEIVE_WINDOW) raw.pause();
      if (!s.pumping) {
        s.pumping = true;
        this.sockEvent(s, () => this.pump(s));
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
      this.sockEvent(s, () => {
        if (s.pumping) s.closeAfter = true;
        else this.closeSocket(s, hadError);
      });
    });
  }

  // Espruino's idle loop (libs/network/socketserver.c) reads at most one chunk of 536 bytes per
  // socket per pass, and sends what the handlers wrote (firing "drain") in the same pass. So the
  // device gets one chunk per event-loop pass here too, and the drains its writes caused come
  // before the next chunk: a burst that arrives at once is not all handed over before the first
  // reply is sent (it was: 40-80 frames, more than the firmware's out queue holds).
  private pump(s: SimSocket): void {
    const chunk = s.inbox.shift();
    if (chunk !== undefined) {
      s.inboxBytes -= chunk.length;
      if (s.raw && s.raw.isPaused() && s.inboxBytes <= RECEIVE_WINDOW) s.raw.resume();
      if (s.state === "open" && !s.frozen) this.emitRealm(s.obj, "data", chunk);
    }
    if (s.inbox.length && s.state === "open") {
      this.later(0, () => this.pump(s));
      return;
    }
    s.inbox = [];
    s.inboxBytes = 0;
    if (s.raw && s.raw.isPaused()) s.raw.resume();
    s.pumping = false;
    if (s.closeAfter) {
      s.closeAfter = false;
      this.closeSocket(s, false);
    }
  }

  /** bytes received from the network that the device has not been handed yet, over its sockets */
  receiveBacklog(): number {
    return this.sockets.reduce((n, s) => n + s.inboxBytes, 0);
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
    this.later(this.net.latencyMs, fn);
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
      // Espruino: write() returns false every time and a "drain" event follows once its send
      // buffer is handed to the network, in the same idle pass: one drain for the writes of a
      // pass, before the next chunk is read (pump). Node's own drain is not passed on in this mode.
      const send = () => {
        this.clock.ioEvents++;
        if (!raw.destroyed) raw.write(buf);
        if (s.drainDue) return;
        s.drainDue = true;
        this.clock.ioEvents++;
        if (this.halted) return;
        // (the device's own event, not a network one: no link latency on top of the send's)
        this.later(0, () => {
          s.drainDue = false;
          if (s.state === "open") this.emitRealm(s.obj, "drain");
        });
      };
      if (this.net.latencyMs > 0) this.later(this.net.latencyMs, send);
      else send();
      return false;
    }
    if (this.net.latencyMs > 0) {
      this.later(this.net.latencyMs, () => {
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

  /** Storage access from the test side */
  get storage() {
    return {
      read: (name: string): string | undefined => this.files[name],
      write: (name: string, data: string): void => this.flash.put(name, data),
      erase: (name: string): void => this.flash.erase(name),
      list: (): string[] => Object.keys(this.files),
    };
  }

  // ---- pins (test side) ------------------------------------------------------------------

  /**
   * Drives an input pin. With `bounces`, the level first toggles that many times `bounceMs`
   * apart (like a mechanical contact) before settling on `v`.
   */
  setDigital(pin: string | number, v: number | boolean, opts: { bounces?: number; bounceMs?: number } = {}): void {
    this.pins.drive(this.pinByName(pin), v, opts);
  }

  /** Sets the voltage of an analog input as a fraction 0..1 of full scale. */
  setAnalog(pin: string | number, v: number): void {
    this.pins.setAnalog(this.pinByName(pin), v);  }

  /** Attaches a sensor model to a pin (analog value, or digital level >= 0.5), time 0 = now. */
  sensor(pin: string | number, model: SensorModel | null): void {
    const p = this.pinByName(pin);
    this.pins.attachSensor(p, model, (this.opts.seed || 1) + p.num);
  }

  /** board temperature (°C) or a model of it (ESP32; ESP8266 has no sensor and reads NaN) */
  setTemperature(v: number | SensorModel): void {
    this.pins.setTemperature(v);
  }

  /** current output value of a pin (0/1, or the PWM duty 0..1) */
  output(pin: string | number): number {
    return this.pins.output(this.pinByName(pin));
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
