// Load on the REAL interpreter and on the V8 model (issue 12): the firmware (dist/<board>.js)
// against the project's broker, each engine beside floors measured on that engine in the same run.
//   floor "split+parse+answer": a bare socket program (no JMQT session) that splits the stream on
//     NUL, JSON.parses each frame and writes a reply frame: what any JSON-over-TCP device must do.
//   floor "bare write": the same program answering with a constant 60-byte frame (no parse).
// The engines: the real interpreter (EspruinoBoard, booted from Storage as flashed) and the V8
// model (SimBoard on a real clock: the same bundle in its realm, sockets over loopback TCP, the
// same broker); each floor program runs on the engine it is the floor of (in the V8 model after a
// WiFi join, which its sockets need; the timing starts once it is connected).
// Figures: a burst of N pings (q0 and q1, sent at once) answered completely, each once, and the
// time to the last reply; 200 sequential round trips at each QoS, alternating q0 and q1 (medians; the floor's: one frame
// at a time to the split+parse program); publishing: 16 inputs every 100 ms, the readings per second
// that reach the broker. Ratios are to the split+parse floor of the same engine,
// the firmware's bursts to its burst, its round trips to its round trip (the floor answers the
// host directly, the firmware through the broker). Nothing here is asserted: the tests
// (test/espruino/load.espruino.test.ts) check completeness and memory, never time.
// Beside them, when it can be run: Espruino's own MQTT module (EspruinoDocs modules/MQTT.js, given by
// $ESPRUINO_MQTT_MODULE; it is not in ../shared) minified by terser, stored as the Storage module
// "MQTT" on the same interpreter, echoing each message of a burst of N published to it through
// mosquitto (on PATH, or $MOSQUITTO) to a Node MQTT client (the `mqtt` package), and 200 sequential
// round trips: the yardstick, measured in the same run, its bursts interleaved with the
// firmware's (compareWithMqtt).
// `npm run bench -- load-espruino [esp8266|esp32] [N]`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import mqtt from "mqtt";
import { minify } from "terser";
import { checkPretokenised, pretokeniseFiles } from "../tools/pretokenise";
import { startBroker, type Broker } from "../sim/broker";
import { nodeNet } from "../sim/net";
import { SimBoard } from "../sim/board";
import type { Device } from "../sim/device";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../sim/espruino/board";
import { S_READY } from "../firmware/jmqt/api";
import type { Client } from "../firmware/jmqt/api";
import { createClient, p2p, start, stop } from "../firmware/jmqt/client";
import { closedPort } from "../test/desktop/helpers";

const TOKEN = "load";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Board = "esp8266" | "esp32";
type Engine = "espruino" | "v8";
/** the V8 model's access point (the real engine's shim joins whatever the firmware asks for) */
const AP = { ssid: "load", password: "load" };

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

/** A board of `engine` running `code`, or the firmware (dist/<board>.js) with `config`; not booted. */
function device(engine: Engine, board: Board, o: { code?: string; config?: any }): Device {
  if (engine === "espruino")
    return o.code !== undefined ? new EspruinoBoard({ board, code: o.code, wifi: null }) : new EspruinoBoard({ board, config: o.config, wifi: { rssi: -60 } });
  if (o.code !== undefined)
    // the model's sockets need a joined station: the floor program opens its socket once joined
    return new SimBoard({ board, clock: "real", wifi: { ...AP, connectMs: 50 }, code: `require("Wifi").connect(${JSON.stringify(AP.ssid)},{password:${JSON.stringify(AP.password)}},function(){${o.code}});` });
  return new SimBoard({ board, clock: "real", wifi: { ...AP, rssi: -60, connectMs: 50 }, storage: { "jmqt.json": JSON.stringify(o.config) } });
}

