// EspruinoBoard: the real Espruino 2v29 interpreter built for Linux (../shared/espruino/LINUX.md),
// booted like a board. Each board runs in its own temporary directory, whose espruino.flash is its
// Storage: `.boot0` holds the board shim (sim/espruino/shim.js), and `.bootcde` + `jmqt.json` are
// written by replaying, line by line, exactly the file that `npm run flash -- --dry-run` writes
// (tools/flash.ts), which ends with load(".bootcde").
//
// Nothing is typed at the console: the first boot starts the interpreter with `-e bootstrap`, a
// short line that opens a TCP connection to this board's control server and evals the lines that
// come over it (the Linux build's console loses and mixes up input while the firmware runs, long
// input under load, and input that arrives while it starts up; a typed bootstrap once failed 4
// times in a row on a busy machine). The upload goes over that connection; after load() the shim opens its own at each boot, and
// everything the host sends goes over it: pin levels, analog values, temperature, RSSI and WiFi
// events as "__sim(op,pin,value)" lines, and any code (eval(), query(), store()). What comes out is
// printed on the console: "@@SIM <json>" lines for answers to query(), output changes,
// Wifi.connect, watchdog kicks, E.reboot and process.memory(). Sockets are the interpreter's own
// TCP: the device connects to a link (a TCP forwarder on 127.0.0.1 owned by this board) that stands
// for the WiFi: jmqt.json's server is rewritten to point at it, it forwards to the configured
// server, and wifiDown()/resetConnections() cut it. Time is real. A reboot (reboot(), E.reboot(),
// the watchdog) is a SIGKILL at that moment and a new process in the same directory, which boots
// from Storage as it is.
//
// The virtual hardware is sim/hw/'s, as on the V8 engine (sim/board.ts): the pins (levels driven,
// analog values, sensor models, outputs and their timelines: sim/hw/pins.ts), the access point and
// station state (up/down, wants/connected, connect delay, RSSI: sim/hw/wifi.ts) and the network
// faults (sim/hw/net.ts), and the sensor buses with their chip models (sim/hw/buses.ts), which the
// device reaches through .boot2 = sim/espruino/buses.js, one blocking transaction at a time
// (sim/espruino/buses.ts). What is the engine's own: the transport (console and control
// connection), the link forwarder, sensor sampling on real timers, the watchdog check and the
// temperature sent to the shim.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { flash } from "../../tools/flash";
import type { Device, DeviceMemory } from "../device";
import { makeSensor, type Sensor, type SensorModel } from "../sensors";
import { Pins, loadBoardData, type BoardData, type BoardId, type PinChange, type HwTimers } from "../hw/pins";
import { Wifi } from "../hw/wifi";
import { NetFaults } from "../hw/net";
import { SensorBuses } from "../hw/buses";
import { BUSES_FILE, BusAnswerer, wiredKinds } from "./buses";

const ROOT = path.resolve(__dirname, "..", "..");
export const SHIM_FILE = path.join(__dirname, "shim.js");
const MAX_CONSOLE_LINES = 5000;

/** The interpreters: one per board layout, and "large" (64-bit, grows as needed: the language, not the memory). */
export type EspruinoBuild = BoardId | "large";

/**
 * `-e` code for an interpreter that takes its input over TCP instead of its console (which loses
 * and mixes up input on a busy machine): it connects to 127.0.0.1:port, writes `hello` and a
 * newline once connected (when given), and runs the statement `run` for each line d that comes
 * over the connection. Run by `-e`, the interpreter still boots from Storage first and then serves
 * its console, sockets and timers as at the prompt.
 */
export function lineLoopCode(port: number, run: string, hello = ""): string {
  const connected = hello ? `,function(){__c.write(${JSON.stringify(hello + "\n")})}` : "";
  return (
    `var __c=require("net").connect({host:"127.0.0.1",port:${port}}${connected}),__l="";` +
    `__c.on("data",function(d){var i;__l+=d;while((i=__l.indexOf("\\n"))>=0){d=__l.substr(0,i);__l=__l.substr(i+1);${run}}})`
  );
}

/** Where an interpreter is: $ESPRUINO_ESP8266 / $ESPRUINO_ESP32 / $ESPRUINO_LARGE, else ../shared/espruino/bin/espruino-<build>. */
export function espruinoBinary(board: EspruinoBuild): string {
  const env = process.env["ESPRUINO_" + board.toUpperCase()];
  return env ? path.resolve(env) : path.resolve(ROOT, "..", "shared", "espruino", "bin", "espruino-" + board);
}

