// OTA end to end through the real firmware (test/ota/device.ts): v1 → v2 with readings flowing,
// a corrupted chunk refused, a sender not on the allow list refused, a v2 that throws at boot
// rolled back by the guard, so is a v2 that never reaches its session, a reboot mid-transfer booting v1. On the V8 model (SimBoard, real
// clock) and on the real interpreter (EspruinoBoard), both boards; the real engine skips with one
// printed line when the interpreter is absent.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import { Peer } from "../jmqt/client-peer";
import { TOKEN, V1, V2, ask, bundleCrc, bundles, otaConfig, readingGap, send, startBroker, storageFiles, waitFw, waitOnline, type Rig } from "./device";

type BoardId = "esp8266" | "esp32";

/** The scenarios on one engine; `make` builds the device (not booted yet). */
function scenarios(engine: string, board: BoardId, make: (cfg: any, files: Record<string, string>) => Rig["d"], bootMs: number) {
  describe(`ota end to end, ${engine}, ${board}: the real bundle, broker and sender`, function () {
    this.timeout(180000);
    let r: Rig | null = null;
    const b = bundles(board);

    async function rig(): Promise<Rig> {
      const broker = await startBroker({ port: 0, token: TOKEN });
      const cfg = otaConfig(board, broker.port);
      const admin = new Peer(broker.port, "admin");
      await admin.start([cfg.prefix + "status", cfg.prefix + "up"], 1);
      const d = make(cfg, storageFiles(board));
      r = { board, cfg, d, broker, admin, P: cfg.prefix };
      await d.boot();
      await waitOnline(r, bootMs);
      return r;
    }

    afterEach(async function () {
      if (!r) return;
      const x = r;
      if (this.currentTest && this.currentTest.state === "failed") console.log("      device console:\n        " + x.d.console.slice(-25).join("\n        "));
      r = null;
      await x.admin.stop();
      await x.d.stop();
      await x.broker.close();
    });

    it("v1 → v2: the device reports v2 in status; q1 readings keep flowing during the transfer; the result shows in status", async () => {
      const x = await rig();
      assert.equal((await ask(x, { cmd: "status" })).fw, V1);
      const s0 = await ask(x, { cmd: "ota", op: "state" });
      assert.deepEqual([s0.ok, s0.st, s0.res], [1, "idle", null]);
      // V8: a slow link (40 ms each way), so that the transfer lasts a few seconds of readings
      const slow = (x.d as any).slowLink;
      if (slow) slow.call(x.d, 40);
      const t0 = Date.now();
      let sent = 0;
      let commitAt = 0;
      const out = await send(x, b.v2, {
        progress: (done, _total, phase) => {
          if (phase === "send") sent = done;
          else if (!commitAt) commitAt = Date.now();
        },
      });
      if (slow) slow.call(x.d, 0);
      assert.ok(out.ok, out.message);
      assert.equal(out.fw, V2);
      assert.ok(sent === b.v2.length);
      const st = await waitFw(x, V2, 10000);
      assert.deepEqual(st.ota, { ok: 1, v: V2 }, "status.ota: the last update's result");
      assert.equal(st.qd, 0, "no q1 reading dropped");
      // readings during the transfer (before the commit's reboot): at least every 2.5 s
      const flow = readingGap(x, t0, commitAt);
      const ms = commitAt - t0;
      console.log(`      transfer ${ms} ms, ${flow.n} readings, largest gap ${flow.gap} ms`);
      assert.ok(flow.n >= Math.floor(ms / 1000) && flow.gap < 2500, `readings during the transfer: ${JSON.stringify(flow)}, ${commitAt - t0} ms, all: ${x.admin.on(x.P + "up").length}, status ${JSON.stringify(st)}`);
      // the trial is over: nothing left but the previous firmware and the result
      assert.equal((await ask(x, { cmd: "ota", op: "state" })).st, "idle");
    });

    it("a corrupted chunk is refused and v1 keeps running; a sender not on the allow list is refused; a missing receiver is said", async () => {
      const x = await rig();
      const begin = await ask(x, { cmd: "ota", op: "begin", size: b.v2.length, crc: bundleCrc(b.v2), v: V2 });
      assert.equal(begin.ok, 1, JSON.stringify(begin));
      const raw = b.v2.slice(0, 512);
      const bad = Buffer.from("X" + raw.slice(1), "latin1").toString("base64");
      const r1 = await ask(x, { cmd: "ota", op: "chunk", n: 0, d: bad, c: bundleCrc(raw) });
      assert.equal(r1.ok, 0);
      assert.match(r1.err, /chunk 0: crc mismatch, send it again/);
      const s = await ask(x, { cmd: "ota", op: "state" });
      assert.deepEqual([s.st, s.n, s.m], ["recv", 0, Math.ceil(b.v2.length / 512)]);
      assert.deepEqual(await ask(x, { cmd: "ota", op: "abort" }).then((a) => a.ok), 1);
      assert.equal((await ask(x, { cmd: "status" })).fw, V1);
      // not on the allow list (examples: admin, phone)
      const intruder = new Peer(x.broker.port, "intruder");
      await intruder.start();
      try {
        const out = await send(x, b.v2, {}, intruder.c);
        assert.equal(out.ok, false);
        assert.match(out.message, /refused begin: not allowed/);
      } finally {
        await intruder.stop();
      }
      assert.equal((await ask(x, { cmd: "status" })).fw, V1);
      // a board flashed without the receiver
      x.d.eval('require("Storage").erase("jmqt.otr")');
      await new Promise((res) => setTimeout(res, 300));
      const none = await ask(x, { cmd: "ota", op: "state" });
      assert.deepEqual([none.ok, none.err], [0, "ota receiver not in Storage (flash it)"]);
    });

    it("a v2 that throws at boot is rolled back to v1 by the guard; status says why", async () => {
      const x = await rig();
      const out = await send(x, b.crashing, { trial: 5, backMs: 60000 });
      assert.equal(out.ok, false);
      assert.match(out.message, /rolled back: not confirmed in time: rolled back/);
      const st = await waitFw(x, V1, 10000);
      assert.deepEqual(st.ota, { ok: 0, v: V2, err: "not confirmed in time: rolled back" });
      assert.ok(x.d.console.some((l) => /v2 crashes at boot/.test(l)), "v2 ran and threw");
    });

    it("a v2 that boots but never reaches its session is rolled back to v1 by the guard", async () => {
      const x = await rig();
      const out = await send(x, b.silent, { trial: 5, backMs: 60000 });
      assert.equal(out.ok, false);
      assert.match(out.message, /not confirmed in time: rolled back/);
      const st = await waitFw(x, V1, 10000);
      assert.deepEqual(st.ota, { ok: 0, v: V2, err: "not confirmed in time: rolled back" });
    });

    it("a reboot in the middle of a transfer boots v1; the next update goes through", async () => {
      const x = await rig();
      let cut = false;
      const p = send(x, b.v2, {
        tries: 2,
        ackMs: 1500,
        progress: (done, total) => {
          if (!cut && done > total / 3) {
            cut = true;
            void x.d.reboot("reset");
          }
        },
      });
      const out = await p;
      assert.equal(out.ok, false, out.message);
      await waitFw(x, V1, 30000);
      const s = await ask(x, { cmd: "ota", op: "state" });
      assert.equal(s.st, "idle");
      const again = await send(x, b.v2);
      assert.ok(again.ok, again.message);
      await waitFw(x, V2, 10000);
    });
  });
}

for (const board of ["esp32", "esp8266"] as BoardId[])
  scenarios("V8 model (SimBoard, real clock)", board, (cfg, files) => {
    const b = bundles(board);
    return new SimBoard({ board, code: b.v1, storage: { ...files, "jmqt.json": JSON.stringify(cfg) }, wifi: { ssid: cfg.wifi.ssid, password: cfg.wifi.password, rssi: -60 }, clock: "real" }) as any;
  }, 10000);

// Real interpreter, both boards (the esp8266 layout with the test shim runs these too: the
// receiver costs about 100 blocks while an update is open, test/runtime/memory.real.test.ts).
const REAL: BoardId[] = ["esp32", "esp8266"];
if (!hasEspruino())
  describe("ota end to end on the real interpreter", () => {
    it("skipped: " + ESPRUINO_SKIP_MESSAGE, () => console.log("      " + ESPRUINO_SKIP_MESSAGE));
  });
else
  for (const board of REAL)
    scenarios("real interpreter (EspruinoBoard)", board, (cfg) => new EspruinoBoard({ board, config: cfg, wifi: { rssi: -60 } }) as any, 40000); // the flash dry run writes .boot1 and jmqt.otr
