// The soak: hours of virtual time for one device (the built ESP8266 bundle in the V8 model) against
// the real broker over loopback TCP, with a fault every 2-10 minutes while QoS 0 and QoS 1 readings
// and commands flow. Used by test/soak/soak.test.ts (a shortened run) and bench/soak.ts (24 hours).
//
// A corrupting network is played by the broker's injectRaw test hook: garbage, binary and deeply
// nested frames written into the device's stream between real frames, which a broker never sends.
//
// What is counted:
// - QoS 1 readings: a pulse input counts one edge per period, so its readings carry n = 1, 2, 3...
//   within one boot. Every n the device produced must reach the subscriber exactly once, except
//   those the offline queue dropped, which the device counts (status.qd) and which must match.
// - commands: each `toggle` has its own id; it must change the LED once (the LED's level is checked
//   against the number of toggles that were answered), and no reply may be a second answer to the
//   same request that ran the command again.
// - memory after GC (the model's figure), at the start and the end.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";
import { startBroker, type Broker } from "../../sim/broker";
import { nodeNet } from "../../sim/net";
import { S_READY, ST_OK } from "../../firmware/jmqt/api";
import type { Client } from "../../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../../firmware/jmqt/client";

const TOKEN = "soak-token";
const PERIOD = 10000;
const WIFI = { ssid: "soak", password: "soak-pass" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Fault = "wifi" | "broker" | "reset" | "slow" | "chunks" | "oversized" | "heavy" | "garbage" | "reboot";
export const FAULTS: Fault[] = ["wifi", "broker", "reset", "slow", "chunks", "oversized", "heavy", "garbage", "reboot"];

export interface SoakResult {
  hours: number;
  faults: Record<string, number>;
  /** q1 readings the device produced (sum over boots), received once, received twice, missing, dropped by the device's offline queue (its own count) */
  produced: number;
  received: number;
  duplicates: number;
  missing: number;
  dropped: number;
  /** q0 readings received */
  q0: number;
  commands: { sent: number; answered: number; answeredTwice: number; refusedOffline: number; ledMismatch: number };
  memory: { start: number; end: number };
  device: { big: number; heavy: number; bad: number; reconnects: number };
  uncaught: number;
  realSeconds: number;
}

/** A tiny xorshift, so that a seed gives the same sequence every time (the soak's faults, the fuzz's frames). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

class Peer {
  c: Client;
  got: { cn: string; dt: any }[] = [];
  constructor(port: () => number, cl: string) {
    const p = port();
    this.c = createClient(nodeNet(), {
      host: "127.0.0.1", port: p, cl, at: TOKEN, maxFrame: 65536, inflight: 64, outQueue: 1024, dedup: 256,
      minBackoffMs: 50, maxBackoffMs: 300, ackMs: 2000, retries: 3,
    });
    this.c.onPush = (cn, dt) => this.got.push({ cn, dt });
  }
}

export interface SoakOptions {
  hours: number;
  seed?: number;
  /** the built ESP8266 bundle */
  code: string;
  log?: (line: string) => void;
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const t0 = Date.now();
  const rand = rng(o.seed ?? 7);
  let simNow = () => 0;
  const blog = (l: string) => {
    if (o.log && /soak-dev/.test(l)) o.log(`   ${(simNow() / 1000).toFixed(1)} s broker: ${l}`);
  };
  let broker: Broker = await startBroker({ port: 0, token: TOKEN, ts: 15, log: blog });
  const brokerPort = broker.port;
  const cfg = {
    id: "soak-dev",
    server: { host: "127.0.0.1", port: 8010, token: TOKEN },
    wifi: WIFI,
    prefix: "s/",
    allow: ["admin"],
    safeMs: 0,
    inputs: [
      { name: "count", type: "pulse", pin: "D13", edge: "falling", debounce: 0, period: PERIOD, q: 1 },
      { name: "light", type: "analog", pin: "A0", period: PERIOD, precision: 3, deadband: 0 },
    ],
    outputs: [{ name: "led", type: "digital", pin: "D2", safe: 0 }],
  };
  const consoleLines: string[] = [];
  const sim = new SimBoard({
    board: "esp8266", code: o.code, storage: { "jmqt.json": JSON.stringify(cfg) }, wifi: { ...WIFI, rssi: -60 },
    resolve: () => ({ host: "127.0.0.1", port: brokerPort }),
    log: (l) => {
      consoleLines.push(l);
      if (o.log) o.log(`   ${(sim.now() / 1000).toFixed(1)} s console: ${l}`);
    },
  });
  // the subscriber and the commander connect to the broker directly (they are not on the faulty link)
  const watch = new Peer(() => brokerPort, "watch");
  const admin = new Peer(() => brokerPort, "admin");
  const peersReady = async () => {
    for (const p of [watch, admin]) {
      const end = Date.now() + 10000;
      while (p.c.state !== S_READY && Date.now() < end) await sleep(5);
      if (p.c.state !== S_READY) throw new Error("peer did not reconnect");
    }
  };
  start(watch.c);
  start(admin.c);
  await peersReady();
  await new Promise<void>((res, rej) => sub(watch.c, "s/count", 1, (st) => (st === ST_OK ? res() : rej(new Error("sub " + st)))));
  sub(watch.c, "s/light", 0);
  simNow = () => sim.now();
  // the pulse pin idles high: each edge made below is a falling edge the device counts
  sim.setDigital("D13", 1);
  sim.boot();

  const result: SoakResult = {
    hours: o.hours, faults: {}, produced: 0, received: 0, duplicates: 0, missing: 0, dropped: 0, q0: 0,
    commands: { sent: 0, answered: 0, answeredTwice: 0, refusedOffline: 0, ledMismatch: 0 },
    memory: { start: 0, end: 0 }, device: { big: 0, heavy: 0, bad: 0, reconnects: 0 }, uncaught: 0, realSeconds: 0,
  };
  const online = () => admin.c.state === S_READY && broker.clients().indexOf("soak-dev") >= 0;
  // n values received per boot; edges produced per boot
  let seen = new Map<number, number>();
  let edges = 0;
  /** toggles answered ok in this boot: the LED's level must be their parity */
  let toggles = 0;
  const replies = new Map<string, number>();
  const sentAt = new Map<string, number>();
  let nextCmd = 1;

  /** One status reply from the device (ok), or null when it does not answer in time. */
  const ask = async (dt: any, ms = 20000): Promise<any> => {
    const id = "q" + nextCmd++;
    dt.id = id;
    const before = admin.got.length;
    if (p2p(admin.c, "soak-dev", dt, 1) !== ST_OK) return null;
    const ok = await sim.runUntil(() => admin.got.slice(before).some((m) => m.dt && m.dt.re === id), ms, 20);
    return ok ? admin.got.slice(before).find((m) => m.dt && m.dt.re === id)!.dt : null;
  };
  /** Ends a boot: the device's own drop count and counters, and the n values it produced. */
  const closeBoot = async () => {
    const st = await ask({ cmd: "status" });
    if (!st) throw new Error("no status reply before closing a boot\n" + consoleLines.slice(-10).join("\n"));
    result.dropped += st.qd;
    result.device.big += st.c.big;
    result.device.heavy += st.c.heavy || 0;
    result.device.bad += st.c.bad;
    result.device.reconnects += st.c.rc;
    if (sim.output("D2") !== toggles % 2) result.commands.ledMismatch++;
    toggles = 0;
    result.produced += edges;
    for (let n = 1; n <= edges; n++) {
      const k = seen.get(n) || 0;
      if (k === 0) {
        result.missing++;
        if (o.log) o.log(`   ${(sim.now() / 1000).toFixed(1)} s missing n=${n} of ${edges} (device dropped ${st.qd})`);
      }
      else {
        result.received++;
        if (k > 1) result.duplicates += k - 1;
      }
    }
    seen = new Map();
    edges = 0;
  };
  const collect = () => {
    for (const m of watch.got.splice(0)) {
      if (m.cn === "s/count" && m.dt && typeof m.dt.n === "number") {
        // while no edges are made (waiting for the last reading), each period repeats the last n
        if (quiet && m.dt.n === edges && seen.has(edges)) continue;
        if (seen.get(m.dt.n) && o.log) o.log(`   ${(sim.now() / 1000).toFixed(1)} s duplicate n=${m.dt.n} (edges ${edges})`);
        seen.set(m.dt.n, (seen.get(m.dt.n) || 0) + 1);
      }
      else if (m.cn === "s/light") result.q0++;
    }
    for (const m of admin.got) {
      if (!m.dt || typeof m.dt.re !== "string" || m.dt.re.charAt(0) !== "t") continue;
      const k = replies.get(m.dt.re) || 0;
      if (!k && m.dt.ok === 1) toggles++;
      replies.set(m.dt.re, k + 1);
    }
    admin.got = admin.got.filter((m) => !(m.dt && typeof m.dt.re === "string" && m.dt.re.charAt(0) === "t"));
  };
  let step = 0;
  let periodDue = 0;
  /** no edges are made: run() waits for the reading of the last one */
  let quiet = false;
  /**
   * Lets ms of virtual time pass while the world goes on: one pulse edge per period (so the pulse
   * readings of one boot are n = 1, 2, 3...), the analog value wanders, a toggle command a minute.
   * Faults run through this too, so that readings keep being produced during an outage.
   */
  const run = async (ms: number, until?: () => boolean): Promise<boolean> => {
    const end = sim.now() + ms;
    while (sim.now() < end) {
      if (until && until()) return true;
      if (!quiet && sim.now() >= periodDue) {
        periodDue = sim.now() + PERIOD;
        sim.setDigital("D13", 0);
        await sim.advance(20);
        sim.setDigital("D13", 1);
        edges++;
        sim.setAnalog("A0", (step % 997) / 997);
        if (step % 6 === 3 && online()) {
          const id = "t" + step;
          result.commands.sent++;
          sentAt.set(id, sim.now());
          p2p(admin.c, "soak-dev", { cmd: "toggle", target: "led", id }, 1, (st) => {
            if (st !== ST_OK) result.commands.refusedOffline++;
          });
        }
        step++;
      }
      await sim.advance(Math.min(until ? 200 : PERIOD, Math.max(1, Math.min(end, periodDue) - sim.now())));
      collect();
    }
    return until ? until() : true;
  };
  /** Stops the edges and waits until the reading of the last one has arrived. */
  const lastReading = async () => {
    quiet = true;
    const ok = await run(120000, () => seen.has(edges));
    quiet = false;
    if (!ok) throw new Error(`the reading n=${edges} never arrived\n` + consoleLines.slice(-10).join("\n"));
  };
  const waitOnline = async (what: string) => {
    if (!(await run(120000, online))) throw new Error("device not back after " + what + "\n" + consoleLines.slice(-15).join("\n"));
  };

  await sim.runUntil(() => online(), 60000, 50);
  await waitOnline("boot");
  // the first reading of the boot is n=0 (before any edge): it is not one of the counted ones
  await run(3 * PERIOD);

  const endAt = sim.now() + o.hours * 3600000;
  let nextFault = sim.now() + 120000 + rand() * 480000;
  let pending: (() => void) | null = null;
  // memory is compared from the end of a warm-up (30 minutes: the dedup ring and the reply cache
  // have filled to their bounds) to the end
  const warmAt = sim.now() + Math.min(1800000, o.hours * 1800000);
  while (sim.now() < endAt) {
    await run(PERIOD);
    if (!result.memory.start && sim.now() >= warmAt) result.memory.start = sim.memory().usage;
    if (pending) {
      pending();
      pending = null;
    }
    if (sim.now() < nextFault) continue;
    nextFault = sim.now() + 120000 + rand() * 480000;
    const f = FAULTS[Math.floor(rand() * FAULTS.length)];
    result.faults[f] = (result.faults[f] || 0) + 1;
    if (o.log) o.log(`${(sim.now() / 3600000).toFixed(2)} h: ${f}`);
    if (f === "wifi") {
      sim.wifiDown();
      // up to 5 minutes: past 16 periods the offline queue (16 on the ESP8266) drops the oldest
      await run(30000 + rand() * 270000);
      sim.wifiUp();
      await waitOnline(f);
    } else if (f === "broker") {
      await broker.close();
      await run(5000);
      broker = await startBroker({ port: brokerPort, token: TOKEN, ts: 15, log: blog });
      // the broker's memory is gone: the watcher's persistent subscription is made again
      await peersReady();
      await new Promise<void>((res) => sub(watch.c, "s/count", 1, () => res()));
      await waitOnline(f);
    } else if (f === "reset") {
      sim.resetConnections();
      await waitOnline(f);
    } else if (f === "slow") {
      sim.slowLink(300);
      pending = () => sim.slowLink(0);
    } else if (f === "chunks") {
      sim.setChunkSize(1 + Math.floor(rand() * 7));
      pending = () => sim.setChunkSize(536);
    } else if (f === "oversized") {
      p2p(admin.c, "soak-dev", { cmd: "ping", id: "big", pad: "x".repeat(2048 + Math.floor(rand() * 8192)) }, 0);
    } else if (f === "heavy") {
      broker.injectRaw("soak-dev", '{"push":{"cn":"#soak-dev","cl":"admin","dt":' + "[".repeat(300) + "]".repeat(300) + "}}\0");
    } else if (f === "garbage") {
      let bin = "";
      for (let i = 0; i < 64; i++) bin += String.fromCharCode(1 + Math.floor(rand() * 254));
      broker.injectRaw("soak-dev", 'not json\0{"push":1}\0{"nope":{}}\0[1,2,3]\0' + bin + "\0");
    } else if (f === "reboot") {
      // a reboot loses what is in RAM: it is taken while the device is online and its queue empty
      // (the last reading received), and the boot's readings are counted first
      await lastReading();
      await closeBoot();
      sim.reboot("soak");
      // pulses while the board restarts are not counted by anyone: the count starts with the new boot
      await sim.runUntil(() => sim.isBooted(), 10000, 10);
      sim.setDigital("D13", 1);
      edges = 0;
      await waitOnline(f);
    }
  }
  // let the last readings arrive, then count the final boot
  await lastReading();
  await closeBoot();
  result.memory.end = sim.memory().usage;
  for (const k of replies.values()) {
    result.commands.answered++;
    if (k > 1) result.commands.answeredTwice++;
  }
  for (const [id, t] of sentAt) if (!replies.has(id) && o.log) o.log(`   command ${id} sent at ${(t / 1000).toFixed(1)} s got no reply`);
  result.uncaught = consoleLines.filter((l) => /Uncaught/.test(l)).length;
  sim.stop();
  stop(watch.c);
  stop(admin.c);
  await broker.close();
  result.realSeconds = (Date.now() - t0) / 1000;
  return result;
}

