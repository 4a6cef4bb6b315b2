// The memory corpus (test/sim/memory-corpus/*.js plus the firmware bundles) and how to measure it:
// on the real Espruino 2v29 interpreter (booted from Storage like a board, process.memory() after
// GC) and in the simulator's estimate (SimBoard.memory().usage). Used by tools/record-memory.ts,
// which writes memory-corpus/answers.json, and by test/sim/memory.test.ts.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { SimBoard } from "../../sim";

const ROOT = path.join(__dirname, "../..");
export const CORPUS_DIR = path.join(__dirname, "memory-corpus");
export const ANSWERS_FILE = path.join(CORPUS_DIR, "answers.json");
export const BOARDS = ["esp8266", "esp32"] as const;
export type BoardId = (typeof BOARDS)[number];

/** Where the interpreters live (../shared/espruino/bin, see ../shared/espruino/LINUX.md). */
export function findInterpreter(board: BoardId): string | null {
  const env = process.env.ESPRUINO_BIN_DIR;
  const dirs = env ? [env] : [path.resolve(ROOT, "../shared/espruino/bin"), path.resolve(ROOT, "../../shared/espruino/bin")];
  for (const d of dirs) {
    const f = path.join(d, "espruino-" + board);
    if (fs.existsSync(f)) return f;
  }
  return null;
}
const STUB = () => {
  for (const d of [path.resolve(ROOT, "../shared/espruino/boot"), path.resolve(ROOT, "../../shared/espruino/boot")]) {
    const f = path.join(d, "wifi-stub.js");
    if (fs.existsSync(f)) return fs.readFileSync(f, "latin1");
  }
  return null;
};

export interface Program {
  name: string;
  /** the code stored as .bootcde; `__PORT__` is replaced by a local TCP server's port */
  code: string;
  /** other Storage files */
  files?: Record<string, string>;
  /** firmware: the interpreter runs the Wifi stand-in as .boot0 and its baseline is the stub alone */
  firmware?: boolean;
  /** ms of running before the measurement */
  settleMs: number;
  /** needs a TCP server on 127.0.0.1 */
  server?: boolean;
}

/** The corpus: every memory-corpus/*.js, and the firmware bundle of the board (built by npm run build). */
export function loadCorpus(board: BoardId): Program[] {
  const out: Program[] = [];
  for (const f of fs.readdirSync(CORPUS_DIR).sort()) {
    if (!f.endsWith(".js")) continue;
    const code = fs.readFileSync(path.join(CORPUS_DIR, f), "latin1");
    out.push({ name: f.replace(/\.js$/, ""), code, settleMs: 1500, server: code.indexOf("__PORT__") >= 0 });
  }
  const dist = path.join(ROOT, "dist", board + ".js");
  if (fs.existsSync(dist)) {
    // the board's example config, its server moved to a closed local port: on both sides the
    // connect fails at once and the device waits to retry (a LAN address would leave a pending
    // socket on the interpreter, where the sim refuses remote hosts)
    const cfg = JSON.parse(fs.readFileSync(path.join(ROOT, board === "esp8266" ? "examples/device-esp8266.json" : "examples/device.json"), "latin1"));
    cfg.server.host = "127.0.0.1";
    cfg.server.port = 9;
    out.push({ name: "firmware", code: fs.readFileSync(dist, "latin1"), files: { "jmqt.json": JSON.stringify(cfg) }, firmware: true, settleMs: 3000 });
  }
  return out;
}

/** A TCP server that accepts and holds connections (sends a greeting). */
export async function startServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.on("close", () => socks.delete(s));
    s.write("hello\n");
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

// a string literal of plain ASCII (bytes >= 0x7F as \xNN), so the console sees no editing keys
function asciiLiteral(t: string): string {
  return JSON.stringify(t).replace(/[\x7f-\xff]/g, (c) => "\\x" + c.charCodeAt(0).toString(16));
}

/** Boots Storage files on the interpreter; retried (a busy console can garble a line). */
export async function bootOnInterpreter(bin: string, files: Record<string, string>, settleMs: number): Promise<{ usage: number; console: string }> {
  for (let i = 0; ; i++) {
    try {
      return await bootOnce(bin, files, settleMs);
    } catch (e) {
      if (i >= 3) throw e;
    }
  }
}