/** true when the interpreter for this board (default: both boards) is there and executable. */
export function hasEspruino(board?: EspruinoBuild): boolean {
  const boards: EspruinoBuild[] = board ? [board] : ["esp8266", "esp32"];
  return boards.every((b) => {
    try {
      fs.accessSync(espruinoBinary(b), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why the real engine cannot run (for one board, default both): where the interpreter was looked for, and how to get it. */
export function espruinoMissing(board?: EspruinoBuild): string {
  const at = board ? espruinoBinary(board) : `${espruinoBinary("esp8266")} / ${espruinoBinary("esp32")}`;
  const env = board ? "ESPRUINO_" + board.toUpperCase() : "ESPRUINO_ESP8266 / ESPRUINO_ESP32";
  return `no Espruino Linux build at ${at} (set ${env}, or build it: README "Testing on the real interpreter", recipe in ../shared/espruino/LINUX.md)`;
}

/** The one line a test prints when it skips for want of the interpreter. */
export const ESPRUINO_SKIP_MESSAGE = "real-interpreter tests skipped: " + espruinoMissing();

export interface EspruinoBoardOptions {
  board: BoardId;
  /** the device config, written as jmqt.json by the flash dry run (its server is reached through the link) */
  config?: any;
  /**
   * the access point; the shim joins whatever SSID the firmware asks for while it is up (default
   * up, rssi -55). joined: the station is associated at every power-on, before any Wifi.connect
   * (an ESP8266 rejoins the network it saved): for code that opens sockets without the Wifi module.
   */
  wifi?: { rssi?: number; connectMs?: number; up?: boolean; joined?: boolean } | null;
  /** the interpreter (default espruinoBinary(board)) */
  binary?: string;
  /** every console line as printed */
  log?: (line: string) => void;
  name?: string;
  /** false: boot with the shim alone (no flash upload): the baseline the firmware's memory is measured against */
  firmware?: boolean;
  /**
   * ES5 source to run as `.bootcde` instead of the firmware (a scenario's inline code): written to
   * Storage in chunks over the control connection, then load(".bootcde"), like the dry run does.
   */
  code?: string;
  /**
   * Storage files written before the firmware (or `code`) is uploaded, in chunks like store().
   * With the firmware and no `config`, a "jmqt.json" here is the config (its server reached through the link).
   */
  storage?: Record<string, string>;
  /** reboot the interpreter when the watchdog is not kicked in time (default true) */
  watchdogReset?: boolean;
  /**
   * false: no board shim in .boot0 (for `code` that needs no hardware, such as a memory
   * measurement that must not count the shim). Only the upload goes over the control connection:
   * once the code runs nothing can be sent to it, only what it prints read (console, waitFor).
   */
  shim?: boolean;
  /** with `code`: store PIN_METHODS as .boot1 (default: with the shim). false leaves .boot1 to `storage` (an OTA guard) or absent. */
  pinMethods?: boolean;
}

interface Link {
  dev: net.Socket;
  up: net.Socket | null;
  /** silent both ways (stallLinks) */
  stalled?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** a data listener that keeps a stalled socket flowing into nothing */
const drop = () => {};

export class EspruinoBoard implements Device {
  readonly engine = "espruino" as const;
  readonly id: BoardId;
  readonly data: BoardData;
  readonly name: string;
  readonly console: string[] = [];
  readonly resets: { t: number; reason: string }[] = [];
  /** the board's directory (its Storage is espruino.flash there) */
  readonly dir: string;
  /** what was sent as jmqt.json (the config with its server pointing at the link) */
  deviceConfig: any;
  /** the lines of the flash dry run replayed on the console */
  uploadLines: string[] = [];
  /** watchdog timeouts the firmware missed */
  watchdogMisses = 0;
  /** boots of the interpreter so far (the shim says {boot:1} at each) */
  boots = 0;
  /** console lines printed so far (console keeps the last MAX_CONSOLE_LINES) */
  private printed = 0;
  private opts: EspruinoBoardOptions;
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private t0 = Date.now();
  /** the virtual hardware shared with the V8 engine (sim/hw/); pins are keyed by the names the shim reports ("D2") */
  readonly pins: Pins;
  readonly wifi: Wifi;
  /** Wifi.connect calls the firmware made (each boot's, and the retries after a `disconnected`): device.ts */
  wifiConnects = 0;
  readonly net: NetFaults;
  /**
   * the sensor buses wired to the pins (sim/hw/buses.ts, as on the V8 engine): wire them before
   * boot(). A board with some device wired gets sim/espruino/buses.js as .boot2, whose I2C,
   * OneWire and digitalPulse ask these models for every transaction (sim/espruino/buses.ts);
   * without, the Linux build's own I2C (it throws) and OneWire (finds nothing) stay.
   */
  readonly sensors: SensorBuses;
  private answerer: BusAnswerer | null = null;
  /** the device's getTime() (ms) of the bus transaction being answered: the sensor models' clock */
  private busMs = 0;
  /** the sampling timer of each pin with a sensor model */
  private sampling: Record<string, NodeJS.Timeout> = {};
  private temperature: number | null;
  private tempSensor: { s: Sensor; t0: number } | null = null;
  private target: { host: string; port: number } | null = null;
  private server: net.Server | null = null;
  private links = new Set<Link>();
  private zombies: net.Socket[] = [];
  private wdMs = 0;
  private lastKick = 0;
  private wdTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private waiters: { id: number; resolve: (v: any) => void }[] = [];
  private memWaiters: ((m: DeviceMemory) => void)[] = [];
  private nextQuery = 1;
  private stopped = false;
  private restarting: Promise<void> | null = null;
  private queue: string[] = [];
  /** the control server the shim connects to at each boot, and its connection */
  private ctlServer: net.Server | null = null;
  private ctl: net.Socket | null = null;
  private ctlKind = "";

  constructor(opts: EspruinoBoardOptions) {
    this.opts = opts;
    this.id = opts.board;
    this.data = loadBoardData(opts.board);
    this.name = opts.name || opts.board;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-" + opts.board + "-"));
    const timers: HwTimers = {
      now: () => this.now(),
      later: (ms, fn) => setTimeout(fn, ms).unref(),
      schedule: (ms, fn) => setTimeout(fn, ms).unref(),
      cancel: (t) => clearTimeout(t as NodeJS.Timeout),
    };
    this.pins = new Pins(this.data, timers);
    const w = opts.wifi;
    // the shim joins whatever SSID the firmware asks for: the AP's ssid and password are not checked here
    this.wifi = new Wifi(
      { rssi: (w && w.rssi) ?? -55, connectMs: (w && w.connectMs) ?? 100, up: w !== null && !(w && w.up === false) },
      this.data.family, this.name, this.id,
      { later: timers.later, cancel: timers.cancel, emit: () => {}, call: () => {}, dropSockets: (silent) => this.dropLinks(silent) },
    );
    this.net = new NetFaults();
    // the models read their clock only inside a transaction: a conversion started by a write
    // finishes after the device's own time has moved on by the conversion time (as on V8's
    // virtual clock), whatever the latency of the line that carried the write
    this.sensors = new SensorBuses(() => this.busMs);
    this.temperature = this.data.hasTemperature ? 40 : null;
  }

  now(): number {
    return Date.now() - this.t0;
  }

  /** the port of the link the device's config points at (0 before boot) */
  get linkPort(): number {
    const a = this.server && this.server.address();
    return a && typeof a === "object" ? a.port : 0;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /**
   * First boot: an empty Storage gets the shim as .boot0, then the flash dry run for the config
   * (jmqt.json, .bootcde, load(".bootcde")) is replayed over the control connection. Resolves once
   * the shim has booted and the firmware's top level has run (with `shim: false`: once load() has
   * run, which closes the connection the upload came over).
   */
  async boot(): Promise<void> {
    if (this.stopped) throw new Error("EspruinoBoard: stopped");
    const bin = this.opts.binary || espruinoBinary(this.id);
    if (!fs.existsSync(bin)) throw new Error(ESPRUINO_SKIP_MESSAGE);
    const firmware = this.opts.firmware !== false;
    const shim = this.opts.shim !== false;
    if (!shim && this.opts.code === undefined) throw new Error("EspruinoBoard: shim: false needs `code` (the firmware needs the shim's Wifi)");
    if (firmware) {
      await this.startLink();
      const files = { ...(this.opts.storage || {}) };
      let config = this.opts.config;
      if (config === undefined && this.opts.code === undefined && typeof files["jmqt.json"] === "string") {
        config = JSON.parse(files["jmqt.json"]);
        delete files["jmqt.json"];
      }
      this.deviceConfig = config === undefined ? undefined : this.linkedConfig(config);
      const pre: string[] = [];
      for (const [name, text] of Object.entries(files)) pre.push(...storeLines(name, text));
      if (this.opts.code !== undefined) {
        if (this.deviceConfig !== undefined) pre.push(...storeLines("jmqt.json", JSON.stringify(this.deviceConfig)));
        if (this.opts.pinMethods ?? shim) pre.push(...storeLines(".boot1", PIN_METHODS));
        this.uploadLines = [...pre, ...storeLines(".bootcde", this.opts.code), 'load(".bootcde")'];
      } else this.uploadLines = [...pre, ...(await dryRunLines(this.id, this.deviceConfig))];
    }
    await this.startControl();
    this.powerOn();
    const boots = this.boots;
    // the first boot's `-e` code: a loop that evals the lines of a connection to the control server.
    // Everything, the upload included, goes over that connection: the lines are the dry run's own;
    // only the channel differs from a serial port
    this.spawn(["-e", lineLoopCode(this.ctlPort, 'try{eval(d)}catch(e){print("\\n@@SIM "+JSON.stringify({e:""+e}))}', "boot")]);
    if (!(await this.waitFor(() => this.ctl !== null, 10000)))
      throw new Error(`${this.name}: the interpreter never opened the control connection:\n${this.console.slice(-10).join("\n")}`);
    if (shim) this.store(".boot0", fs.readFileSync(SHIM_FILE, "latin1").replace("port: CTL_PORT", "port: " + this.ctlPort));
    if (this.sensors.byName.size) {
      this.answerer = new BusAnswerer(this.dir, this.sensors, (l) => this.println(l));
      this.store(".boot2", fs.readFileSync(BUSES_FILE, "latin1").replace('"WIRED"', JSON.stringify(wiredKinds(this.sensors))));
    }
    // The dry run is sent verbatim: each line is a complete statement (Storage.write of an atob()
    // or a JSON string chunk, then load(".bootcde")).
    if (firmware) for (const l of this.uploadLines) this.send(l);
    else this.send("load()");
    if (!shim) {
      if (!(await this.waitFor(() => this.ctl === null, 10000))) throw new Error(`${this.name}: load() did not run:\n${this.console.slice(-20).join("\n")}`);
      return;
    }
    if (!(await this.waitFor(() => this.boots > boots, 10000))) throw new Error(`${this.name}: the interpreter did not boot:\n${this.console.slice(-20).join("\n")}`);
    // the bundle's top level runs right after .boot0, in the same load(); a query answered means it is done
    await this.query("1");
  }

  /**
   * Resolves once the interpreter has booted more than `boots` times in all (compare with
   * `boots` read before) and the top level of that boot has run: for reboots the device asks for
   * (E.reboot(), a watchdog) as well as reboot()'s.
   */
  async booted(boots: number, timeoutMs = 15000): Promise<void> {
    if (!(await this.waitFor(() => this.boots > boots && !this.restarting, timeoutMs)))
      throw new Error(`${this.name}: no boot within ${timeoutMs} ms:\n${this.console.slice(-20).join("\n")}`);
    await this.query("1");
  }

  /**
   * Like a power cycle: the interpreter is killed at once (SIGKILL: whatever it was doing stops
   * there) and started again in the same directory, which boots from Storage as it is. Resolves
   * once the shim has booted; booted() waits for the top level too.
   */
  async reboot(reason = "reset"): Promise<void> {
    if (this.stopped) return;
    if (this.restarting) return this.restarting;
    this.restarting = (async () => {
      this.resets.push({ t: this.now(), reason });
      this.println(reason === "watchdog" ? "WATCHDOG RESET" : "Rebooting...");
      const boots = this.boots;
      await this.kill();
      this.dropLinks(false);
      // the old process's control connection is gone: lines wait for the new shim's
      if (this.ctl) this.ctl.destroy();
      this.ctl = null;
      this.wdMs = 0;
      for (const p of this.pins.all()) p.out = 0;
      if (this.stopped) return;
      this.queue = [];
      this.powerOn();
      this.spawn();
      if (!(await this.waitFor(() => this.boots > boots, 10000)))
        throw new Error(`${this.name}: no boot within 10000 ms of the ${reason}:\n${this.console.slice(-20).join("\n")}`);
    })();
    try {
      await this.restarting;
    } finally {
      this.restarting = null;
    }
  }

  // a reboot the device asks for (E.reboot(), the watchdog): whoever waits on booted() sees a failure
  private rebootBySelf(reason: string): void {
    this.reboot(reason).catch((e: Error) => this.println("sim: " + e.message.split("\n")[0]));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const k of Object.keys(this.sampling)) clearInterval(this.sampling[k]);
    if (this.wifi.sta.task) clearTimeout(this.wifi.sta.task as NodeJS.Timeout);
    if (this.wdTimer) clearInterval(this.wdTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.kill();
    this.dropLinks(false);
    if (this.ctl) this.ctl.destroy();
    if (this.ctlServer) await new Promise<void>((r) => this.ctlServer!.close(() => r()));
    this.ctlServer = null;
    for (const z of this.zombies) z.destroy();
    this.zombies = [];
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** args: none to boot from Storage as it is; ["-e", code] to run code first (on an empty Storage, the first boot) */
  private spawn(args: string[] = []): void {
    const bin = this.opts.binary || espruinoBinary(this.id);
    // stdin stays an open pipe for the life of the process (at end of input the console spins)
    const p = spawn(bin, args, { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    this.proc = p;
    // each process has its own partial line: a killed one's last output never runs into the next one's
    const buffer = { partial: "" };
    const take = (d: Buffer) => this.take(buffer, d.toString("latin1"));
    p.stdout!.on("data", take);
    p.stderr!.on("data", take);
    p.stdin!.on("error", () => {});
    // "close", not "exit": exit can come before the pipes are read to their end, and whatever the
    // killed process printed last must be taken before the next one starts
    this.exited = new Promise((r) => p.on("close", () => r()));
    p.on("exit", (code, sig) => {
      if (this.proc === p) {
        this.proc = null;
        if (!this.stopped && !this.restarting) this.println(`sim: interpreter exited (${sig || code})`);
      }
    });
    if (!this.wdTimer) {
      this.wdTimer = setInterval(() => this.checkWatchdog(), 200);
      this.wdTimer.unref();
    }
  }

  // the station at power-on: off, or associated already (wifi.joined, while the access point is up)
  private powerOn(): void {
    const joined = !!(this.opts.wifi && this.opts.wifi.joined) && this.wifi.ap!.up;
    this.wifi.sta.want = joined;
    this.setStaUp(joined);
  }

  private async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    const gone = this.exited;
    p.kill("SIGKILL");
    await gone;
  }

  // ---- console ---------------------------------------------------------------------------

  /**
   * Sends one line of code to the device over the control connection, queued while there is none
   * (a boot in progress).
   */
  send(code: string): void {
    if (code.indexOf("\n") >= 0) throw new Error("EspruinoBoard.send: one line of code, no newline");
    this.queue.push(code);
    this.pump();
  }

  private pump(): void {
    if (!this.ctl || this.ctl.destroyed || !this.queue.length) return;
    this.ctl.write(this.queue.splice(0).join("\n") + "\n", "latin1");
  }

  private get ctlPort(): number {
    const a = this.ctlServer && this.ctlServer.address();
    return a && typeof a === "object" ? a.port : 0;
  }

  private async startControl(): Promise<void> {
    if (this.ctlServer) return;
    // a connection counts once it says who it is: "boot" (the console bootstrap) or "shim" (.boot0)
    const srv = net.createServer((c) => {
      c.setNoDelay(true);
      c.on("error", () => {});
      c.on("close", () => {
        if (this.ctl === c) this.ctl = null;
      });
      let hello = "";
      const onHello = (d: Buffer) => {
        hello += d.toString("latin1");
        if (hello.indexOf("\n") < 0) return;
        c.off("data", onHello);
        if (this.ctl && this.ctl !== c) this.ctl.destroy();
        this.ctl = c;
        this.ctlKind = hello.trim();
        this.pump();
      };
      c.on("data", onHello);
    });
    this.ctlServer = srv;
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  }

  /**
   * Runs one line of code on the device (its result is not returned: use query()). It is eval()ed
   * inside the shim's connection handler: `var x` stays local to it, `x = ...` makes a global.
   */
  eval(code: string): void {
    this.send(code);
  }

  /** evaluates an expression on the device and resolves with its JSON value (printed back on the console as an @@SIM line) */
  query(expr: string, timeoutMs = 5000): Promise<any> {
    const id = this.nextQuery++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.id !== id);
        reject(new Error(`${this.name}: no answer to ${expr.slice(0, 80)}`));
      }, timeoutMs);
      this.waiters.push({ id, resolve: (v) => (clearTimeout(t), resolve(v)) });
      this.send(`print("\\n@@SIM "+JSON.stringify({q:${id},v:(${expr})}))`);
    });
  }

  /** writes a Storage file in chunks of 256 characters (what the espruino tool does), over the control connection */
  store(name: string, text: string): void {
    for (const l of storeLines(name, text)) this.send(l);
  }

  /** reads a Storage file back, byte for byte, in base64 pieces of 512 bytes (undefined when it does not exist) */
  async readFile(name: string): Promise<string | undefined> {
    const n = JSON.stringify(name);
    const len = await this.query(`(require("Storage").read(${n})||{}).length`);
    if (typeof len !== "number") return undefined;
    let out = "";
    for (let o = 0; o < len; o += 512) {
      const d = Buffer.from(await this.query(`btoa(require("Storage").read(${n},${o},${Math.min(512, len - o)}))`), "base64");
      if (d.length !== Math.min(512, len - o)) throw new Error(`${this.name}: ${name} read ${d.length} bytes at ${o}`);
      out += d.toString("latin1");
    }
    return out;
  }

  /** how many console lines have been printed so far: a mark for since() */
  mark(): number {
    return this.printed;
  }

  /** the console lines printed after mark() returned `m` (of the last MAX_CONSOLE_LINES kept) */
  since(m: number): string[] {
    return this.console.slice(Math.max(0, this.console.length - (this.printed - m)));
  }

  private take(buffer: { partial: string }, s: string): void {
    const parts = (buffer.partial + s).split("\n");
    buffer.partial = parts.pop()!;
    for (const raw of parts) {
      const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
      const at = line.indexOf("@@SIM ");
      if (at >= 0) {
        let m: any;
        try {
          m = JSON.parse(line.slice(at + 6));
        } catch {
          this.println(line);
          continue;
        }
        this.message(m);
      } else if (line !== "" && line !== ">") this.println(line.replace(/^>+/, ""));
    }
  }

  private println(line: string): void {
    this.printed++;
    this.console.push(line);
    if (this.console.length > MAX_CONSOLE_LINES) this.console.splice(0, this.console.length - MAX_CONSOLE_LINES);
    if (this.opts.log) this.opts.log(line);
  }

  private message(m: any): void {
    if (m.s !== undefined) {
      // a sensor bus transaction (buses.js): the device waits for its answer
      const p = this.proc;
      this.busMs = Number(m.t) * 1000;
      if (this.answerer) this.answerer.answer(m.s, () => this.proc === p && !this.stopped);
    } else if (m.q !== undefined) {
      const w = this.waiters.find((x) => x.id === m.q);
      this.waiters = this.waiters.filter((x) => x !== w);
      if (w) w.resolve(m.v);
    } else if (m.boot) {
      this.boots++;
      // from here on, lines wait for the shim's control connection (a new one at every boot)
      this.queue = [];
      // the bootstrap's connection died with load(): lines wait for the shim's own
      if (this.ctlKind !== "shim" && this.ctl) {
        this.ctl.destroy();
        this.ctl = null;
      }
      this.sendState();
    } else if (m.o !== undefined) {
      this.pins.record(this.pins.entry(m.o), Number(m.v));
    } else if (m.w !== undefined) {
      if (m.w === 0) {
        this.wifi.sta.want = false;
        this.setStaUp(false);
        this.dropLinks(false);
      } else {
        this.wifiConnects++;
        this.wifi.sta.want = true;
        this.setStaUp(false);
        this.tryJoin();
      }
    } else if (m.W !== undefined) {
      this.wdMs = Number(m.W) * 1000;
      this.lastKick = Date.now();
    } else if (m.k) this.lastKick = Date.now();
    else if (m.b) this.rebootBySelf("software");
    else if (m.m) for (const r of this.memWaiters.splice(0)) r(m.m);
  }

  // after each boot of the shim: the pin levels and readings the host holds
  private sendState(): void {
    const pins = this.pins.all();
    for (const p of pins) if (p.driven) this.send(`__sim("p",${JSON.stringify(p.name)},${p.input})`);
    for (const p of pins) if (p.analogSet) this.send(`__sim("a",${JSON.stringify(p.name)},${p.analog})`);
    if (this.temperature !== null) this.send(`__sim("t",0,${this.temperature})`);
    this.send(`__sim("r",0,${this.wifi.ap!.rssi})`);
    if (this.wifi.connected) this.send('__sim("w",0,1)');
  }

  async waitFor(cond: (() => boolean) | RegExp, timeoutMs: number): Promise<boolean> {
    const pred = typeof cond === "function" ? cond : () => this.console.some((l) => cond.test(l));
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (pred()) return true;
      if (Date.now() >= end) return false;
      await sleep(10);
    }
  }

  /**
   * The read() calls the interpreter has made so far (Linux: /proc/<pid>/io syscr), undefined
   * when that is not available. The Linux build keeps Storage in the file espruino.flash and reads
   * code from it 16 bytes at a time (ESPR_JSVAR_FLASH_BUFFER_SIZE), one fopen/fread/fclose each:
   * over a command, the count measures the text the interpreter lexed to run it. Unlike time it
   * does not depend on the machine's load (socket reads add one or two).
   */
  readCalls(): number | undefined {
    const p = this.proc;
    if (!p || p.pid === undefined) return undefined;
    try {
      const m = /syscr: (\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/io`, "utf8"));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The CPU time the interpreter has used so far, user and system, in ms (Linux: /proc/<pid>/stat
   * utime + stime, in clock ticks of 10 ms), undefined when that is not available. Over a burst it
   * is the device's own cost, which the wall time is not quite: on a 2-CPU machine the broker and
   * the bench's peers run beside it.
   */
  cpuMs(): number | undefined {
    const p = this.proc;
    if (!p || p.pid === undefined) return undefined;
    try {
      const f = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return undefined;
    }
  }

  /**
   * Stops (SIGSTOP) or continues (SIGCONT) the interpreter, its sockets kept: a bench that compares
   * boards runs one at a time, since an idle interpreter with open sockets still polls them and
   * takes CPU from the one measured (three booted at once doubled each one's burst time on 2 CPUs).
   */
  suspend(stopped: boolean): void {
    const p = this.proc;
    if (p && p.pid !== undefined) process.kill(p.pid, stopped ? "SIGSTOP" : "SIGCONT");
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  // ---- pins and readings -----------------------------------------------------------------

  setDigital(pin: string, v: number | boolean): void {
    const n = v ? 1 : 0;
    const p = this.pins.entry(pin);
    p.driven = true;
    p.input = n;
    this.send(`__sim("p",${JSON.stringify(pin)},${n})`);
  }

  setAnalog(pin: string, v: number): void {
    this.stopSampling(pin);
    this.putAnalog(pin, v);
  }

  private stopSampling(pin: string): void {
    if (this.sampling[pin]) clearInterval(this.sampling[pin]);
    delete this.sampling[pin];
    this.pins.entry(pin).sensor = null;
  }

  private putAnalog(pin: string, v: number): void {
    v = Math.min(1, Math.max(0, v));
    const p = this.pins.entry(pin);
    if (p.analogSet && p.analog === v) return;
    p.analog = v;
    p.analogSet = true;
    this.send(`__sim("a",${JSON.stringify(pin)},${v})`);
  }

  /** a sensor model on a pin, sampled every 100 ms (analog pins: the value; others: value >= 0.5) */
  sensor(pin: string, model: SensorModel | null): void {
    this.stopSampling(pin);
    if (!model) return;
    const p = this.pins.entry(pin);
    const analog = this.pins.isAnalog(p);
    const s = this.pins.attachSensor(p, model, 1, false)!;
    const sample = () => {
      const v = s.value(this.now() - p.sensorStart);
      if (analog) this.putAnalog(pin, v);
      else if (!p.driven || p.input !== (v >= 0.5 ? 1 : 0)) this.setDigital(pin, v >= 0.5);
    };
    const timer = setInterval(sample, 100);
    timer.unref();
    this.sampling[pin] = timer;
    sample();
  }

  setTemperature(v: number | SensorModel): void {
    if (typeof v === "number") {
      this.tempSensor = null;
      this.temperature = v;
      this.send(`__sim("t",0,${v})`);
      return;
    }
    this.tempSensor = { s: makeSensor(v, 1), t0: Date.now() };
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => {
        if (!this.tempSensor) return;
        const t = Math.round(this.tempSensor.s.value(Date.now() - this.tempSensor.t0) * 100) / 100;
        if (t !== this.temperature) {
          this.temperature = t;
          this.send(`__sim("t",0,${t})`);
        }
      }, 500);
      this.pollTimer.unref();
    }
  }

  setRssi(dbm: number): void {
    this.wifi.ap!.rssi = dbm;
    this.send(`__sim("r",0,${dbm})`);
  }

  output(pin: string): number {
    return this.pins.entry(pin).out;
  }

  timeline(pin: string): PinChange[] {
    return this.pins.entry(pin).timeline.slice();
  }

  /** process.memory() on the device (a garbage collection runs first) */
  memory(): Promise<DeviceMemory> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no answer to process.memory()`)), 5000);
      this.memWaiters.push((m) => (clearTimeout(t), resolve(m)));
      this.send('__sim("m")');
    });
  }

  // ---- watchdog --------------------------------------------------------------------------

  private checkWatchdog(): void {
    if (!this.wdMs || !this.proc || this.restarting) return;
    if (Date.now() - this.lastKick <= this.wdMs) return;
    this.watchdogMisses++;
    this.wdMs = 0;
    if (this.opts.watchdogReset !== false) this.rebootBySelf("watchdog");
    else this.println("sim: watchdog not kicked in time");
  }

  // ---- WiFi and the link -----------------------------------------------------------------

  // the station is connected or not (sim/hw/wifi.ts status: "connected", else "connecting" while wanted)
  private setStaUp(up: boolean): void {
    const sta = this.wifi.sta;
    sta.status = up ? "connected" : sta.want ? "connecting" : "off";
  }

  private tryJoin(): void {
    const sta = this.wifi.sta;
    const ap = this.wifi.ap!;
    if (sta.task || !sta.want || this.wifi.connected || !ap.up) return;
    sta.task = setTimeout(() => {
      sta.task = null;
      if (!sta.want || this.wifi.connected || !ap.up) return;
      this.setStaUp(true);
      this.send('__sim("w",0,1)');
    }, ap.connectMs);
  }

  /** The access point goes away: the device's sockets die (the server is not told), a `disconnected` event follows. */
  wifiDown(): void {
    this.wifi.ap!.up = false;
    if (!this.wifi.connected) return;
    this.setStaUp(false);
    this.dropLinks(true);
    this.send('__sim("w",0,0)');
  }

  /** The access point is back: a station that wants it joins. */
  wifiUp(): void {
    this.wifi.ap!.up = true;
    this.tryJoin();
  }

  wifiState(): string {
    return this.wifi.connected ? "connected" : this.wifi.sta.want ? "connecting" : "off";
  }

  /** Every open socket is reset (both ends see it). */
  resetConnections(): void {
    this.dropLinks(false);
  }

  /** New connections hang (the device's own timeout ends them) while on. */
  serverUnreachable(on: boolean): void {
    this.net.unreachable = on;
  }

  /** The open links go silent both ways while on (the sockets stay open, nothing passes; bytes
   *  sent meanwhile are dropped): the dead-link timers of both ends are what notices. Connections
   *  opened afterwards are not stalled. */
  stallLinks(on: boolean): void {
    for (const l of this.links) {
      if (!l.up || !!l.stalled === on) continue;
      l.stalled = on;
      if (on) {
        l.dev.unpipe(l.up);
        l.up.unpipe(l.dev);
        l.dev.on("data", drop);
        l.up.on("data", drop);
      } else {
        l.dev.off("data", drop);
        l.up.off("data", drop);
        l.dev.pipe(l.up);
        l.up.pipe(l.dev);
      }
    }
  }

  /** sockets the device has open through the link */
  openSockets(): number {
    return this.links.size;
  }

  private linkedConfig(cfg: any): any {
    const c = JSON.parse(JSON.stringify(cfg));
    if (c.server && typeof c.server.host === "string" && typeof c.server.port === "number") {
      this.target = { host: c.server.host, port: c.server.port };
      c.server.host = "127.0.0.1";
      c.server.port = this.linkPort;
    }
    return c;
  }

  /** where the link forwards to (the server in the config given); tests may move it */
  setTarget(host: string, port: number): void {
    this.target = { host, port };
  }

  private async startLink(): Promise<void> {
    if (this.server) return;
    const srv = net.createServer((dev) => this.accept(dev));
    this.server = srv;
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  }

  private accept(dev: net.Socket): void {
    dev.setNoDelay(true);
    dev.on("error", () => {});
    if (this.net.unreachable) {
      dev.pause();
      this.zombies.push(dev);
      return;
    }
    if (!this.wifi.connected || !this.target) {
      dev.destroy();
      return;
    }
    const up = net.connect(this.target.port, this.target.host);
    up.setNoDelay(true);
    const link: Link = { dev, up };
    this.links.add(link);
    up.on("error", () => {});
    const end = () => {
      if (!this.links.delete(link)) return;
      dev.destroy();
      up.destroy();
    };
    dev.pipe(up);
    up.pipe(dev);
    dev.on("close", end);
    up.on("close", end);
  }

  // The device loses its sockets. silent: the server is not told (the server side stays open and mute).
  private dropLinks(silent: boolean): void {
    for (const l of [...this.links]) {
      this.links.delete(l);
      if (l.up) {
        l.dev.unpipe(l.up);
        l.up.unpipe(l.dev);
        if (silent) {
          l.up.removeAllListeners("data");
          this.zombies.push(l.up);
        } else l.up.resetAndDestroy();
      }
      l.dev.resetAndDestroy();
    }
  }
}

