// Device runtime figures: the example config's bundle size per board (as tools/build.ts builds it,
// config baked in), the simulator's estimate of blocks in use once connected (and after a burst of
// readings and commands), and the P2P command round trip (request -> reply) over loopback TCP in
// the simulator with a real-time clock; and the number of function objects in the bundle (each
// one costs RAM on the board even when its body stays in flash).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { buildBoard } from "../tools/build";
import { SimBoard } from "../sim";
import { startBroker } from "../sim/broker";
import { nodeNet } from "../sim/net";
import { createClient, p2p, start, stop } from "../firmware/jmqt/client";
import { S_READY } from "../firmware/jmqt/api";

const WIFI = { ssid: "bench-ap", password: "bench-pass" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exampleConfig(board: string, port: number): any {
  const cfg = JSON.parse(readFileSync(join(__dirname, "..", "examples", board === "esp32" ? "device.json" : "device-esp8266.json"), "utf8"));
  cfg.server = { host: "127.0.0.1", port, token: "tok" };
  cfg.wifi = WIFI;
  return cfg;
}

/** Function declarations and expressions in a (minified) bundle. */
function countFunctions(code: string): number {
  let n = 0;
  walk.full(acorn.parse(code, { ecmaVersion: 5 }), (node) => {
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression") n++;
  });
  return n;
}

export async function run(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), "jmqt-bench-"));
  const code: Record<string, string> = {};
  console.log("board    bundle bytes (gzip)   budget   blocks in use (config from Storage): connected / after 1000 readings+50 cmds");
  for (const board of ["esp32", "esp8266"]) {
    // size with the example config baked in; memory measured running the plain bundle with the
    // config in Storage (a baked config would also be held in RAM as DEFAULT_CONFIG)
    const r = await buildBoard({ board, outDir: join(out, "baked"), config: exampleConfig(board, 8010) });
    const baked = readFileSync(r.files.min, "latin1");
    const plain = await buildBoard({ board, outDir: out });
    code[board] = readFileSync(plain.files.min, "latin1");
    const broker = await startBroker({ port: 0, token: "tok" });
    const sim = new SimBoard({ board: board as any, code: code[board], storage: { "jmqt.json": JSON.stringify(exampleConfig(board, broker.port)) }, wifi: WIFI });
    sim.boot();
    await sim.advance(8000);
    const idle = sim.memory();
    const admin = createClient(nodeNet(), { host: "127.0.0.1", port: broker.port, cl: "admin", at: "tok", maxFrame: 65536, inflight: 16, outQueue: 256, dedup: 64 });
    start(admin);
    while (admin.state !== S_READY) await sleep(5);
    const dev = exampleConfig(board, 0).id;
    const analog = board === "esp32" ? "D34" : "A0";
    for (let i = 0; i < 1000; i++) {
      sim.setAnalog(analog, (i % 50) / 50);
      if (i % 5 === 0) sim.setDigital("D0", (i / 5) % 2);
      if (i % 20 === 0) p2p(admin, dev, { cmd: "toggle", id: "b" + i, target: "led" }, 0);
      await sim.advance(1000);
    }
    const busy = sim.memory();
    console.log(
      `${board.padEnd(8)} ${String(baked.length).padStart(6)} (${gzipSync(baked).length})`.padEnd(30) +
        `${String(r.budget).padStart(6)}   ${idle.usage} / ${busy.usage} (of ${idle.total}; ${((100 * idle.free) / idle.total).toFixed(1)}% free connected); ` +
        `${countFunctions(code[board])} functions in the bundle`,
    );
    await new Promise<void>((res) => stop(admin, res));
    sim.stop();
    await broker.close();
  }

  // Round trip in real time: the device runs on a real clock, the requester is a Node client.
  const broker = await startBroker({ port: 0, token: "tok" });
  const sim = new SimBoard({ board: "esp32", code: code.esp32, clock: "real", storage: { "jmqt.json": JSON.stringify(exampleConfig("esp32", broker.port)) }, wifi: { ...WIFI, connectMs: 50 } });
  sim.boot();
  const admin = createClient(nodeNet(), { host: "127.0.0.1", port: broker.port, cl: "admin", at: "tok", maxFrame: 65536, inflight: 16, outQueue: 256, dedup: 64 });
  let pending: ((dt: any) => void) | null = null;
  admin.onPush = (cn, dt) => {
    if (cn === "#admin" && pending) pending(dt);
  };
  start(admin);
  const end = Date.now() + 10000;
  while ((admin.state !== S_READY || !broker.clients().includes("kitchen-esp32")) && Date.now() < end) await sleep(10);
  await sleep(300);
  const times: number[] = [];
  const N = 200;
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    const reply = await new Promise<any>((res) => {
      pending = res;
      p2p(admin, "kitchen-esp32", { cmd: i % 2 ? "ping" : "toggle", id: "rt" + i, target: "led" }, 0);
    });
    if (reply.re !== "rt" + i) throw new Error("wrong reply " + JSON.stringify(reply));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(2);
  console.log(`P2P command round trip (esp32 sim, loopback, ${N} requests): median ${pct(50)} ms, p95 ${pct(95)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
  await new Promise<void>((res) => stop(admin, res));
  sim.stop();
  await broker.close();
}

if (require.main === module) run().then(() => process.exit(0));
