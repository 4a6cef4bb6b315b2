// Load on the REAL interpreter (issue 12): the firmware (dist/<board>.js, booted from Storage)
// against the project's broker, beside floors measured on the same interpreter in the same run.
//   floor "split+parse+answer": a bare socket program (no JMQT session) that splits the stream on
//     NUL, JSON.parses each frame and writes a reply frame: what any JSON-over-TCP device must do.
//   floor "bare write": the same program answering with a constant 60-byte frame (no parse).
// Figures: a burst of N pings (q0 and q1, sent at once) answered completely, each once, and the
// time to the last reply; 200 sequential round trips (median, q0 and q1). Ratios are to the
// split+parse floor. Nothing here is asserted: the tests (test/espruino/load.espruino.test.ts)
// check completeness and memory, never time. `npm run bench -- load-espruino [esp8266|esp32] [N]`.
import * as net from "node:net";
import { startBroker } from "../sim/broker";
import { nodeNet } from "../sim/net";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../sim/espruino/board";
import { S_READY } from "../firmware/jmqt/api";
import type { Client } from "../firmware/jmqt/api";
import { createClient } from "../firmware/jmqt/client";

const TOKEN = "load";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Board = "esp8266" | "esp32";

/** The floor program: connects to the host, answers every NUL-terminated frame. */
function floorCode(port: number, parse: boolean): string {
  const answer = parse
    ? `var o=JSON.parse(f);s.write(JSON.stringify({p2p:{cl:"admin",dt:{re:o.push.dt.id,ok:1}}})+"\\0");`
    : `s.write('{"p2p":{"cl":"admin","dt":{"re":"x","ok":1}},"pad":"0123"}\\0');`;
  return (
    `var b="";var s=require("net").connect({host:"127.0.0.1",port:${port}},function(){});` +
    `s.on("data",function(d){b+=d;var i;while((i=b.indexOf("\\0"))>=0){var f=b.substr(0,i);b=b.substr(i+1);${answer}}});`
  );
}

