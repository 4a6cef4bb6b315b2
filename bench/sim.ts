// How many simulated boards one process sustains with their timers on time.
// Each board runs a small ES5 program: a 1 s interval that toggles a pin and sends a heartbeat
// over a real TCP socket to a local echo server (127.0.0.1, port 0); every echo must come back.
// Virtual time: a fleet on one clock; the figure is how many virtual seconds pass per real
// second, so "boards sustained in real time" = boards x speed (when the speed is >= 1, every
// board's timers run on time in a real-time run). When dist/esp32.bootcde and the broker exist, the
// same is measured for the real firmware (examples/device.json, one client id per board).
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Fleet } from "../sim";

const PROG = `
var sent = 0, echoed = 0, buf = "", sock = null;
function onData(d) { buf += d; var i; while ((i = buf.indexOf("\\0")) >= 0) { buf = buf.substr(i + 1); echoed++; } }
function tick() { D2.toggle(); if (sock) { sock.write("hb\\0"); sent++; } }
require("Wifi").connect("ap", { password: "pw" }, function (err) {
  if (err) return;
  sock = require("net").connect({ host: "127.0.0.1", port: PORT }, function () {});
  sock.on("data", onData);
});
setInterval(tick, 1000);
`;

function echoServer(): Promise<net.Server> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => {
      s.setNoDelay(true);
      s.on("data", (d) => s.write(d));
      s.on("error", () => {});
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

async function fleetRun(n: number, virtualMs: number, port: number): Promise<{ realMs: number; ok: boolean; sent: number; echoed: number; tasks: number }> {
  const fleet = new Fleet();
  const code = PROG.replace("PORT", String(port));
  for (let i = 0; i < n; i++) fleet.add({ board: i % 2 ? "esp8266" : "esp32", code, wifi: { ssid: "ap", password: "pw" }, seed: i + 1, memoryBootScan: false });
  fleet.bootAll();
  await fleet.advance(3000);
  const t0 = performance.now();
  await fleet.advance(virtualMs);
  const realMs = performance.now() - t0;
  let sent = 0;
  let echoed = 0;
  let onTime = true;
  for (const b of fleet.boards) {
    sent += b.eval("sent");
    echoed += b.eval("echoed");
    const tl = b.timeline("D2");
    for (let i = 1; i < tl.length; i++) if (tl[i].t - tl[i - 1].t !== 1000) onTime = false;
  }
  const tasks = fleet.clock.tasksRun;
  fleet.stop();
  return { realMs, ok: onTime && echoed === sent, sent, echoed, tasks };
}

async function firmwareRun(n: number, virtualMs: number): Promise<void> {
  const dist = path.join(__dirname, "../dist/esp32.bootcde");
  const cfgFile = path.join(__dirname, "../examples/device.json");
  const brokerFile = path.join(__dirname, "../sim/broker/index.ts");
  if (!fs.existsSync(dist) || !fs.existsSync(cfgFile) || !fs.existsSync(brokerFile)) {
    console.log("firmware fleet: skipped (needs dist/esp32.bootcde, examples/device.json and sim/broker)");
    return;
  }
  const { startBroker } = await import("../sim/broker");
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  const broker: any = await startBroker({ port: 0, token: cfg.server.token });
  let packetsIn = 0;
  broker.on("packet", (ev: any) => {
    if (ev.dir === "in") packetsIn++;
  });
  const fleet = new Fleet();
  for (let i = 0; i < n; i++) {
    fleet.add({
      board: "esp32",
      storage: { "jmqt.json": JSON.stringify({ ...cfg, id: "dev" + i, prefix: "bench/dev" + i + "/" }) },
      wifi: { ssid: cfg.wifi.ssid, password: cfg.wifi.password },
      resolve: () => ({ host: "127.0.0.1", port: broker.port }),
      seed: i + 1,
      memoryBootScan: i === 0,
    });
  }
  fleet.bootAll();
  await fleet.advance(5000);
  const t0 = performance.now();
  await fleet.advance(virtualMs);
  const realMs = performance.now() - t0;
  const uncaught = fleet.boards.reduce((a, b) => a + b.console.filter((l) => l.startsWith("Uncaught")).length, 0);
  const mem = fleet.boards[0].memory();
  fleet.stop();
  await broker.close();
  const speed = virtualMs / realMs;
  console.log(
    `firmware fleet: ${n} x dist/esp32.bootcde on the broker, ${virtualMs / 1000} s virtual in ${realMs.toFixed(0)} ms real` +
      ` = ${speed.toFixed(1)}x real time (linear extrapolation: ~${Math.floor(n * speed)} boards in real time; cost grows faster than linear, see above);` +
      ` ${packetsIn} packets in, ${uncaught} uncaught; memory estimate of one board ${mem.usage}/${mem.total} blocks`,
  );
}

export async function run(): Promise<void> {
  const srv = await echoServer();
  const port = (srv.address() as net.AddressInfo).port;
  const virtualMs = 60000;
  let largest = { n: 0, speed: 0, ok: false };
  for (const n of [10, 100, 1000]) {
    const rss0 = process.memoryUsage().rss;
    const r = await fleetRun(n, virtualMs, port);
    const rssPerBoard = (process.memoryUsage().rss - rss0) / n / 1048576;
    const speed = virtualMs / r.realMs;
    largest = { n, speed, ok: r.ok };
    console.log(
      `${String(n).padStart(5)} boards: ${virtualMs / 1000} s virtual in ${r.realMs.toFixed(0).padStart(6)} ms real = ${speed.toFixed(1).padStart(6)}x real time;` +
        ` ${r.tasks} tasks, heartbeats ${r.echoed}/${r.sent} echoed, timers on time: ${r.ok ? "yes" : "NO"}; ~${Math.max(0, rssPerBoard).toFixed(2)} MB RSS per board`,
    );
    if (r.realMs > 8000) break;
  }
  console.log(
    `sim: ${largest.n} boards (1 s interval + socket heartbeat each) run at ${largest.speed.toFixed(1)}x real time, timers on time: ${largest.ok ? "yes" : "NO"};` +
      ` linear extrapolation: ~${Math.floor(largest.n * largest.speed)} boards in real time (CPU-bound; memory per board above is the other limit)`,
  );
  await new Promise<void>((r) => srv.close(() => r()));
  await firmwareRun(200, 60000);
}

if (require.main === module) run().then(() => process.exit(0));