/** The soak's pass conditions (shared by the test and the bench). */
export function checkSoak(res: SoakResult): void {
  assert.ok(Object.keys(res.faults).length >= 6, "several kinds of fault: " + JSON.stringify(res.faults));
  assert.ok(res.produced >= res.hours * 300, "readings produced: " + res.produced);
  assert.equal(res.duplicates, 0, "q1 readings delivered twice");
  assert.equal(res.missing, res.dropped, "every missing q1 reading is one the device counted as dropped");
  assert.equal(res.received + res.missing, res.produced);
  assert.equal(res.commands.answeredTwice, 0, "a command answered twice");
  assert.equal(res.commands.ledMismatch, 0, "the LED's level is the parity of the toggles answered");
  assert.equal(res.commands.answered, res.commands.sent - res.commands.refusedOffline, JSON.stringify(res.commands));
  assert.ok(res.q0 > 0);
  if (res.faults.oversized) assert.ok(res.device.big > 0, "oversized frames counted");
  if (res.faults.heavy) assert.ok(res.device.heavy > 0, "heavy frames counted");
  if (res.faults.garbage) assert.ok(res.device.bad > 0, "garbage counted");
  assert.equal(res.uncaught, 0);
  assert.ok(res.memory.end <= res.memory.start + 8, `memory grew from ${res.memory.start} to ${res.memory.end}`);
}
