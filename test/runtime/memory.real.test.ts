// Memory budgets on the REAL interpreter (Espruino 2v29 built for Linux, ../shared/espruino/bin/ or
// $ESPRUINO_ESP8266 / $ESPRUINO_ESP32): the built bundle boots from Storage like a board, connects
// to an in-process broker and idles; blocks over the shim-only baseline must stay within the
// budgets below (docs/memory.md), and stay flat under commands, readings and reconnects. The board
// is sim/espruino's EspruinoBoard (the shim, then the flash dry run replayed over its TCP control
// connection: no console typing, which the Linux build mangles under load).
// The budgets are ratchets: the measured figure plus a few blocks. Lower them when a change
// saves blocks; a change that grows them fails here. Deterministic: the device is idle when
// measured, and process.memory() runs a garbage collection first.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino, shimBaseline } from "../../sim/espruino/board";
import { ask, kickedBack, peer, stopPeer, type Peer } from "../../bench/load-espruino";

/** Blocks over the shim-only baseline, connected and idle (measured with this harness: esp8266 357, esp32 367). */
export const BUDGET = { esp8266: 358, esp32: 369 };
/** The goal of issue 10 (docs/memory.md): at most 360 on the ESP8266; the budget may not exceed it. */
const GOAL_ESP8266 = 360;
/** Growth allowed after load, after a GC. */
const FLAT = 8;
const TOKEN = "mem";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const example = (f: string) => JSON.parse(readFileSync(f, "utf8"));

for (const board of ["esp8266", "esp32"] as const) {
  const cfgFile = board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json";
  describe(`memory on the real interpreter (espruino-${board}, ${cfgFile})`, function () {
    this.timeout(300000);
    let broker: Broker;
    let dev: EspruinoBoard;
    let p: Peer;
    let n = 0;
    const command = async (dt: any) => {
      const r = await ask(p, "dev-" + board, { ...dt, id: "m" + n++ });
      assert.ok(r, "answered: " + JSON.stringify(dt) + "\n" + dev.console.slice(-14).join("\n"));
      return r;
    };
    const usage = async () => {
      await sleep(300);
      return (await dev.memory()).usage;
    };
    /** the broker drops the device's socket; resolves once it is back online and answers */
    const reconnect = () => kickedBack(broker, dev, "dev-" + board, () => command({ cmd: "ping" }));

    before(async function () {
      if (!hasEspruino(board)) {
        console.log("      " + ESPRUINO_SKIP_MESSAGE);
        return this.skip();
      }
      broker = await startBroker({ port: 0, token: TOKEN });
      const cfg = example(cfgFile);
      cfg.id = "dev-" + board;
      cfg.server = { host: "127.0.0.1", port: broker.port, token: TOKEN };
      cfg.allow = ["admin"];
      p = await peer(broker.port, TOKEN);
      dev = new EspruinoBoard({ board, config: cfg, wifi: { rssi: -60 } });
      await dev.boot();
      assert.ok(await dev.waitFor(() => broker.clients().indexOf(cfg.id) >= 0, 15000), "the device is online");
    });
    after(async () => {
      await stopPeer(p);
      if (dev) await dev.stop();
      if (broker) await broker.close();
    });

    it(`connected and idle within ${BUDGET[board]} blocks over the baseline; flat after commands and reconnects`, async function () {
      const base = (await shimBaseline(board)).usage;
      await sleep(2000);
      const idle = (await usage()) - base;
      console.log(`      ${board}: ${idle} blocks over a baseline of ${base}` + (board === "esp8266" ? ` (goal ${GOAL_ESP8266})` : ""));
      assert.ok(idle <= BUDGET[board], `${idle} blocks over the baseline, budget ${BUDGET[board]}`);
      if (board === "esp8266") assert.ok(idle <= GOAL_ESP8266, `${idle} blocks over the baseline, the goal of issue 10 is ${GOAL_ESP8266}`);
      // the device is as flashed (the dry run writes the OTA boot guard .boot1 and receiver
      // jmqt.otr): the receiver is loaded on an ota request and dropped when no update is open;
      // its cost while one is (begin, one chunk), then abort
      assert.equal((await command({ cmd: "ota", op: "state" })).st, "idle");
      const junk = "x".repeat(1024);
      assert.equal((await command({ cmd: "ota", op: "begin", size: junk.length, crc: crc32(Buffer.from(junk)) >>> 0, v: "m" })).ok, 1);
      assert.equal((await command({ cmd: "ota", op: "chunk", n: 0, d: Buffer.from(junk.slice(0, 512)).toString("base64") })).n, 1);
      console.log(`      ${board}: ${(await usage()) - base - idle} blocks more while an update is open (receiver, after a chunk)`);
      assert.equal((await command({ cmd: "ota", op: "abort" })).ok, 1);
      // warm up every bounded structure once (reply cache, dedup ring, queue), then measure
      for (let i = 0; i < 20; i++) assert.equal((await command({ cmd: i % 2 ? "ping" : "status" })).ok, 1);
      for (let i = 0; i < 6; i++) await command({ cmd: "toggle", target: "led" }); // fills the reply cache (4)
      await reconnect();
      const before = await usage();
      for (let i = 0; i < 300; i++) {
        const r = await command(i % 3 === 2 ? { cmd: "toggle", target: "led" } : i % 3 ? { cmd: "get", target: "led" } : { cmd: "ping" });
        assert.equal(r.ok, 1);
      }
      const mid = await usage();
      console.log(`      ${board}: ${mid - before} blocks of growth after 300 commands`);
      for (let i = 0; i < 3; i++) await reconnect();
      const after = await usage();
      console.log(`      ${board}: ${after - before} blocks of growth after 300 commands and 3 reconnects`);
      assert.ok(after - before <= FLAT, `grew ${after - before} blocks`);
    });
  });
}
