// The real Espruino 2v29 interpreter (Linux build of the board's C core, ../shared/espruino/bin/),
// driven like a board: a Wifi stand-in as .boot0, the bundle in Storage as .bootcde (uploaded in
// chunks, as the espruino tool does), jmqt.json, then load(). Used by the memory budget test
// (test/runtime/memory.real.test.ts) and `npm run bench -- espruino`.
//
// Figures are blocks (process.memory().usage, which runs a garbage collection first), and the
// firmware's cost is usage with the firmware minus usage with the shim alone (baseline()).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";

const ROOT = resolve(__dirname, "..");

/** Path of the interpreter for a board layout: $ESPRUINO_ESP8266 / $ESPRUINO_ESP32, else ../shared/espruino/bin/. */
export function interpreter(board: "esp8266" | "esp32"): string | null {
  const env = process.env["ESPRUINO_" + board.toUpperCase()];
  const p = env || join(ROOT, "..", "shared", "espruino", "bin", "espruino-" + board);
  return existsSync(p) ? p : null;
}

/** The Wifi stand-in booted as .boot0: connects at once (../shared/espruino/boot/wifi-stub.js, inlined so a clone has it). */
export const WIFI_SHIM =
  'Modules.addCached("Wifi", function () {\n' +
  "  var h = {};\n" +
  "  exports.connect = function (ssid, o, cb) { setTimeout(function () { if (cb) cb(null); if (h.connected) h.connected({ ip: \"127.0.0.1\" }); }, 10); };\n" +
  "  exports.disconnect = function (cb) { if (cb) setTimeout(cb, 1); };\n" +
  "  exports.on = function (ev, fn) { h[ev] = fn; };\n" +
  "  exports.removeListener = function (ev) { delete h[ev]; };\n" +
  '  exports.getDetails = function (cb) { var d = { status: "connected", ssid: "stub", rssi: -55 }; if (cb) cb(d); return d; };\n' +
  '  exports.getStatus = function (cb) { var d = { station: "connected" }; if (cb) cb(d); return d; };\n' +
  '  exports.getIP = function (cb) { var d = { ip: "127.0.0.1", mac: "00:00:00:00:00:01" }; if (cb) cb(null, d); return d; };\n' +
  "  exports.setHostname = function () {};\n" +
  "});\n" +
  // the host never types at the console once the board runs (the Linux build drops and mixes up
  // input while it is busy): the shim reports process.memory() (a GC first) every 250 ms instead.
  // Booted with the baseline too, so its own cost is not counted against the firmware.
  'setInterval(function () { print("\\n@@MEM " + JSON.stringify(process.memory())); }, 250);\n';

export interface Memory {
  free: number;
  usage: number;
  total: number;
}

/** One interpreter process in its own directory (its Storage is the file espruino.flash there). */
export class Espruino {
  readonly dir: string;
  private proc: ChildProcess;
  private out = "";
  private seq = 0;
  private waiters: Array<() => void> = [];