/** Boots Storage files on the interpreter like a board (chunked uploads, load()), returns process.memory(). */
function bootOnce(bin: string, files: Record<string, string>, settleMs: number): Promise<{ usage: number; console: string }> {
  return new Promise((resolve, reject) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-mem-"));
    const p = spawn(bin, [], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d.toString("latin1")));
    p.stderr.on("data", (d) => (out += d.toString("latin1")));
    p.stdin.on("error", () => {});
    const line = (s: string) => p.stdin.write("\x10" + s + "\n");
    const done = (err: Error | null) => {
      p.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
      const m = /MEM (\{[^\n]*\})/.exec(out);
      if (err || !m) return reject(new Error((err ? err.message : "no memory figure") + "; console:\n" + out.slice(-1500)));
      resolve({ usage: JSON.parse(m[1]).usage, console: out });
    };
    const timer = setTimeout(() => done(new Error("timeout")), settleMs + 60000);
    // one line at a time, each acknowledged before the next (a busy interpreter drops input
    // that arrives faster than it parses it)
    const lines: string[] = ["echo(0)"];
    for (const name of Object.keys(files)) {
      const text = files[name];
      const total = text.length;
      for (let o = 0; o < total; o += 128) lines.push("require(\"Storage\").write(" + JSON.stringify(name) + "," + asciiLiteral(text.substr(o, 128)) + "," + o + "," + total + ")");
    }
    let n = 0;
    const next = () => {
      if (n < lines.length) {
        const tag = "ACK" + n + "!";
        line(lines[n++] + ';print("' + tag + '")');
        const wait = setInterval(() => {
          if (out.indexOf(tag) < 0) {
            if (/Uncaught|LOW_MEMORY/.test(out)) {
              clearInterval(wait);
              clearTimeout(timer);
              done(new Error("upload failed"));
            }
            return;
          }
          clearInterval(wait);
          next();
        }, 5);
        return;
      }
      // every upload taken: boot from Storage like a board, let it settle, measure after GC
      line("load()");
      setTimeout(() => {
        line('print("\\nMEM " + JSON.stringify(process.memory()))');
        const poll = setInterval(() => {
          if (/MEM \{[^\n]*\}/.test(out)) {
            clearInterval(poll);
            clearTimeout(timer);
            setTimeout(() => done(null), 50);
          }
        }, 50);
      }, settleMs);
    };
    setTimeout(next, 300);
  });
}

// an empty .bootcde cannot be written (Storage throws): the baseline program is a comment
const EMPTY = "// empty\n";

export interface Figures {
  /** process.memory().usage with the program booted */
  usage: number;
  /** the same with the baseline (empty program; for the firmware: the Wifi stub alone) */
  baseline: number;
  /** usage - baseline: what the program costs */
  net: number;
}

async function withPort<T>(prog: Program, f: (code: string) => Promise<T>): Promise<T> {
  if (!prog.server) return f(prog.code);
  const srv = await startServer();
  try {
    return await f(prog.code.split("__PORT__").join(String(srv.port)));
  } finally {
    await srv.close();
  }
}

export async function measureInterpreter(bin: string, prog: Program): Promise<Figures> {
  const shim = prog.firmware ? STUB() : null;
  if (prog.firmware && !shim) throw new Error("no wifi-stub.js next to the interpreter");
  const base: Record<string, string> = shim ? { ".boot0": shim } : {};
  const extra = prog.files || {};
  const tag = (e: any) => {
    throw new Error(prog.name + " on " + bin + ": " + (e && e.message ? e.message : e));
  };
  const b = await bootOnInterpreter(bin, Object.assign({}, base, extra, { ".bootcde": EMPTY }), prog.settleMs).catch(tag);
  const u = await withPort(prog, (code) => bootOnInterpreter(bin, Object.assign({}, base, extra, { ".bootcde": code }), prog.settleMs)).catch(tag);
  if (/Uncaught|LOW_MEMORY|OUT OF MEMORY|ASSERT/.test(u.console)) throw new Error(prog.name + " failed on the interpreter:\n" + u.console.slice(-1500));
  return { usage: u.usage, baseline: b.usage, net: u.usage - b.usage };
}

export async function measureModel(board: BoardId, prog: Program): Promise<Figures> {
  const run = async (code: string): Promise<number> => {
    const storage: Record<string, string> = Object.assign({}, prog.files || {});
    const b = new SimBoard({ board, code, storage, wifi: prog.firmware ? { ssid: "my-network", password: "my-password" } : null });
    try {
      b.boot();
      await b.advance(prog.settleMs);
      if (prog.server) await new Promise((r) => setTimeout(r, 200)), await b.advance(100);
      const bad = b.console.filter((l) => /^Uncaught/.test(l));
      if (bad.length) throw new Error(prog.name + " failed in the sim: " + bad.join("; "));
      return b.memory().usage;
    } finally {
      b.stop();
    }
  };
  const baseline = await run(EMPTY);
  const usage = await withPort(prog, run);
  return { usage, baseline, net: usage - baseline };
}
