// Memory budgets on the REAL interpreter (Espruino 2v29 built for Linux, ../shared/espruino/bin/ or
// $ESPRUINO_ESP8266 / $ESPRUINO_ESP32): the built bundle boots from Storage like a board, connects
// to an in-process broker and idles; blocks over the shim-only baseline must stay within the
// budgets below (docs/memory.md), and stay flat under commands, readings and reconnects.
// The budgets are ratchets: the measured figure plus a few blocks. Lower them when a change
// saves blocks; a change that grows them fails here. Deterministic: the device is idle when
// measured, and process.memory() runs a garbage collection first.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { baseline, bundle, interpreter, liveDevice } from "../../bench/espruino";

/** Blocks over the shim-only baseline, connected and idle (measured with this harness: esp8266 680, esp32 683). */
export const BUDGET = { esp8266: 685, esp32: 690 };
/** The goal of issue 10 (docs/memory.md): not met yet; printed beside the figure. */
const GOAL_ESP8266 = 360;
/** Growth allowed after load, after a GC. */
const FLAT = 8;

const example = (f: string) => JSON.parse(readFileSync(f, "utf8"));
const otaFiles = (board: string) => ({
  ".boot1": readFileSync(join(__dirname, "..", "..", "dist", "boot1.js"), "latin1"),
  "jmqt.otr": readFileSync(join(__dirname, "..", "..", "dist", board + ".ota.js"), "latin1"),
});

/** The Linux build's console sometimes garbles an upload beyond repair: the harness (not the firmware) is tried again once. */
async function twice<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    console.log("      harness retry: " + String((e as Error).message).split("\n")[0]);
    return f();
  }
}

for (const board of ["esp8266", "esp32"] as const) {
  const bin = interpreter(board);
  const cfgFile = board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json";
  describe(`memory on the real interpreter (espruino-${board}, ${cfgFile})`, function () {
    this.timeout(300000);
    if (!bin) {
      it(`skipped: no interpreter (set ESPRUINO_${board.toUpperCase()} or put ../shared/espruino/bin/espruino-${board})`);
      return;
    }
    it(`connected and idle within ${BUDGET[board]} blocks over the baseline; flat after commands and reconnects`, async function () {
      // the harness uploads over the console, which the Linux build can mangle under load: when
      // even the second upload fails, the harness could not run (said, not counted as a pass)
      let base = 0;
      let dev: Awaited<ReturnType<typeof liveDevice>>;
      try {
        base = await twice(() => baseline(bin));
        // as flashed (tools/flash.ts): the OTA boot guard and receiver in Storage too
        dev = await twice(() => liveDevice(bin, bundle(board), example(cfgFile), 600, otaFiles(board)));
      } catch (e) {
        if (!/could not write/.test(String(e))) throw e;
        console.log(`      skipped: the harness could not upload to espruino-${board} (${e}); run it again`);
        return this.skip();
      }
      try {
        const idle = (await dev.usage()) - base;
        console.log(`      ${board}: ${idle} blocks over a baseline of ${base}` + (board === "esp8266" ? ` (goal ${GOAL_ESP8266})` : ""));
        assert.ok(idle <= BUDGET[board], `${idle} blocks over the baseline, budget ${BUDGET[board]}`);
        // the OTA receiver: loaded on an ota request, dropped when no update is open; its cost while
        // one is (begin, one chunk), then abort
        assert.equal((await dev.command({ cmd: "ota", op: "state" })).st, "idle");
        const junk = "x".repeat(1024);
        assert.equal((await dev.command({ cmd: "ota", op: "begin", size: junk.length, crc: crc32(Buffer.from(junk)) >>> 0, v: "m" })).ok, 1);
        assert.equal((await dev.command({ cmd: "ota", op: "chunk", n: 0, d: Buffer.from(junk.slice(0, 512)).toString("base64") })).n, 1);
        console.log(`      ${board}: ${(await dev.usage()) - base - idle} blocks more while an update is open (receiver, after a chunk)`);
        assert.equal((await dev.command({ cmd: "ota", op: "abort" })).ok, 1);
        // warm up every bounded structure once (reply cache, dedup ring, queue), then measure
        for (let i = 0; i < 20; i++) assert.equal((await dev.command({ cmd: i % 2 ? "ping" : "status" })).ok, 1);
        for (let i = 0; i < 6; i++) await dev.command({ cmd: "toggle", target: "led" }); // fills the reply cache (4)
        await dev.reconnect();
        const before = await dev.usage();
        for (let i = 0; i < 300; i++) {
          const r = await dev.command(i % 3 === 2 ? { cmd: "toggle", target: "led" } : i % 3 ? { cmd: "get", target: "led" } : { cmd: "ping" });
          assert.equal(r.ok, 1);
        }
        const mid = await dev.usage();
        console.log(`      ${board}: ${mid - before} blocks of growth after 300 commands`);
        for (let i = 0; i < 3; i++) await dev.reconnect();
        assert.equal((await dev.command({ cmd: "ping" })).ok, 1);
        const after = await dev.usage();
        console.log(`      ${board}: ${after - before} blocks of growth after 300 commands and 3 reconnects`);
        assert.ok(after - before <= FLAT, `grew ${after - before} blocks`);
      } finally {
        await dev.close();
      }
    });
  });
}