/** The firmware of `engine` with `cfg`, booted, online on `broker`, and given 2 s to settle. */
async function bootOnline(engine: Engine, board: Board, broker: Broker, cfg: any): Promise<Device> {
  const dev = device(engine, board, { config: cfg });
  try {
    await dev.boot();
    if (!(await dev.waitFor(() => broker.clients().indexOf(cfg.id) >= 0, 15000))) throw new Error(`${engine}: ${cfg.id} did not come online`);
  } catch (e) {
    await dev.stop();
    throw e;
  }
  await sleep(2000);
  return dev;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface FloorResult {
  /** time from the burst sent to its last reply */
  ms: number;
  got: number;
  /** median of 200 sequential round trips (one frame, its reply) */
  rt: number;
  /** read() calls per message over the burst (the code lexed from flash: EspruinoBoard.readCalls), when known */
  reads?: number;
  /** the interpreter's CPU time (user + system) per message over the burst, ms (EspruinoBoard.cpuMs), when known */
  cpu?: number;
}

/** The device's read() calls and CPU time, to be read before and after a burst (EspruinoBoard on Linux). */
export interface Meters {
  readCalls(): number | undefined;
  cpuMs(): number | undefined;
}

/** Per message from two readings of a meter, when both are known and there were messages. */
const per = (a: number | undefined, b: number | undefined, n: number) => (a !== undefined && b !== undefined && n ? (b - a) / n : undefined);

/** Replies counted as they arrive, and when the last one came. */
interface Echoes {
  got: number;
  last: number;
}

/** Times a burst of n (sent by sendBurst) until n replies came back or none for 3 s, then 200
 *  sends one at a time (sendOne), each waiting for its reply: the floors' and the MQTT module's figures. */
async function timeEchoes(seen: Echoes, n: number, sendBurst: () => void, sendOne: ((i: number) => void) | undefined, meters?: Meters): Promise<FloorResult> {
  const r0 = meters && meters.readCalls();
  const c0 = meters && meters.cpuMs();
  const t0 = Date.now();
  sendBurst();
  while (seen.got < n && Date.now() - Math.max(t0, seen.last) < 3000) await sleep(5);
  const ms = seen.last - t0;
  const got = seen.got;
  const reads = per(r0, meters && meters.readCalls(), got);
  const cpu = per(c0, meters && meters.cpuMs(), got);
  const times: number[] = [];
  for (let i = 0; sendOne && i < 200; i++) {
    const want = seen.got + 1;
    const t = process.hrtime.bigint();
    sendOne(i);
    while (seen.got < want) await new Promise((r) => setImmediate(r));
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms, got, rt: times.length ? median(times) : NaN, reads, cpu };
}

/** Times N ping frames sent at once to the floor program until N replies came back, then 200 one at a time. */
async function floor(engine: Engine, board: Board, n: number, parse: boolean): Promise<FloorResult> {
  let sock: net.Socket | null = null;
  const seen: Echoes = { got: 0, last: 0 };
  let buf = "";
  const server = net.createServer((s) => {
    sock = s;
    s.setNoDelay(true);
    // the board's end is reset when it stops
    s.on("error", () => {});
    s.on("data", (d) => {
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\0")) >= 0) {
        buf = buf.slice(i + 1);
        seen.got++;
        seen.last = Date.now();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const dev = device(engine, board, { code: floorCode(port, parse) });
  const ping = (i: number) => JSON.stringify({ push: { cn: "#dev", dt: { cmd: "ping", id: "p" + i }, cl: "admin" } }) + "\0";
  try {
    await dev.boot();
    const end = Date.now() + 10000;
    while (!sock && Date.now() < end) await sleep(10);
    if (!sock) throw new Error(`floor program did not connect (${engine})`);
    const s: net.Socket = sock;
    let frames = "";
    for (let i = 0; i < n; i++) frames += ping(i);
    return await timeEchoes(
      seen,
      n,
      () => s.write(frames, "latin1"),
      (i) => s.write(ping(n + i), "latin1"),
      dev instanceof EspruinoBoard ? dev : undefined,
    );
  } finally {
    await dev.stop();
    server.close();
  }
}

/** Where mosquitto is: $MOSQUITTO, else on PATH; undefined when it is not there. */
function mosquittoBinary(): string | undefined {
  if (process.env.MOSQUITTO) return fs.existsSync(process.env.MOSQUITTO) ? process.env.MOSQUITTO : undefined;
  for (const d of (process.env.PATH || "").split(":").concat(["/usr/sbin", "/usr/local/sbin"])) if (fs.existsSync(path.join(d, "mosquitto"))) return path.join(d, "mosquitto");
  return undefined;
}

/** Espruino's MQTT module echoing on the real interpreter, booted and subscribed: `echo(n)` times
 *  a burst of n messages (and, with `roundTrips`, 200 sequential ones) through mosquitto. */
interface MqttEcho {
  echo(n: number, roundTrips: boolean): Promise<FloorResult>;
  close(): Promise<void>;
  board: EspruinoBoard;
}

/** The MQTT module on the real interpreter, ready to echo; a string saying why when it cannot be run here. */
export async function mqttModuleDevice(board: Board, pretokenised: boolean): Promise<MqttEcho | string> {
  const file = process.env.ESPRUINO_MQTT_MODULE;
  if (!file || !fs.existsSync(file)) return "set ESPRUINO_MQTT_MODULE to Espruino's modules/MQTT.js (github.com/espruino/EspruinoDocs) to measure it";
  const bin = mosquittoBinary();
  if (!bin) return "mosquitto is not installed (apt install mosquitto, or set MOSQUITTO)";
  const port = await closedPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mosquitto-"));
  fs.writeFileSync(path.join(dir, "m.conf"), `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
  const broker = spawn(bin, ["-c", path.join(dir, "m.conf")], { stdio: "ignore" });
  let dev: EspruinoBoard | undefined;
  let c: mqtt.MqttClient | undefined;
  const close = async () => {
    if (c) c.end(true);
    if (dev) await dev.stop();
    broker.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    let module = (await minify(fs.readFileSync(file, "utf8"), { ecma: 5 })).code!;
    if (pretokenised) {
      // as the firmware is flashed (tools/pretokenise.ts), checked the same way
      fs.writeFileSync(path.join(dir, "MQTT.js"), module);
      pretokeniseFiles([[path.join(dir, "MQTT.js"), path.join(dir, "MQTT.tok")]]);
      const tok = fs.readFileSync(path.join(dir, "MQTT.tok"), "latin1");
      const why = checkPretokenised(module, tok);
      if (why) {
        await close();
        return "pretokenised, it does not read back as itself: " + why;
      }
      module = tok;
    }
    const code =
      `var m=require("MQTT").create("127.0.0.1",{port:${port},client_id:"echo"});` +
      `m.on("connected",function(){m.subscribe("in")});m.on("publish",function(p){m.publish("out",p.message)});m.connect();`;
    const board1 = (dev = new EspruinoBoard({ board, code, wifi: null, storage: { MQTT: module } }));
    await sleep(300);
    await board1.boot();
    const client = (c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: "host" }));
    await new Promise((r, j) => (client.once("connect", r), client.once("error", j)));
    const seen: Echoes = { got: 0, last: 0 };
    client.on("message", () => {
      seen.got++;
      seen.last = Date.now();
    });
    await new Promise((r) => client.subscribe("out", r));
    // the device subscribes once connected: wait for its first echo
    const ready = Date.now() + 10000;
    while (seen.got === 0 && Date.now() < ready) {
      client.publish("in", "hello");
      await sleep(200);
    }
    if (seen.got === 0) {
      const why = "the MQTT module never echoed (console: " + board1.console.slice(-3).join(" / ") + ")";
      await close();
      return why;
    }
    await sleep(500);
    let k = 0;
    return {
      echo: (n, roundTrips) => {
        seen.got = 0;
        const tag = "b" + k++ + "-";
        return timeEchoes(
          seen,
          n,
          () => {
            for (let i = 0; i < n; i++) client.publish("in", JSON.stringify({ cmd: "ping", id: tag + i }));
          },
          roundTrips ? (i) => client.publish("in", JSON.stringify({ cmd: "ping", id: "r" + i })) : undefined,
          board1,
        );
      },
      close,
      board: board1,
    };
  } catch (e) {
    await close();
    return "failed: " + e;
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
  start(p.c);
  const end = Date.now() + 5000;
  while (p.c.state !== S_READY && Date.now() < end) await sleep(5);
  if (p.c.state !== S_READY) throw new Error("the admin peer did not connect");
  return p;
}

/** Stops a peer's client; resolves once its socket is closed. */
export function stopPeer(p: Peer | undefined): Promise<void> {
  return p ? new Promise<void>((r) => stop(p.c, r)) : Promise.resolve();
}

export interface BurstResult {
  ms: number;
  answered: number;
  once: boolean;
  counters: any;
  free: number;
  /** read() calls per ping over the burst (EspruinoBoard.readCalls), when known */
  reads?: number;
  /** the interpreter's CPU time per ping over the burst, ms (EspruinoBoard.cpuMs), when known */
  cpu?: number;
}

/** A burst of n pings at QoS q from `admin` to the device `dev`; waits until 4 s pass without a reply. */
export async function burst(p: Peer, dev: string, n: number, q: number, tag: string, meters?: Meters, cmd = "ping"): Promise<BurstResult> {
  const mine = () => p.got.filter((d) => d && typeof d.re === "string" && d.re.indexOf(tag) === 0);
  const r0 = meters && meters.readCalls();
  const c0 = meters && meters.cpuMs();
  const t0 = Date.now();
  for (let i = 0; i < n; i++) p2p(p.c, dev, { cmd, id: tag + i }, q);
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
  // (when replies are missing, these include the 4 s wait for them)
  const reads = per(r0, meters && meters.readCalls(), ids.length);
  const cpu = per(c0, meters && meters.cpuMs(), ids.length);
  const st = await ask(p, dev, { cmd: "status", id: tag + "st" });
  return { ms: lastReply - t0, answered: new Set(ids).size, once: new Set(ids).size === ids.length, counters: st && st.c, free: st ? st.free : -1, reads, cpu };
}

/** The broker drops device `id`'s socket; resolves once the device is back (a new conn) and has
 *  answered `ping()` (the memory test and the growth bench reconnect the device this way). */
export async function kickedBack(broker: Broker, dev: Device, id: string, ping: () => Promise<unknown>): Promise<void> {
  const before = broker.stats.connects;
  if (!broker.kick(id)) throw new Error(`${id}: the broker has no session to drop`);
  if (!(await dev.waitFor(() => broker.stats.connects > before && broker.clients().indexOf(id) >= 0, 20000)))
    throw new Error(`${id}: not back online after the broker dropped it`);
  await ping();
}

/** One request, its reply (or null after 5 s). */
export async function ask(p: Pick<Peer, "c" | "got">, dev: string, dt: any): Promise<any> {
  p2p(p.c, dev, dt, 1);
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const r = p.got.find((d) => d && d.re === dt.id);
    if (r) return r;
    await sleep(2);
  }
  return null;
}

/**
 * n sequential round trips at each QoS, alternating (q0, q1, q0, ...) so that whatever else the
 * machine does falls on both alike: two separate runs of 200 gave q1/q0 ratios from 0.85 to 1.30
 * on the same build. The median of each.
 */
async function roundTrips(p: Peer, dev: string, n: number): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < 2 * n; i++) {
    const q = i & 1;
    const id = dev + "-rt" + q + "-" + i;
    const t0 = process.hrtime.bigint();
    p2p(p.c, dev, { cmd: "ping", id }, q);
    while (!p.got.find((d) => d && d.re === id)) await new Promise((r) => setImmediate(r));
    times[q].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return [median(times[0]), median(times[1])];
}

export interface PublishResult {
  /** readings per second the inputs ask for, and what left the device (pubs the broker took) */
  offered: number;
  perS: number;
  /** the client's refusals (qd) and frames out (fo) over the window, from the status command */
  refused: number;
}

/** PUBLISH_INPUTS uptime inputs every PUBLISH_PERIOD ms (q0, no deadband: each period publishes),
 *  the device's tick at 50 ms: readings per second that reach the broker over PUBLISH_MS. */
const PUBLISH_INPUTS = 16;
const PUBLISH_PERIOD = 100;
const PUBLISH_MS = 5000;
async function publishing(engine: Engine, board: Board, broker: Broker, p: Peer, id: string): Promise<PublishResult> {
  const inputs = Array.from({ length: PUBLISH_INPUTS }, (_, i) => ({ name: "u" + i, type: "uptime", period: PUBLISH_PERIOD }));
  const cfg = { id, server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: AP, allow: ["admin"], tick: 50, prefix: "r/", inputs, outputs: [] };
  let n = 0;
  const count = (ev: any) => {
    if (ev.dir === "in" && ev.cl === id && ev.type === "pub" && ev.body.cn.indexOf("r/u") === 0) n++;
  };
  broker.on("packet", count);
  let dev: Device | null = null;
  try {
    dev = await bootOnline(engine, board, broker, cfg);
    const s0 = await ask(p, id, { cmd: "status", id: id + "-p0" });
    const n0 = n;
    const t0 = Date.now();
    await sleep(PUBLISH_MS);
    const out = n - n0;
    const ms = Date.now() - t0;
    const s1 = await ask(p, id, { cmd: "status", id: id + "-p1" });
    return { offered: (PUBLISH_INPUTS * 1000) / PUBLISH_PERIOD, perS: (out * 1000) / ms, refused: s0 && s1 ? s1.c.qd - s0.c.qd : -1 };
  } finally {
    broker.off("packet", count);
    if (dev) await dev.stop();
  }
}

interface EngineFigures {
  fl: FloorResult;
  bare: FloorResult;
  b0: BurstResult;
  b1: BurstResult;
  rt0: number;
  rt1: number;
  pubs: PublishResult;
}

/** Every figure of one engine: its floors, then the firmware as device `id` on `broker`, driven by `p`. */
async function measure(engine: Engine, board: Board, n: number, broker: Broker, p: Peer, id: string): Promise<EngineFigures> {
  const fl = await floor(engine, board, n, true);
  const bare = await floor(engine, board, n, false);
  const cfg = { id, server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: AP, allow: ["admin"], inputs: [], outputs: [] };
  const dev = await bootOnline(engine, board, broker, cfg);
  let rt0: number, rt1: number, b0: BurstResult, b1: BurstResult;
  try {
    [rt0, rt1] = await roundTrips(p, id, 200);
    const meters = dev instanceof EspruinoBoard ? dev : undefined;
    b0 = await burst(p, id, n, 0, id + "a", meters);
    b1 = await burst(p, id, n, 1, id + "b", meters);
  } finally {
    await dev.stop();
  }
  const pubs = await publishing(engine, board, broker, p, id + "-pub");
  return { fl, bare, b0, b1, rt0, rt1, pubs };
}

function print(title: string, n: number, f: EngineFigures): void {
  const r = (x: number, of: number) => (of > 0 ? (x / of).toFixed(1) + "x" : "-");
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
  console.log(`${title}, ${n} pings sent at once (time to the last reply):`);
  const cpu = (x: FloorResult | BurstResult) => (x.cpu !== undefined ? `; CPU ${x.cpu.toFixed(2)} ms per ping` : "");
  console.log(`  floor: bare socket, split + JSON.parse + answer   ${f.fl.ms} ms (${f.fl.got}/${n} answered); round trip ${ms(f.fl.rt)} ms${cpu(f.fl)}`);
  console.log(`  floor: bare socket, constant answer, no parse     ${f.bare.ms} ms (${f.bare.got}/${n})`);
  for (const [name, b] of [["firmware, q0 pings", f.b0], ["firmware, q1 pings", f.b1]] as [string, BurstResult][])
    console.log(
      `  ${name.padEnd(48)}  ${b.ms} ms = ${r(b.ms, f.fl.ms)} the floor; ${b.answered}/${n} answered, ${b.once ? "each once" : "SOME TWICE"}; ` +
        `refused ${b.counters ? b.counters.qd : "?"}, session cycles ${b.counters ? b.counters.rc : "?"}, free ${b.free} blocks after` +
        (b.reads !== undefined ? `; ${b.reads.toFixed(0)} flash reads per ping` : "") +
        cpu(b),
    );
  console.log(
    `  round trip (200 sequential at each QoS, alternating; medians): q0 ${ms(f.rt0)} ms = ${r(f.rt0, f.fl.rt)} the floor's, q1 ${ms(f.rt1)} ms = ${r(f.rt1, f.fl.rt)} (q1/q0 = ${(f.rt1 / f.rt0).toFixed(2)})`,
  );
  console.log(
    `  publishing: ${PUBLISH_INPUTS} inputs every ${PUBLISH_PERIOD} ms (q0, tick 50 ms) offer ${f.pubs.offered}/s; ` +
      `${f.pubs.perS.toFixed(0)}/s reached the broker (${((100 * f.pubs.perS) / f.pubs.offered).toFixed(0)} %), ${f.pubs.refused} refused by the client`,
  );
}

/**
 * The firmware beside Espruino's MQTT module (minified, and pretokenised as the firmware is), all
 * booted at once and their bursts interleaved for BENCH_ROUNDS rounds (3), the order turned each
 * round, each burst run with the other interpreters stopped: on a shared machine the speed drifts
 * by a fifth within minutes (the same module measured 1.23 s and 1.59 s a few minutes apart), so
 * figures taken minutes apart are not comparable, and the medians of interleaved runs are.
 */
async function compareWithMqtt(board: Board, n: number, broker: Broker, p: Peer): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS) || 3;
  const echoes: { what: string; m: MqttEcho; bursts: FloorResult[]; rt: number }[] = [];
  for (const tok of [false, true]) {
    const what = `Espruino's MQTT module (minified${tok ? ", pretokenised like the firmware" : ""}, from Storage)`;
    const m = await mqttModuleDevice(board, tok);
    if (typeof m === "string") console.log(`  ${what}: not measured: ${m}`);
    else echoes.push({ what, m, bursts: [], rt: NaN });
  }
  if (!echoes.length) return;
  const id = "dev-cmp";
  const cfg = { id, server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: AP, allow: ["admin"], inputs: [], outputs: [] };
  const fw: BurstResult[][] = [[], []];
  // the firmware's round trips (200 at each QoS, alternating; medians) measured beside the module's
  let fwRt = [NaN, NaN];
  const boards = echoes.map((e) => e.m.board);
  // one interpreter runs at a time, the others stopped (EspruinoBoard.suspend)
  const only = async (b: EspruinoBoard, job: () => Promise<void>) => {
    for (const x of boards) if (x !== b) x.suspend(true);
    try {
      await sleep(200);
      await job();
    } finally {
      for (const x of boards) if (x !== b) x.suspend(false);
    }
  };
  try {
    for (const e of echoes) e.m.board.suspend(true);
    const dev = (await bootOnline("espruino", board, broker, cfg)) as EspruinoBoard;
    for (const e of echoes) e.m.board.suspend(false);
    boards.push(dev);
    try {
      for (const e of echoes) await only(e.m.board, async () => void (e.rt = (await e.m.echo(n, true)).rt));
      await only(dev, async () => void (fwRt = await roundTrips(p, id, 200)));
      for (let r = 0; r < rounds; r++) {
        const jobs: (() => Promise<void>)[] = [
          () => only(dev, async () => void fw[0].push(await burst(p, id, n, 0, id + "c0r" + r, dev))),
          ...echoes.map((e) => () => only(e.m.board, async () => void e.bursts.push(await e.m.echo(n, false)))),
          () => only(dev, async () => void fw[1].push(await burst(p, id, n, 1, id + "c1r" + r, dev))),
        ];
        for (let j = 0; j < jobs.length; j++) await jobs[(j + r) % jobs.length]();
      }
    } finally {
      await dev.stop();
    }
  } finally {
    for (const e of echoes) await e.m.close();
  }
  const med = (xs: (number | undefined)[]) => {
    const k = xs.filter((x): x is number => x !== undefined);
    return k.length ? median(k) : undefined;
  };
  const q0 = { ms: med(fw[0].map((b) => b.ms))!, cpu: med(fw[0].map((b) => b.cpu)), reads: med(fw[0].map((b) => b.reads)) };
  const q1 = { ms: med(fw[1].map((b) => b.ms))!, cpu: med(fw[1].map((b) => b.cpu)) };
  const all = fw[0].concat(fw[1]);
  console.log(
    `  beside Espruino's MQTT module, ${rounds} rounds interleaved (medians): firmware q0 burst ${q0.ms} ms, q1 ${q1.ms} ms` +
      (q0.cpu !== undefined && q1.cpu !== undefined ? ` (CPU ${q0.cpu.toFixed(2)} / ${q1.cpu.toFixed(2)} ms per ping)` : "") +
      `; ${all.filter((b) => b.answered === n && b.once).length}/${all.length} bursts answered completely, each once; ` +
      `round trip q0 ${fwRt[0].toFixed(2)} ms, q1 ${fwRt[1].toFixed(2)} ms (q1/q0 = ${(fwRt[1] / fwRt[0]).toFixed(2)})`,
  );
  for (const e of echoes) {
    const ms = med(e.bursts.map((b) => b.ms))!;
    const cpu = med(e.bursts.map((b) => b.cpu));
    const reads = med(e.bursts.map((b) => b.reads));
    console.log(
      `  ${e.what} echoing ${n} messages via mosquitto: ${ms} ms (${e.bursts.map((b) => b.got).join("/")} of ${n} echoed); ` +
        `firmware q0 burst ${(q0.ms / ms).toFixed(2)}x, q1 ${(q1.ms / ms).toFixed(2)}x that` +
        (cpu !== undefined && q0.cpu !== undefined && q1.cpu !== undefined ? `; CPU ${cpu.toFixed(2)} ms per echo (firmware q0 ping ${(q0.cpu / cpu).toFixed(2)}x, q1 ${(q1.cpu / cpu).toFixed(2)}x)` : "") +
        (reads !== undefined && q0.reads !== undefined ? `; ${reads.toFixed(0)} flash reads per echo (firmware q0 ping ${(q0.reads / reads).toFixed(2)}x)` : "") +
        `; round trip ${e.rt.toFixed(2)} ms (firmware q0 ${(fwRt[0] / e.rt).toFixed(2)}x)`,
    );
  }
}

export async function run(board: Board = (process.argv[3] as Board) || "esp8266", n = Number(process.argv[4]) || 1000): Promise<void> {
  const broker = await startBroker({ port: 0, token: TOKEN });
  const p = await peer(broker.port);
  try {
    let real: EngineFigures | null = null;
    if (hasEspruino(board)) {
      real = await measure("espruino", board, n, broker, p, "dev");
      print(`real interpreter, ${board} layout`, n, real);
    } else console.log(ESPRUINO_SKIP_MESSAGE);
    if (real) await compareWithMqtt(board, n, broker, p);
    const v8 = await measure("v8", board, n, broker, p, "dev-v8");
    print(`V8 model (SimBoard, real clock, the same bundle and broker), ${board}`, n, v8);
    console.log(
      "  (the model's real clock runs every socket event as a Node timer: 1 ms at least, the floor of its round trips;\n" +
        "   like Espruino's idle loop it hands the device one 536-byte chunk per pass, after the drain of what it wrote)",
    );
    if (real) {
      const x = (a: number, b: number) => (b > 0 ? (a / b < 10 ? (a / b).toFixed(1) : (a / b).toFixed(0)) + "x" : "-");
      console.log(
        `real interpreter / V8 model: floor burst ${x(real.fl.ms, v8.fl.ms)}, round trip ${x(real.fl.rt, v8.fl.rt)}; ` +
          `firmware q0 burst ${x(real.b0.ms, v8.b0.ms)}, q1 burst ${x(real.b1.ms, v8.b1.ms)}, round trip q0 ${x(real.rt0, v8.rt0)}, q1 ${x(real.rt1, v8.rt1)}`,
      );
    }
  } finally {
    await stopPeer(p);
    await broker.close();
  }
}