  constructor(bin: string) {
    this.dir = mkdtempSync(join(tmpdir(), "espruino-"));
    // stdin stays open (a pipe never closed): at end of input the console would spin
    this.proc = spawn(bin, [], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    const add = (d: Buffer) => {
      this.out += d.toString("latin1");
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    };
    this.proc.stdout!.on("data", add);
    this.proc.stderr!.on("data", add);
  }

  /** Everything the console printed so far. */
  get console(): string {
    return this.out;
  }

  /** Types one line at the console (no echo). */
  line(s: string): void {
    this.proc.stdin!.write("\x10" + s + "\n");
  }

  /** Resolves once the console printed text matching re after position `from`, or rejects after ms. */
  waitFor(re: RegExp, ms = 10000, from = 0): Promise<RegExpExecArray> {
    return new Promise((res, rej) => {
      const t0 = Date.now();
      const check = () => {
        const m = re.exec(this.out.substring(from));
        if (m) return res(m);
        if (Date.now() - t0 > ms) return rej(new Error("timeout waiting for " + re + "; console:\n" + this.out.slice(-2000)));
        this.waiters.push(check);
        setTimeout(check, 50);
      };
      check();
    });
  }

  /**
   * Evaluates an expression at the console and resolves with its JSON value. The console drops
   * input that comes in a burst, so the line goes in pieces of 16 characters. Use it before the
   * firmware runs only (uploads); afterwards read what the board prints (memory()).
   */
  async eval(expr: string, ms = 10000): Promise<any> {
    const id = ++this.seq;
    const from = this.out.length;
    const text = "\x10print(\"\\n<<" + id + ' "+JSON.stringify((function(){return ' + expr + "})())+\" " + id + '>>")\n';
    for (let i = 0; i < text.length; i += 16) {
      this.proc.stdin!.write(text.substr(i, 16));
      await new Promise((r) => setTimeout(r, 1));
    }
    const m = await this.waitFor(new RegExp("<<" + id + " (.*) " + id + ">>"), ms, from);
    return m[1] === "undefined" ? undefined : JSON.parse(m[1]);
  }

  /** The next process.memory() the shim prints (it runs a garbage collection first). */
  async memory(): Promise<Memory> {
    const m = await this.waitFor(/@@MEM (\{[^\n]*\})/, 5000, this.out.length);
    return JSON.parse(m[1]);
  }

  /**
   * Writes a file to Storage in 256-character chunks, as the espruino tool uploads, each chunk
   * answered before the next goes; then checks its length and CRC32 on the device and writes it
   * again if the console garbled a chunk (it drops input that comes in a burst).
   */
  async store(name: string, text: string): Promise<void> {
    const total = text.length;
    const crc = crc32(Buffer.from(text, "latin1")) | 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      let got: any = 0;
      try {
        for (let o = 0; o < total; o += 256) {
          await this.eval("require(\"Storage\").write(" + JSON.stringify(name) + "," + JSON.stringify(text.substr(o, 256)) + "," + o + "," + total + ")", 4000);
        }
        got = await this.eval("(function(f){return f?[f.length,E.CRC32(f)|0]:0})(require(\"Storage\").read(" + JSON.stringify(name) + "))", 4000);
      } catch (e) {}
      if (got && got[0] === total && got[1] === crc) return;
      // nothing runs yet (uploads come before load()), so Ctrl-C only clears a garbled input line
      this.proc.stdin!.write("\x03");
      await new Promise((r) => setTimeout(r, 300));
      try {
        await this.eval("require(\"Storage\").erase(" + JSON.stringify(name) + ")", 4000);
      } catch (e) {}
    }
    throw new Error("could not write " + name + " to Storage");
  }

  /** Stores the files, then load(): a soft reset that boots from Storage like a board. */
  async boot(files: Record<string, string>): Promise<void> {
    // input that arrives while the interpreter starts up is mangled: wait for its banner, and a little
    await this.waitFor(/espruino\.com\/Donate/, 5000);
    await new Promise((r) => setTimeout(r, 300));
    await this.eval("1");
    this.line("echo(0)");
    for (const name of Object.keys(files)) await this.store(name, files[name]);
    this.line("load()");
    await this.memory();
  }

  close(): void {
    try {
      this.proc.stdin!.write("\x10quit()\n");
    } catch (e) {}
    const p = this.proc;
    setTimeout(() => p.kill("SIGKILL"), 200).unref();
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (e) {}
  }
}

/** the Storage files drv.* of a board, as npm run build leaves them in dist/ */
export function driverFiles(board: string, names = ["run", "bus", "bme280", "ds18b20", "dht"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) out["drv." + n] = readFileSync(join(ROOT, "dist", `${board}.drv.${n}.js`), "latin1");
  return out;
}

export const SENSOR_INPUTS = [
  { name: "air", type: "bme280", sda: "D4", scl: "D5", period: 1000 },
  { name: "water", type: "ds18b20", pin: "D2", period: 1000 },
  { name: "room", type: "dht22", pin: "D12", period: 2000 },
];

