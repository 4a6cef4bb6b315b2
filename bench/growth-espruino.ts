// Memory growth under long use on the REAL interpreter (issue 10: "no growth, at most 8 blocks
// after GC, after 10,000 readings, 1,000 commands and 200 reconnects"), the example device as
// flashed (examples/device-esp8266.json; examples/device.json for esp32):
//   - readings: the host presses the button (QoS 1, so each reading goes through the offline
//     queue and waits for its pubAck) as fast as the device takes it, debounce 0; the periodic
//     inputs get long periods, so that the device is idle whenever memory is read;
//   - commands: ping, get, toggle, status, one after the other;
//   - reconnects: the broker drops the device's socket, each time waiting until the device is back
//     and answers. A session shorter than the client's stableMs (30 s) makes the next reconnect
//     back off twice as long (up to 60 s: the anti-flap rule), so before this phase the bench
//     sets the device client's stableMs to 0, as createClient({stableMs: 0}) would: each
//     reconnect then waits the minimum backoff (0.5-1 s).
// process.memory().usage (after a GC) is read after a warm-up that fills every bounded structure
// once, and after each phase. `npm run bench -- growth-espruino [esp8266|esp32] [readings]
// [commands] [reconnects]`; about 5 minutes with the defaults. Not in npm test
// (test/runtime/memory.real.test.ts checks the same at 300 commands and 3 reconnects).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startBroker } from "../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../sim/espruino/board";
import { ask, kickedBack, peer, stopPeer } from "./load-espruino";

const ROOT = join(__dirname, "..");
const TOKEN = "growth";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(
  board: "esp8266" | "esp32" = (process.argv[3] as any) || "esp8266",
  readings = Number(process.argv[4]) || 10000,
  commands = Number(process.argv[5]) || 1000,
  reconnects = Number(process.argv[6]) || 200,
): Promise<void> {
  if (!hasEspruino(board)) return console.log(ESPRUINO_SKIP_MESSAGE);
  const broker = await startBroker({ port: 0, token: TOKEN });
  const p = await peer(broker.port, TOKEN);
  const id = "grow-" + board;
  const cfg = JSON.parse(readFileSync(join(ROOT, "examples", board === "esp32" ? "device.json" : "device-esp8266.json"), "utf8"));
  cfg.id = id;
  cfg.server = { host: "127.0.0.1", port: broker.port, token: TOKEN };
  cfg.allow = ["admin"];
  for (const it of cfg.inputs) if (it.period) it.period = 600000;
  const button = cfg.inputs.find((i: any) => i.name === "button");
  button.debounce = 0;
  let pubs = 0;
  broker.on("packet", (ev: any) => {
    if (ev.dir === "in" && ev.type === "pub" && ev.cl === id && ev.body.cn === cfg.prefix + "button") pubs++;
  });
  // the mangled names of the bundle's globals and private fields (dist/<board>.names.json)
  const names = JSON.parse(readFileSync(join(ROOT, "dist", board + ".names.json"), "utf8"));
  const mangled = (source: string, field = false) => Object.keys(names).find((k) => names[k] === source && (k.charAt(0) === ".") === field)!.replace(/^\./, "");
  const dev = new EspruinoBoard({ board, config: cfg, wifi: { rssi: -60 } });
  let n = 0;
  const command = async (dt: any) => {
    const r = await ask(p, id, { ...dt, id: "g" + n++ });
    if (!r) throw new Error("no answer to " + JSON.stringify(dt) + "\n" + dev.console.slice(-10).join("\n"));
    return r;
  };
  const usage = async () => {
    await sleep(500);
    return (await dev.memory()).usage;
  };
  const reconnect = () => kickedBack(broker, dev, id, () => command({ cmd: "ping" }));
  try {
    await dev.boot();
    if (!(await dev.waitFor(() => broker.clients().indexOf(id) >= 0, 15000))) throw new Error("the device did not come online");
    await dev.query(`global.${mangled("R")}.${mangled("client_", true)}.${mangled("stableMs_", true)}=0`);
    // warm-up: the reply cache, the dedup ring, a reconnect, the offline queue
    for (let i = 0; i < 20; i++) await command({ cmd: i % 2 ? "ping" : "status" });
    for (let i = 0; i < 6; i++) await command({ cmd: "toggle", target: "led" });
    for (let i = 0; i < 40; i++) {
      dev.setDigital(button.pin, i % 2);
      await sleep(5);
    }
    await reconnect();
    const m0 = await usage();

    const t0 = Date.now();
    const p0 = pubs;
    let level = 0;
    while (pubs - p0 < readings) {
      // an edge whenever the last one was published: as fast as the device and its pubAcks go
      const seen = pubs;
      level ^= 1;
      dev.setDigital(button.pin, level);
      const end = Date.now() + 2000;
      while (pubs === seen && Date.now() < end) await new Promise((r) => setImmediate(r));
    }
    const m1 = await usage();
    const rs = (Date.now() - t0) / 1000;
    console.log(`  ${pubs - p0} readings (QoS 1) in ${rs.toFixed(0)} s: ${m1 - m0} blocks of growth (${m0} -> ${m1} in use)`);

    const t1 = Date.now();
    for (let i = 0; i < commands; i++) {
      const k = i % 4;
      await command(k === 0 ? { cmd: "ping" } : k === 1 ? { cmd: "get", target: "light" } : k === 2 ? { cmd: "toggle", target: "led" } : { cmd: "status" });
    }
    const m2 = await usage();
    console.log(`  then ${commands} commands in ${((Date.now() - t1) / 1000).toFixed(0)} s: ${m2 - m0} blocks of growth in all`);

    const t2 = Date.now();
    for (let i = 0; i < reconnects; i++) await reconnect();
    const m3 = await usage();
    console.log(`  then ${reconnects} reconnects in ${((Date.now() - t2) / 1000).toFixed(0)} s: ${m3 - m0} blocks of growth in all (issue 10: at most 8)`);
    const bad = dev.console.filter((l) => /Uncaught|MEMORY|ASSERT/.test(l));
    console.log(`  console lines with Uncaught, MEMORY or ASSERT: ${bad.length}${bad.length ? ": " + bad.slice(0, 3).join(" / ") : ""}`);
  } finally {
    await stopPeer(p);
    await dev.stop();
    await broker.close();
  }
}
