// A fleet on the REAL interpreter: N (default 50) Espruino 2v29 processes, ESP8266 layout, each
// booted from its own Storage with the firmware and a small config, against one broker in one
// run. Each publishes a reading every 2 s and answers a ping; the bench prints what the host pays
// per device (resident memory and CPU of the interpreter processes, read from /proc) and what got
// through. `npm run bench -- fleet-espruino [N]`.
import * as fs from "node:fs";
import { startBroker } from "../sim/broker";
import { nodeNet } from "../sim/net";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../sim/espruino/board";
import { S_READY } from "../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../firmware/jmqt/client";

const TOKEN = "fleet";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

function procStats(pid: number): { rssKb: number; cpuS: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return { rssKb: rss ? +rss[1] : 0, cpuS: (+stat[11] + +stat[12]) / TICK };
  } catch {
    return { rssKb: 0, cpuS: 0 };
  }
}

export async function run(n = Number(process.argv[3]) || 50): Promise<void> {
  if (!hasEspruino("esp8266")) {
    console.log(ESPRUINO_SKIP_MESSAGE);
    return;
  }
  const broker = await startBroker({ port: 0, token: TOKEN, maxClients: n + 10 });
  const admin = createClient(nodeNet(), {
    host: "127.0.0.1", port: broker.port, cl: "admin", at: TOKEN, maxFrame: 65536, inflight: 256, outQueue: 4096, dedup: 256,
  });
  const got = new Map<string, number>();
  const replies = new Set<string>();
  admin.onPush = (cn, dt) => {
    if (cn === "#admin" && dt && dt.re) replies.add(dt.re);
    else got.set(cn, (got.get(cn) || 0) + 1);
  };
  start(admin);
  while (admin.state !== S_READY) await sleep(5);
  await new Promise<void>((r) => sub(admin, "fleet/+", 0, () => r()));
  const devices: EspruinoBoard[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i += 10) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 10); j++) {
      const cfg = {
        id: "f" + j, server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: { ssid: "fleet", password: "x" }, prefix: "fleet/" + j + "/",
        allow: ["admin"],
        inputs: [{ name: "light", type: "analog", pin: "A0", period: 2000, precision: 3, deadband: 0 }],
        outputs: [{ name: "led", type: "digital", pin: "D2" }],
      };
      const d = new EspruinoBoard({ board: "esp8266", config: cfg, name: "f" + j });
      devices.push(d);
      batch.push(d.boot());
    }
    await Promise.all(batch);
  }
  const bootS = (Date.now() - t0) / 1000;
  const online = async () => {
    const end = Date.now() + 30000;
    while (Date.now() < end && broker.clients().length < n + 1) await sleep(100);
    return broker.clients().length - 1;
  };
  const up = await online();
  // subscriptions are per channel: one per device's reading
  for (let j = 0; j < n; j++) sub(admin, "fleet/" + j + "/light", 0);
  const cpu0 = devices.map((d) => procStats((d as any).proc.pid).cpuS);
  const w0 = Date.now();
  let v = 0;
  const wiggle = setInterval(() => {
    v = (v + 0.01) % 1;
    for (const d of devices) d.setAnalog("A0", v);
  }, 500);
  for (let round = 0; round < 5; round++) {
    for (let j = 0; j < n; j++) p2p(admin, "f" + j, { cmd: "ping", id: `p${round}.${j}` }, 0);
    await sleep(4000);
  }
  clearInterval(wiggle);
  const windowS = (Date.now() - w0) / 1000;
  const stats = devices.map((d) => procStats((d as any).proc.pid));
  const cpu = stats.reduce((a, s, i) => a + s.cpuS - cpu0[i], 0);
  const rss = stats.reduce((a, s) => a + s.rssKb, 0);
  const readings = [...got.values()].reduce((a, b) => a + b, 0);
  const mems = await Promise.all(devices.slice(0, 5).map((d) => d.memory().catch(() => null)));
  console.log(`fleet of ${n} real interpreters (espruino-esp8266), one broker, booted in ${bootS.toFixed(1)} s, ${up} online`);
  console.log(`  over ${windowS.toFixed(1)} s: ${readings} readings received (${(readings / windowS / n).toFixed(2)}/s per device, 0.5 offered), ${replies.size} of ${5 * n} pings answered`);
  console.log(`  host cost per device: ${(rss / n / 1024).toFixed(1)} MB resident, ${((100 * cpu) / windowS / n).toFixed(2)} % of one core`);
  console.log(`  device memory (first 5, process.memory() used): ${mems.map((m) => (m ? m.usage : "?")).join(", ")}`);
  for (const d of devices) await d.stop();
  await new Promise<void>((r) => stop(admin, r));
  await broker.close();
}

if (require.main === module) void run(Number(process.argv[2]) || 50);
