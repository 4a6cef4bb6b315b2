// Each Espruino 2v29 difference from V8 that broke the firmware (issue 9), tested through the whole
// device on BOTH engines with one test body: the real interpreter (Linux build, booted from
// Storage) and the V8 model. The same config and the same assertions on both show that the fix
// works on the board and that the two engines agree.
//   - arr.length = 0 threw: the client never connected            -> it connects, goes online
//   - {1,24} never matched: every name was refused                  -> valid names run
//   - ",up,down,none,".indexOf(",sideways,") was 13                  -> bad pull/edge/name reported in status.err, the rest runs
//     (also in the board's pin lists ",D0,D1,": a pin "Q9" was found)  -> reported as not a pin of the board
//   - names["constructor"] found Object.prototype's                  -> inputs named constructor/toString are not duplicates
//   - socket.write() is false on every call                          -> 200 commands in bursts of 20 are answered, each once
//   - Math.round(-30.5) is -31 on Espruino, -30 in V8                 -> the same reading on both engines
//   - JSON.stringify escapes bytes >= 0x7F, JSON.parse keeps the low byte of \u20AC
//                                                                     -> a UTF-8 prefix and an escaped command name survive
//   - JSON.parse lets "__proto__" set a prototype                     -> such a frame is refused and counted
//   - JSON.parse("\xD28") crashes the interpreter (0xD1/0xD2 are read as pretokenised strings)
//                                                                     -> such a frame is refused, the device stays up
//   - "x\\".indexOf("\\u", 9) is 1 (a needle running off the end counts, a search past the end
//     starts at the last place): a frame ending in a backslash hung the codec -> refused, answered after
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimBoard } from "../../sim";
import { startBroker, type Broker } from "../../sim/broker";
import { nodeNet } from "../../sim/net";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import type { Device } from "../../sim/device";
import { S_READY, ST_OK } from "../../firmware/jmqt/api";
import type { Client } from "../../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../../firmware/jmqt/client";
import { buildBoard } from "../../tools/build";

