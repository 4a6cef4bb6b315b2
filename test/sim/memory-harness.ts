// The memory corpus (test/sim/memory-corpus/*.js plus the firmware bundles) and how to measure it:
// on the real Espruino 2v29 interpreter (booted from Storage like a board by EspruinoBoard, the
// upload over its TCP control connection, never typed at the console; process.memory() after GC)
// and in the simulator's estimate (SimBoard.memory().usage). Used by tools/record-memory.ts, which
// writes memory-corpus/answers.json, and by test/sim/memory.test.ts.
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { SimBoard } from "../../sim";
import { EspruinoBoard } from "../../sim/espruino/board";

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
export interface Program {
  name: string;
  /** the code stored as .bootcde; `__PORT__` is replaced by a local TCP server's port */
  code: string;
  /** other Storage files */
  files?: Record<string, string>;
  /** firmware: booted as flashed on the board shim (jmqt.json from `files`), its baseline the shim alone */
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
  const dist = path.join(ROOT, "dist", board + ".bootcde");
  if (fs.existsSync(dist)) {
    // the board's example config, its server moved to a closed local port: on both sides the
    // connection ends at once (the sim refuses it; on the interpreter the board's link is refused
    // upstream and closes the device's socket) and the device waits to retry (a LAN address would
    // leave a pending socket on the interpreter, where the sim refuses remote hosts). The code is
    // dist/<board>.bootcde: what the flash dry run writes as .bootcde.
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

// an empty .bootcde cannot be written (Storage throws): the baseline program is a comment
const EMPTY = "// empty\n";

/**
 * .boot0 of a corpus program's boot (no board shim: nothing may be sent to the interpreter once
 * the program runs): prints process.memory().usage (a GC first) once the program has settled.
 * Its own timer entry is in the figure (in the baseline as in every program's usage), and its
 * size depends on the numbers it holds: measured as it fires, 8 or 9 blocks by how late it ran
 * (the machine's load); its interval set to 1000000 ms first, 10 every time.
 */
function reporter(settleMs: number): string {
  return `var __m=setInterval(function(){changeInterval(__m,1000000);var u=process.memory().usage;clearInterval(__m);print("\\n@@MEM "+u)},${settleMs});`;
}

/**
 * Blocks by which a program's figure may differ from one measurement to the next: timers.js's
 * 100 ms interval is caught at a random point of its period, and its entry takes 9 or 10 blocks.
 */
export const JITTER: Record<string, number> = { timers: 1 };

export interface Figures {
  /** process.memory().usage with the program booted */
  usage: number;
  /** the same with the baseline (empty program; for the firmware: the board shim alone) */
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

/** A corpus program booted from Storage with nothing else but the reporter: its usage once settled, and the console. */
async function bootProgram(bin: string, board: BoardId, code: string, files: Record<string, string>, settleMs: number): Promise<{ usage: number; console: string[] }> {
  const b = new EspruinoBoard({ board, binary: bin, shim: false, code, storage: { ...files, ".boot0": reporter(settleMs) }, wifi: null });
  try {
    await b.boot();
    if (!(await b.waitFor(/@@MEM \d/, settleMs + 10000))) throw new Error("no memory report; console:\n" + b.console.slice(-20).join("\n"));
    const line = b.console.find((l) => /@@MEM \d/.test(l))!;
    return { usage: Number(line.slice(line.indexOf("@@MEM ") + 6)), console: b.console };
  } finally {
    await b.stop();
  }
}

/**
 * The firmware's figure is the least usage over a window after it settled: with its server refused
 * the device alternates between a connect attempt (a socket and its listeners, ~20 blocks) and a
 * backoff of randomized length (client.ts: half to all of 1, 2, 4 s), so one sample at a fixed
 * time caught either (386 or 405 blocks on espruino-esp8266, against the model's 364). Every
 * window of FIRMWARE_SAMPLES x FIRMWARE_SAMPLE_MS holds a backoff: the idle device, on both sides.
 */
const FIRMWARE_SAMPLES = 10;
const FIRMWARE_SAMPLE_MS = 250;

/**
 * The firmware as flashed (EspruinoBoard: the board shim, the dry run for `jmqt.json`), settled,
 * and the same boot with the shim alone: process.memory().usage of each (the firmware's the least
 * of FIRMWARE_SAMPLES).
 */
async function bootFirmware(bin: string, board: BoardId, config: any, settleMs: number): Promise<{ usage: number; baseline: number; console: string[] }> {
  const base = new EspruinoBoard({ board, binary: bin, firmware: false });
  let baseline: number;
  try {
    await base.boot();
    await base.sleep(200);
    baseline = (await base.memory()).usage;
  } finally {
    await base.stop();
  }
  const b = new EspruinoBoard({ board, binary: bin, config });
  try {
    await b.boot();
    await b.sleep(settleMs);
    let usage = Infinity;
    for (let i = 0; i < FIRMWARE_SAMPLES; i++) {
      if (i) await b.sleep(FIRMWARE_SAMPLE_MS);
      usage = Math.min(usage, (await b.memory()).usage);
    }
    return { usage, baseline, console: b.console };
  } finally {
    await b.stop();
  }
}

export async function measureInterpreter(bin: string, prog: Program, board: BoardId): Promise<Figures> {
  const tag = (e: any) => {
    throw new Error(prog.name + " on " + bin + ": " + (e && e.message ? e.message : e));
  };
  let u: { usage: number; baseline: number; console: string[] };
  if (prog.firmware) u = await bootFirmware(bin, board, JSON.parse(prog.files!["jmqt.json"]), prog.settleMs).catch(tag);
  else {
    const b = await bootProgram(bin, board, EMPTY, prog.files || {}, prog.settleMs).catch(tag);
    const p = await withPort(prog, (code) => bootProgram(bin, board, code, prog.files || {}, prog.settleMs)).catch(tag);
    u = { usage: p.usage, baseline: b.usage, console: p.console };
  }
  const bad = u.console.filter((l) => /Uncaught|LOW_MEMORY|OUT OF MEMORY|ASSERT/.test(l));
  if (bad.length) throw new Error(prog.name + " failed on the interpreter:\n" + u.console.slice(-30).join("\n"));
  return { usage: u.usage, baseline: u.baseline, net: u.usage - u.baseline };
}

export async function measureModel(board: BoardId, prog: Program): Promise<Figures> {
  const run = async (code: string): Promise<number> => {
    const storage: Record<string, string> = Object.assign({}, prog.files || {});
    const b = new SimBoard({ board, code, storage, wifi: prog.firmware ? { ssid: "my-network", password: "my-password" } : null });
    try {
      b.boot();
      await b.advance(prog.settleMs);
      if (prog.server) await new Promise((r) => setTimeout(r, 200)), await b.advance(100);
      let usage = b.memory().usage;
      // the firmware as on the interpreter: the least of the samples over the window
      if (prog.firmware && code !== EMPTY)
        for (let i = 1; i < FIRMWARE_SAMPLES; i++) {
          await b.advance(FIRMWARE_SAMPLE_MS);
          usage = Math.min(usage, b.memory().usage);
        }
      const bad = b.console.filter((l) => /^Uncaught/.test(l));
      if (bad.length) throw new Error(prog.name + " failed in the sim: " + bad.join("; "));
      return usage;
    } finally {
      b.stop();
    }
  };
  const baseline = await run(EMPTY);
  const usage = await withPort(prog, run);
  return { usage, baseline, net: usage - baseline };
}
