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
  "});\n";

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
   * input it receives while the interpreter is busy (booting from flash, say), so the line goes in
   * small pieces and is sent again (after a newline that ends any garbled line) if no answer comes.
   */
  async eval(expr: string, ms = 10000): Promise<any> {
    const t0 = Date.now();
    for (;;) {
      const id = ++this.seq;
      const from = this.out.length;
      const text = "\n\x10print(\"\\n<<" + id + ' "+JSON.stringify((function(){return ' + expr + "})())+\" " + id + '>>")\n';
      for (let i = 0; i < text.length; i += 24) {
        this.proc.stdin!.write(text.substr(i, 24));
        await new Promise((r) => setTimeout(r, 2));
      }
      try {
        const m = await this.waitFor(new RegExp("<<" + id + " (.*) " + id + ">>"), 2500, from);
        return m[1] === "undefined" ? undefined : JSON.parse(m[1]);
      } catch (e) {
        if (Date.now() - t0 > ms) throw e;
      }
    }
  }

  /** process.memory() (a garbage collection first). */
  memory(): Promise<Memory> {
    return this.eval("process.memory()");
  }

  /** Writes a file to Storage in 256-character chunks, as the espruino tool uploads. */
  store(name: string, text: string): void {
    const total = text.length;
    for (let o = 0; o < total; o += 256) {
      this.line("require(\"Storage\").write(" + JSON.stringify(name) + "," + JSON.stringify(text.substr(o, 256)) + "," + o + "," + total + ")");
    }
  }

  /** Stores the files, then load(): a soft reset that boots from Storage like a board. */
  async boot(files: Record<string, string>): Promise<void> {
    await this.eval("1");
    this.line("echo(0)");
    for (const name of Object.keys(files)) this.store(name, files[name]);
    await this.eval("require(\"Storage\").list().length");
    this.line("load()");
    await new Promise((r) => setTimeout(r, 2000));
    await this.eval("1");
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

/** Reads dist/<board>.js (npm run build makes it). */
export function bundle(board: string): string {
  return readFileSync(join(ROOT, "dist", board + ".js"), "latin1");
}

/**
 * Boots `files` (with the Wifi shim as .boot0) and waits until `ready` (an expression) is true,
 * then returns the interpreter, still running.
 */
export async function bootWith(bin: string, files: Record<string, string>, ready = "1", ms = 15000): Promise<Espruino> {
  const e = new Espruino(bin);
  try {
    await e.boot({ ".boot0": WIFI_SHIM, ...files });
    const t0 = Date.now();
    while (!(await e.eval("!!(" + ready + ")"))) {
      if (Date.now() - t0 > ms) throw new Error("not ready: " + ready + "\n" + e.console.slice(-2000));
      await new Promise((r) => setTimeout(r, 100));
    }
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
 * Boots `bundleText` with `config` (server and wifi replaced so that it connects to a fresh
 * broker on 127.0.0.1) and resolves once the device has subscribed its group (or published its
 * status) and gone idle.
 */
export async function liveDevice(bin: string, bundleText: string, config: any, idleMs = 600): Promise<LiveDevice> {
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
  const e = await bootWith(bin, { "jmqt.json": JSON.stringify(cfg), ".bootcde": bundleText });
  const until = async (what: string, f: () => boolean, ms = 15000) => {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error("timeout: " + what + "\n" + e.console.slice(-1500));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until("first session", () => sessions > 0);
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