/** Times N ping frames sent at once to the floor program until N replies came back. */
async function floor(board: Board, n: number, parse: boolean): Promise<{ ms: number; got: number }> {
  let sock: net.Socket | null = null;
  let got = 0;
  let buf = "";
  let last = 0;
  const server = net.createServer((s) => {
    sock = s;
    s.setNoDelay(true);
    s.on("data", (d) => {
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\0")) >= 0) {
        buf = buf.slice(i + 1);
        got++;
        last = Date.now();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const dev = new EspruinoBoard({ board, code: floorCode(port, parse), wifi: null });
  try {
    await dev.boot();
    const end = Date.now() + 10000;
    while (!sock && Date.now() < end) await sleep(10);
    if (!sock) throw new Error("floor program did not connect");
    let frames = "";
    for (let i = 0; i < n; i++) frames += JSON.stringify({ push: { cn: "#dev", dt: { cmd: "ping", id: "p" + i }, cl: "admin" } }) + "\0";
    const t0 = Date.now();
    (sock as net.Socket).write(frames, "latin1");
    while (got < n && Date.now() - Math.max(t0, last) < 3000) await sleep(5);
    return { ms: last - t0, got };
  } finally {
    await dev.stop();
    server.close();
  }
}

/** A Node-side JMQT client `admin` (the firmware's own client over node:net), READY when this
 *  resolves: `got` the dt of every push on #admin (replies), `pushes` every other push. */
export interface Peer {
  c: Client;
  got: any[];
  pushes: { cn: string; dt: any }[];
}

export async function peer(port: number, token = TOKEN): Promise<Peer> {
  const p: Peer = { c: null as any, got: [], pushes: [] };
  p.c = createClient(nodeNet(), {
    host: "127.0.0.1", port, cl: "admin", at: token, maxFrame: 65536, inflight: 4096, outQueue: 4096, dedup: 64,
  });
  p.c.onPush = (cn, dt) => {
    if (cn === "#admin") p.got.push(dt);
    else p.pushes.push({ cn, dt });
  };
  p.c.start();
  const end = Date.now() + 5000;
  while (p.c.state !== S_READY && Date.now() < end) await sleep(5);
  if (p.c.state !== S_READY) throw new Error("the admin peer did not connect");
  return p;
}

/** Stops a peer's client; resolves once its socket is closed. */
export function stopPeer(p: Peer | undefined): Promise<void> {
  return p ? new Promise<void>((r) => p.c.stop(r)) : Promise.resolve();
}

export interface BurstResult {
  ms: number;
  answered: number;
  once: boolean;
  counters: any;
  free: number;
}

/** A burst of n pings at QoS q from `admin` to the device `dev`; waits until 4 s pass without a reply. */
export async function burst(p: Peer, dev: string, n: number, q: number, tag: string): Promise<BurstResult> {
  const mine = () => p.got.filter((d) => d && typeof d.re === "string" && d.re.indexOf(tag) === 0);
  const t0 = Date.now();
  for (let i = 0; i < n; i++) p.c.p2p(dev, { cmd: "ping", id: tag + i }, q);
  let seen = 0;
  let last = Date.now();
  let lastReply = t0;
  while (Date.now() - last < 4000) {
    await sleep(20);
    const k = mine().length;
    if (k !== seen) {
      seen = k;
      last = lastReply = Date.now();
    }
    if (k >= n) break;
  }
  const ids = mine().map((d) => d.re);
  const st = await ask(p, dev, { cmd: "status", id: tag + "st" });
  return { ms: lastReply - t0, answered: new Set(ids).size, once: new Set(ids).size === ids.length, counters: st && st.c, free: st ? st.free : -1 };
}

/** One request, its reply (or null after 5 s). */
export async function ask(p: Pick<Peer, "c" | "got">, dev: string, dt: any): Promise<any> {
  p.c.p2p(dev, dt, 1);
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const r = p.got.find((d) => d && d.re === dt.id);
    if (r) return r;
    await sleep(2);
  }
  return null;
}

async function roundTrips(p: Peer, dev: string, n: number, q: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = "rt" + q + "-" + i;
    const t0 = process.hrtime.bigint();
    p.c.p2p(dev, { cmd: "ping", id }, q);
    while (!p.got.find((d) => d && d.re === id)) await new Promise((r) => setImmediate(r));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function run(board: Board = (process.argv[3] as Board) || "esp8266", n = Number(process.argv[4]) || 1000): Promise<void> {
  if (!hasEspruino(board)) {
    console.log(ESPRUINO_SKIP_MESSAGE);
    return;
  }
  const fl = await floor(board, n, true);
  const bare = await floor(board, n, false);
  const broker = await startBroker({ port: 0, token: TOKEN });
  const cfg = { id: "dev", server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: { ssid: "load", password: "load" }, allow: ["admin"], inputs: [], outputs: [] };
  const dev = new EspruinoBoard({ board, config: cfg, wifi: { rssi: -60 } });
  const p = await peer(broker.port);
  try {
    await dev.boot();
    await dev.waitFor(() => false, 2000);
    const rt0 = await roundTrips(p, "dev", 200, 0);
    const rt1 = await roundTrips(p, "dev", 200, 1);
    const b0 = await burst(p, "dev", n, 0, "a");
    const b1 = await burst(p, "dev", n, 1, "b");
    const r = (x: number) => (fl.ms > 0 ? (x / fl.ms).toFixed(1) + "x" : "-");
    console.log(`real interpreter, ${board} layout, ${n} pings sent at once (time to the last reply):`);
    console.log(`  floor: bare socket, split + JSON.parse + answer   ${fl.ms} ms (${fl.got}/${n} answered)`);
    console.log(`  floor: bare socket, constant answer, no parse     ${bare.ms} ms (${bare.got}/${n})`);
    for (const [name, b] of [["firmware, q0 pings", b0], ["firmware, q1 pings", b1]] as [string, BurstResult][])
      console.log(
        `  ${name.padEnd(48)}  ${b.ms} ms = ${r(b.ms)} the floor; ${b.answered}/${n} answered, ${b.once ? "each once" : "SOME TWICE"}; ` +
          `refused ${b.counters ? b.counters.qd : "?"}, session cycles ${b.counters ? b.counters.rc : "?"}, free ${b.free} blocks after`,
      );
    console.log(`  round trip (200 sequential, median): q0 ${rt0.toFixed(2)} ms, q1 ${rt1.toFixed(2)} ms (q1/q0 = ${(rt1 / rt0).toFixed(2)})`);
  } finally {
    await stopPeer(p);
    await dev.stop();
    await broker.close();
  }
}