/** Reads dist/<board>.js (npm run build makes it). */
export function bundle(board: string): string {
  return readFileSync(join(ROOT, "dist", board + ".js"), "latin1");
}

/**
 * Boots `files` (with the Wifi shim as .boot0) and returns the interpreter, still running, once
 * the shim reports memory.
 */
export async function bootWith(bin: string, files: Record<string, string>): Promise<Espruino> {
  const e = new Espruino(bin);
  try {
    await e.boot({ ".boot0": WIFI_SHIM, ...files });
    return e;
  } catch (err) {
    e.close();
    throw err;
  }
}

/** Blocks in use with the shim alone (the baseline every firmware figure is measured over). */
export async function baseline(bin: string): Promise<number> {
  const e = await bootWith(bin, {});
  try {
    return (await e.memory()).usage;
  } finally {
    e.close();
  }
}

/** A device on the real interpreter, connected to an in-process broker, with a Node peer that sends it commands. */
export interface LiveDevice {
  e: Espruino;
  broker: import("../sim/broker").Broker;
  id: string;
  /** blocks in use now (after a GC) */
  usage(): Promise<number>;
  /** sends one command from the peer "admin" and resolves with the reply */
  command(dt: any): Promise<any>;
  /** drops the device's session at the broker and resolves once it is connected again */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Boots `bundleText` with `config` and any other Storage `files` (server and wifi replaced so that it connects to a fresh
 * broker on 127.0.0.1) and resolves once the device has subscribed its group (or published its
 * status) and gone idle. `files`: more Storage files (the sensor files drv.*).
 */
export async function liveDevice(bin: string, bundleText: string, config: any, idleMs = 600, files: Record<string, string> = {}): Promise<LiveDevice> {
  const { startBroker } = await import("../sim/broker");
  const { nodeNet } = await import("../sim/net");
  const { createClient } = await import("../firmware/jmqt/client");
  const broker = await startBroker({ port: 0 });
  const cfg = JSON.parse(JSON.stringify(config));
  cfg.server = { host: "127.0.0.1", port: broker.port, token: "test-token" };
  cfg.wifi = { ssid: "stub", password: "x" };
  const id = cfg.id;
  let sessions = 0;
  broker.on("packet", (ev: any) => {
    if (ev.dir === "in" && ev.cl === id && ev.type === "pub" && ev.body.cn === (cfg.prefix || "") + "status") sessions++;
  });
  let e: Espruino;
  try {
    e = await bootWith(bin, { ...files, "jmqt.json": JSON.stringify(cfg), ".bootcde": bundleText });
  } catch (err) {
    await broker.close();
    throw err;
  }
  const until = async (what: string, f: () => boolean, ms = 15000) => {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error("timeout: " + what + "\n" + e.console.slice(-1500));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await until("first session", () => sessions > 0);
  } catch (err) {
    e.close();
    await broker.close();
    throw err;
  }
  await new Promise((r) => setTimeout(r, idleMs));
  const replies: any[] = [];
  const peer = createClient(nodeNet(), { host: "127.0.0.1", port: broker.port, cl: "admin", at: "test-token", maxFrame: 65536, inflight: 16, outQueue: 256, dedup: 64 });
  peer.onPush = (cn, dt) => {
    if (cn === "#admin") replies.push(dt);
  };
  peer.start();
  await until("peer", () => peer.state === 4);
  let seq = 0;
  return {
    e,
    broker,
    id,
    async usage() {
      return (await e.memory()).usage;
    },
    async command(dt: any) {
      const want = "r" + ++seq;
      peer.p2p(id, { ...dt, id: want }, 0);
      let r: any;
      await until("reply " + want, () => !!(r = replies.find((x) => x.re === want)), 5000);
      replies.splice(replies.indexOf(r), 1);
      return r;
    },
    async reconnect() {
      const before = sessions;
      broker.kick(id);
      await until("reconnect", () => sessions > before, 20000);
    },
    async close() {
      await new Promise<void>((r) => peer.stop(r));
      e.close();
      await broker.close();
    },
  };
}