const TOKEN = "tok";
const WIFI = { ssid: "div-net", password: "div-pass" };
const PREFIX = "k\u00c3\u00bcche/"; // "küche/" as the UTF-8 bytes the board holds
const PREFIX_TEXT = "küche/"; // what a UTF-8 subscriber sees
const BAD = /Uncaught|ASSERT|LOW_MEMORY|OUT OF MEMORY/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The device config; `prefix` as text (a user's UTF-8 file, what flashing reads) or as the bytes Storage holds. */
function config(port: number, prefix = PREFIX): any {
  return {
    id: "div",
    server: { host: "127.0.0.1", port, token: TOKEN },
    wifi: WIFI,
    prefix,
    allow: ["admin"],
    inputs: [
      { name: "constructor", type: "analog", pin: "D34", period: 1000, scale: 1, offset: -30.5, precision: 0, deadband: 0 },
      { name: "toString", type: "digital", pin: "D0" },
      { name: "badpull", type: "digital", pin: "D4", pull: "sideways" },
      { name: "badedge", type: "pulse", pin: "D5", edge: "up", period: 1000 },
      { name: "x".repeat(25), type: "digital", pin: "D12" },
      // the board's pin lists are strings ",D0,D1,": on Espruino ",D0,D1,".indexOf(",Q9,") is 6
      { name: "nopin", type: "digital", pin: "Q9" },
    ],
    outputs: [{ name: "led", type: "digital", pin: "D2", safe: 0 }],
  };
}

class Peer {
  c: Client;
  got: { cn: string; dt: any }[] = [];
  constructor(port: number) {
    this.c = createClient(nodeNet(), {
      host: "127.0.0.1", port, cl: "admin", at: TOKEN, maxFrame: 65536, inflight: 64, outQueue: 1024, dedup: 64, minBackoffMs: 50, maxBackoffMs: 200,
    });
    // channel names arrive as latin1 strings of the UTF-8 bytes: decode them as a UTF-8 peer would
    this.c.onPush = (cn, dt) => this.got.push({ cn: Buffer.from(cn, "latin1").toString("utf8"), dt: fromBytes(dt) });
  }
  async start(subs: string[]) {
    start(this.c);
    const end = Date.now() + 5000;
    while (this.c.state !== S_READY) {
      if (Date.now() > end) throw new Error("peer did not connect");
      await sleep(5);
    }
    for (const cn of subs) await new Promise<void>((res) => sub(this.c, Buffer.from(cn, "utf8").toString("latin1"), 0, () => res()));
  }
  replies(re: string) {
    return this.got.filter((m) => m.cn === "#admin" && m.dt && m.dt.re === re);
  }
}

/** strings inside a reply, from latin1-held UTF-8 bytes to text */
function fromBytes(v: any): any {
  if (typeof v === "string") return Buffer.from(v, "latin1").toString("utf8");
  if (Array.isArray(v)) return v.map(fromBytes);
  if (v && typeof v === "object") {
    const o: any = {};
    for (const k of Object.keys(v)) o[k] = fromBytes(v[k]);
    return o;
  }
  return v;
}

for (const engine of ["espruino", "v8"] as const) {
  describe(`Espruino differences, fixed and checked through the whole device (${engine} engine, esp32)`, function () {
    this.timeout(60000);
    let broker: Broker;
    let dev: Device;
    let admin: Peer;
    const until = async (what: string, pred: () => boolean, ms = 10000) =>
      assert.ok(await dev.waitFor(pred, ms), `timed out waiting for ${what}\n${dev.console.slice(-15).join("\n")}`);
    const ask = async (dt: any) => {
      assert.equal(p2p(admin.c, "div", dt, 1), ST_OK);
      await until("reply " + dt.id, () => admin.replies(dt.id).length > 0);
      return admin.replies(dt.id)[0].dt;
    };

    before(async function () {
      if (engine === "espruino" && !hasEspruino("esp32")) {
        console.log("      " + ESPRUINO_SKIP_MESSAGE);
        this.skip();
      }
      broker = await startBroker({ port: 0, token: TOKEN });
      admin = new Peer(broker.port);
      await admin.start([PREFIX_TEXT + "status", PREFIX_TEXT + "constructor"]);
      const cfg = config(broker.port);
      const statuses = () => admin.got.filter((m) => m.cn === PREFIX_TEXT + "status" && m.dt.online === 1).length;
      if (engine === "espruino") {
        // flashing refuses a bad config, so the board is flashed with the valid items, then the
        // whole config is written to its Storage and it boots again (as after a config edit)
        const valid = { ...config(broker.port, PREFIX_TEXT), inputs: cfg.inputs.slice(0, 2) };
        const b = new EspruinoBoard({ board: "esp32", config: valid, wifi: { rssi: -60 } });
        dev = b;
        await b.boot();
        await until("first online status", () => statuses() > 0, 15000);
        b.store("jmqt.json", JSON.stringify({ ...cfg, server: b.deviceConfig.server }));
        await sleep(500);
        await b.reboot("reset");
        await until("online status with the whole config", () => statuses() > 1, 15000);
        return;
      } else {
        const out = mkdtempSync(join(tmpdir(), "jmqt-div-"));
        const code = readFileSync((await buildBoard({ board: "esp32", outDir: out })).files.min, "latin1");
        dev = new SimBoard({ board: "esp32", code, storage: { "jmqt.json": JSON.stringify(cfg) }, wifi: { ...WIFI, rssi: -60 }, clock: "real" });
      }
      await dev.boot();
      await until("online status", () => statuses() > 0, 15000);
    });
    after(async () => {
      if (admin) await new Promise<void>((r) => stop(admin.c, r));
      if (dev) await dev.stop();
      if (broker) await broker.close();
    });

    it("connects (no .length assignment) and reports exactly the bad items, on a UTF-8 prefix", () => {
      const st = admin.got.filter((m) => m.cn === PREFIX_TEXT + "status" && m.dt.online === 1).pop()!.dt;
      assert.deepEqual(
        (st.err as string[]).map((e) => e.split(":")[0]).sort(),
        ["inputs[2].pull", "inputs[3].edge", "inputs[4].name", "inputs[5].pin"],
        JSON.stringify(st.err),
      );
      // not "reserved", which a match found only by the indexOf tail would also report
      assert.ok((st.err as string[]).indexOf("inputs[5].pin: Q9 is not a pin of esp32") >= 0, JSON.stringify(st.err));
    });

    it("runs the valid items: constructor/toString are names like any other; -30.5 rounds to -31 on both engines", async () => {
      const readings = () => admin.got.filter((m) => m.cn === PREFIX_TEXT + "constructor").map((m) => m.dt);
      dev.setAnalog("D34", 0.4); // 0.4 - 30.5 = -30.1
      await until("a reading of -30", () => readings().indexOf(-30) >= 0);
      dev.setAnalog("D34", 0); // -30.5: Espruino's Math.round gives -31, V8's -30
      await until("a reading of -31", () => readings().indexOf(-31) >= 0);
      assert.ok(readings().lastIndexOf(-31) > readings().indexOf(-30), "-31 after -30: " + readings().join(","));
      assert.deepEqual(await ask({ cmd: "get", id: "g1", target: "toString" }), { re: "g1", ok: 1, v: 0 });
      assert.match((await ask({ cmd: "get", id: "g2", target: "badpull" })).err, /unknown target/);
    });

    it("answers 200 commands sent in bursts of 20, each once (writes paced by drain, not by write()'s result)", async () => {
      const mine = () => admin.got.filter((m) => m.cn === "#admin" && /^b\d+$/.test(m.dt.re));
      for (let w = 0; w < 10; w++) {
        for (let i = 0; i < 20; i++) p2p(admin.c, "div", { cmd: "ping", id: "b" + (w * 20 + i) }, 0);
        await until(`replies to burst ${w}`, () => mine().length >= (w + 1) * 20, 10000);
      }
      await sleep(300);
      const ids = mine().map((m) => m.dt.re);
      assert.equal(ids.length, 200);
      assert.equal(new Set(ids).size, 200);
    });

    it("a \\u20AC escape in a command arrives as UTF-8 and comes back intact in the error", async () => {
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div","cl":"admin","dt":{"cmd":"\\u20acuro","id":"e1"}}}\0'));
      await until("reply e1", () => admin.replies("e1").length > 0);
      assert.equal(admin.replies("e1")[0].dt.err, "unknown command €uro");
    });

    it('refuses a frame with a "__proto__" key (it would set a prototype), counts it and goes on', async () => {
      const before = (await ask({ cmd: "status", id: "s1" })).c.bad;
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div","cl":"admin","dt":{"__proto__":{"cmd":"reboot"},"id":"p1"}}}\0'));
      const after = await ask({ cmd: "status", id: "s2" });
      assert.equal(after.c.bad, before + 1);
      assert.equal(admin.replies("p1").length, 0);
    });

    it("survives frames with the raw bytes 0xD1/0xD2 outside a string (they crashed Espruino's JSON.parse) and keeps them inside one", async () => {
      const before = (await ask({ cmd: "status", id: "d1" })).c.bad;
      const resets = dev.resets.length;
      assert.ok(broker.injectRaw("div", "\xd28\0"));
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div","cl":"admin","dt":\xd1\x05abcde}}\0'));
      // inside a string the same bytes are text: the UTF-8 of "р" (D1 80) comes back in the error
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div","cl":"admin","dt":{"cmd":"\xd1\x80","id":"d2"}}}\0'));
      await until("reply d2", () => admin.replies("d2").length > 0);
      assert.equal(admin.replies("d2")[0].dt.err, "unknown command р");
      const after = await ask({ cmd: "status", id: "d3" });
      assert.equal(after.c.bad, before + 2);
      assert.equal(dev.resets.length, resets, "no restart");
    });

    it("survives a frame ending in a backslash (Espruino's indexOf finds \"\\u\" there again and again) and one ending in a quote", async () => {
      const before = (await ask({ cmd: "status", id: "bsl1" })).c.bad;
      // Espruino's JSON.parse ignores what follows the value: the first is a ping like any other
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div","cl":"admin","dt":{"cmd":"ping","id":"bs"}}}\\\0'));
      assert.ok(broker.injectRaw("div", '{"push":{"cn":"#div"\0'));
      await until("reply bs", () => admin.replies("bs").length > 0);
      const after = await ask({ cmd: "status", id: "bsl2" });
      assert.equal(after.c.bad, before + 1);
      assert.equal(after.ce, "not JSON", "refused as not JSON, not as a __proto__ key");
    });

    it("no console line says Uncaught, ASSERT, LOW_MEMORY or OUT OF MEMORY", () => {
      assert.deepEqual(dev.console.filter((l) => BAD.test(l)), []);
    });
  });
}