/**
 * Stored as .boot1 (it runs after the shim at every boot) for code other than the firmware: the
 * methods of pin values (D2.toggle(), D0.read() ...) over the shim's digitalRead/digitalWrite. Not
 * in the shim itself: the firmware does not use them, and on the ESP8266 its blocks are counted.
 * Pin.prototype is looked up by name, and the shim made Pin its own function: that one's serves.
 */
export const PIN_METHODS =
  "(function(q){q.read=function(){return digitalRead(this)};q.write=function(v){digitalWrite(this,v)};" +
  "q.set=function(){digitalWrite(this,1)};q.reset=function(){digitalWrite(this,0)};" +
  "q.toggle=function(){var v=!digitalRead(this);digitalWrite(this,v);return v}})(Pin.prototype);";

/** Storage.write lines that write a file in chunks of 256 characters (an empty file: Storage.write
 *  throws, so one space); bytes >= 0x7F (a pretokenised bundle's tokens) as \xNN escapes */
export function storeLines(name: string, text: string): string[] {
  if (text === "") text = " ";
  const out: string[] = [];
  const literal = (s: string) => JSON.stringify(s).replace(/[\x7f-\xff]/g, (c) => "\\x" + c.charCodeAt(0).toString(16));
  for (let o = 0; o < text.length; o += 256)
    out.push(`require("Storage").write(${JSON.stringify(name)},${literal(text.substr(o, 256))},${o},${text.length})`);
  return out;
}

/** The lines `npm run flash -- --dry-run` writes for this board and config (dist/<board>.bootcde as built). */
export async function dryRunLines(board: BoardId, config: any): Promise<string[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-dry-"));
  try {
    const file = path.join(tmp, board + ".upload.js");
    await flash({ board, config, dryRun: file, noBuild: true, quiet: true });
    return fs.readFileSync(file, "latin1").split("\n").filter((l) => l.trim() !== "");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const baselines: Partial<Record<BoardId, Promise<DeviceMemory>>> = {};

/** process.memory() of a board booted with the shim alone (cached per board): what to subtract from the firmware's usage. */
export function shimBaseline(board: BoardId): Promise<DeviceMemory> {
  if (!baselines[board])
    baselines[board] = (async () => {
      const b = new EspruinoBoard({ board, firmware: false });
      try {
        await b.boot();
        await sleep(200);
        return await b.memory();
      } finally {
        await b.stop();
      }
    })();
  return baselines[board]!;
}
