// End to end: the BUILT bundle (tools/build.ts, built here from the current sources) runs in the
// simulator against the real broker over loopback TCP; a Node-side client (the firmware's own
// client over node:net) subscribes to the readings and sends P2P commands. Time is virtual.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../../tools/build";
import { SimBoard } from "../../sim";
import { startBroker, type Broker, type PacketEvent } from "../../sim/broker";
import { nodeNet } from "../../sim/net";
import { S_READY, ST_OK } from "../../firmware/jmqt/api";
import type { Client } from "../../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../../firmware/jmqt/client";

const TOKEN = "tok";
const WIFI = { ssid: "my-network", password: "my-password" };
const code: Record<string, string> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Msg { cn: string; dt: any; from: string; t: number }

/** A Node-side JMQT client that records every push with the sim's virtual time of arrival. */
class Peer {
  c: Client;
  got: Msg[] = [];
  constructor(port: number, cl: string, private sim: () => SimBoard | null) {
    this.c = createClient(nodeNet(), {
      host: "127.0.0.1", port, cl, at: TOKEN, maxFrame: 65536, inflight: 16, outQueue: 256, dedup: 64,
      minBackoffMs: 50, maxBackoffMs: 200,
    });
    this.c.onPush = (cn, dt, from) => {
      const s = this.sim();
      this.got.push({ cn, dt, from, t: s ? s.now() : 0 });
    };
  }
  async start() {
    start(this.c);
    const end = Date.now() + 5000;
    while (this.c.state !== S_READY) {
      if (Date.now() > end) throw new Error("peer did not connect");
      await sleep(5);
    }
  }
  async sub(cn: string) {
    await new Promise<void>((res, rej) => {
      const r = sub(this.c, cn, 0, (st) => (st === ST_OK ? res() : rej(new Error("sub " + st))));
      if (r !== ST_OK) rej(new Error("sub refused " + r));
    });
  }
  on(cn: string) { return this.got.filter((m) => m.cn === cn); }
  stop() { return new Promise<void>((r) => stop(this.c, r)); }
}

function deviceConfig(board: "esp32" | "esp8266", port: number): any {
  const cfg = JSON.parse(readFileSync(board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json", "utf8"));
  cfg.server = { host: "127.0.0.1", port, token: TOKEN };
  cfg.wifi = WIFI;
  return cfg;
}

describe("runtime end to end (built bundle in the simulator, loopback broker)", function () {
  this.timeout(120000);
  let broker: Broker;
  let sim: SimBoard | null = null;
  const peers: Peer[] = [];

  before(async function () {
    this.timeout(120000);
    const out = mkdtempSync(join(tmpdir(), "jmqt-e2e-"));
    for (const b of ["esp32", "esp8266"]) {
      const r = await buildBoard({ board: b, outDir: out });
      code[b] = readFileSync(r.files.min, "latin1");
    }
  });
  beforeEach(async () => {
    broker = await startBroker({ port: 0, token: TOKEN });
  });
  afterEach(async () => {
    if (sim) sim.stop();
    sim = null;
    for (const p of peers.splice(0)) await p.stop();
    await broker.close();
  });

  async function boot(board: "esp32" | "esp8266", cfg: any) {
    sim = new SimBoard({ board, code: code[board], storage: { "jmqt.json": JSON.stringify(cfg) }, wifi: { ...WIFI, rssi: -67 } });
    sim.boot();
    return sim;
  }
  async function peer(cl: string, subs: string[]) {
    const p = new Peer(broker.port, cl, () => sim);
    peers.push(p);
    await p.start();
    for (const s of subs) await p.sub(s);
    return p;
  }
  async function until(what: string, pred: () => boolean, maxMs = 120000) {
    const ok = await sim!.runUntil(pred, maxMs, 20);
    assert.ok(ok, "timed out (virtual) waiting for " + what);
  }
  /** P2P request from a peer; resolves with the reply dt. */
  async function ask(p: Peer, dt: any, device = "kitchen-esp32") {
    const n = p.on("#" + p.c.cl).length;
    assert.equal(p2p(p.c, device, dt, 1), ST_OK);
    await until("reply to " + JSON.stringify(dt), () => p.on("#" + p.c.cl).length > n, 20000);
    return p.on("#" + p.c.cl)[n].dt;
  }

  it("esp32: status, then each input publishes what and when it should", async () => {
    const s = await boot("esp32", deviceConfig("esp32", broker.port));
    const P = "home/kitchen/";
    const admin = await peer("admin", ["status", "button", "light", "meter", "temp"].map((n) => P + n));
    await until("online status", () => admin.on(P + "status").length > 0, 20000);
    const st = admin.on(P + "status")[0].dt;
    assert.equal(st.online, 1);
    assert.equal(st.id, "kitchen-esp32");
    assert.equal(st.err, undefined);
    const t0 = s.now();

    // digital: active-low button with a bouncing contact -> exactly one reading per press/release
    s.setDigital("D0", 0, { bounces: 4, bounceMs: 3 });
    await until("button pressed", () => admin.on(P + "button").length >= 1, 5000);
    s.setDigital("D0", 1, { bounces: 4, bounceMs: 3 });
    await until("button released", () => admin.on(P + "button").length >= 2, 5000);
    await s.advance(1000);
    assert.deepEqual(admin.on(P + "button").map((m) => m.dt), [1, 0]);

    // analog: every 10 s, scaled x100, 1 decimal, deadband 0.5
    s.setAnalog("D34", 0.4321);
    s.setTemperature(25.04);
    s.setDigital("D13", 1);
    await s.advance(50);
    for (let i = 0; i < 30; i++) {
      s.setDigital("D13", 0);
      await s.advance(50);
      s.setDigital("D13", 1);
      await s.advance(50);
    }
    await until("analog reading", () => admin.on(P + "light").length >= 1, 20000);
    s.setAnalog("D34", 0.4345); // 43.5: within the deadband of 43.2
    await s.advance(10000);
    s.setAnalog("D34", 0.5);
    await until("second analog reading", () => admin.on(P + "light").length >= 2, 30000);
    assert.deepEqual(admin.on(P + "light").map((m) => m.dt), [43.2, 50]);
    const lt = admin.on(P + "light").map((m) => m.t - t0);
    assert.ok(lt[1] - lt[0] >= 19000 && lt[1] - lt[0] <= 21500, "second reading two periods later: " + lt);

    // pulse counter and temperature: once a minute
    await until("meter and temp", () => admin.on(P + "meter").length >= 1 && admin.on(P + "temp").length >= 1, 70000);
    const meter = admin.on(P + "meter")[0].dt;
    assert.equal(meter.n, 30);
    assert.ok(meter.r > 0.45 && meter.r <= 0.55, "rate per second over the minute: " + meter.r);
    assert.equal(admin.on(P + "temp")[0].dt, 25);
  });

  it("esp32: P2P commands, error replies, allow list, duplicate request id", async () => {
    const s = await boot("esp32", deviceConfig("esp32", broker.port));
    const admin = await peer("admin", ["home/kitchen/status"]);
    const stranger = await peer("stranger", []);
    await until("online", () => admin.on("home/kitchen/status").length > 0, 20000);

    assert.deepEqual(await ask(admin, { cmd: "ping", id: "1" }), { re: "1", ok: 1 });
    assert.deepEqual(await ask(admin, { cmd: "set", id: "2", target: "led", value: 1 }), { re: "2", ok: 1, v: 1 });
    assert.equal(s.output("D2"), 1);
    await ask(admin, { cmd: "set", id: "3", target: "fan", value: 0.3 });
    assert.equal(s.output("D25"), 0.3);
    const t1 = await ask(admin, { cmd: "toggle", id: "4", target: "led" });
    const t2 = await ask(admin, { cmd: "toggle", id: "4", target: "led" });
    assert.deepEqual(t1, t2, "same id, same answer");
    assert.equal(s.output("D2"), 0, "ran once");
    const pulse = await ask(admin, { cmd: "pulse", id: "5", target: "led", ms: 500 });
    assert.equal(pulse.ok, 1);
    assert.equal(s.output("D2"), 1);
    await s.advance(600);
    assert.equal(s.output("D2"), 0);
    const status = await ask(admin, { cmd: "status", id: "6" });
    assert.equal(status.ok, 1);
    assert.equal(status.rssi, -67);
    assert.equal(status.fw, JSON.parse(readFileSync("package.json", "utf8")).version);
    assert.ok(status.free > 0 && status.tot > status.free);
    const get = await ask(admin, { cmd: "get", id: "7", target: "fan" });
    assert.equal(get.v, 0.3);

    assert.match((await ask(admin, { cmd: "fly", id: "8" })).err, /unknown command/);
    assert.match((await ask(admin, { cmd: "set", id: "9", target: "nope", value: 1 })).err, /unknown target/);
    assert.match((await ask(admin, { cmd: "set", id: "10", target: "led", value: 7 })).err, /bad value/);
    const denied = await ask(stranger, { cmd: "set", id: "11", target: "led", value: 1 });
    assert.deepEqual(denied, { re: "11", ok: 0, err: "not allowed" });
    assert.equal(s.output("D2"), 0);
  });

  it("esp32: config change is persisted and applied; reboot says offline first and comes back", async () => {
    const s = await boot("esp32", deviceConfig("esp32", broker.port));
    const admin = await peer("admin", ["home/kitchen/status", "home/den/status"]);
    await until("online", () => admin.on("home/kitchen/status").length > 0, 20000);
    const read = await ask(admin, { cmd: "config", id: "c1" });
    assert.equal(read.cfg.server.token, "***");
    const bad = await ask(admin, { cmd: "config", id: "c2", set: { safeMs: "soon" } });
    assert.match(bad.err, /safeMs: must be a number/);
    const ok = await ask(admin, { cmd: "config", id: "c3", set: { prefix: "home/den/" } });
    assert.deepEqual(ok, { re: "c3", ok: 1, applied: 1 });
    assert.equal(JSON.parse(s.files["jmqt.json"]).prefix, "home/den/");
    await until("status on the new prefix", () => admin.on("home/den/status").length > 0, 5000);
    assert.deepEqual(await ask(admin, { cmd: "reboot", id: "r1" }), { re: "r1", ok: 1 });
    await until("offline status", () => admin.on("home/den/status").some((m) => m.dt.online === 0), 5000);
    await until("back online after the reboot", () => s.resets.length === 1 && admin.on("home/den/status").filter((m) => m.dt.online === 1).length >= 2, 30000);
    assert.equal(s.resets[0].reason, "software");
  });

  it("esp32: config set of the group, live: the old group unsubscribed, the new one subscribed and answered", async () => {
    await boot("esp32", deviceConfig("esp32", broker.port));
    const admin = await peer("admin", ["home/kitchen/status"]);
    await until("online", () => admin.on("home/kitchen/status").length > 0, 20000);
    const seen: string[] = [];
    const watch = (ev: PacketEvent) => {
      if (ev.dir === "in" && ev.cl === "kitchen-esp32" && (ev.type === "sub" || ev.type === "unsub")) seen.push(ev.type + " " + ev.body.cn);
    };
    broker.on("packet", watch);
    try {
      assert.deepEqual(await ask(admin, { cmd: "config", id: "g1", set: { group: "home/den" } }), { re: "g1", ok: 1, applied: 1 });
      await until("the unsub and the sub", () => seen.length >= 2, 5000);
      assert.deepEqual(seen, ["unsub home/all", "sub home/den"]);
    } finally {
      broker.off("packet", watch);
    }
    const n = admin.on("#admin").length;
    assert.equal(admin.c.pub("home/den", { cmd: "ping", id: "g2" }, 0, 0), ST_OK);
    await until("a reply to a command on the new group", () => admin.on("#admin").length > n, 5000);
    assert.deepEqual(admin.on("#admin")[n].dt, { re: "g2", ok: 1 });
  });

  it("esp32: WiFi down for 10 minutes while readings continue -> queued readings arrive in order, drops counted exactly", async () => {
    const cfg = deviceConfig("esp32", broker.port);
    cfg.inputs[2].q = 0; // only the button is QoS 1 here, so the queue holds exactly its readings
    const s = await boot("esp32", cfg);
    const admin = await peer("admin", ["home/kitchen/button", "home/kitchen/status"]);
    await until("online", () => admin.on("home/kitchen/status").length > 0, 20000);
    s.wifiDown();
    await s.advance(2000);
    const presses = 80;
    for (let i = 0; i < presses; i++) {
      s.setDigital("D0", i % 2 === 0 ? 0 : 1);
      await s.advance(7000);
    }
    assert.equal(admin.on("home/kitchen/button").length, 0);
    s.wifiUp();
    const queue = 64; // boards/esp32.json offlineQueue
    await until("queued readings", () => admin.on("home/kitchen/button").length >= queue, 300000);
    await s.advance(3000);
    const got = admin.on("home/kitchen/button").map((m) => m.dt);
    const expected: number[] = [];
    for (let i = presses - queue; i < presses; i++) expected.push(i % 2 === 0 ? 1 : 0);
    assert.deepEqual(got, expected);
    const status = await ask(admin, { cmd: "status", id: "s" });
    assert.equal(status.qd, presses - queue);
    assert.ok(admin.on("home/kitchen/status").length >= 2, "online status again after reconnect");
  });

  it("esp32: after a WiFi authentication failure (the station stops) the firmware retries with backoff and joins", async () => {
    const cfg = deviceConfig("esp32", broker.port);
    sim = new SimBoard({ board: "esp32", code: code.esp32, storage: { "jmqt.json": JSON.stringify(cfg) }, wifi: { ...WIFI, password: "old-password" } });
    const s = sim;
    s.boot();
    const admin = await peer("admin", ["home/kitchen/status"]);
    await s.advance(20000);
    assert.notEqual(s.wifiState(), "connected");
    assert.equal(admin.on("home/kitchen/status").length, 0);
    s.setApPassword(WIFI.password);
    await until("online after the access point accepts the password", () => admin.on("home/kitchen/status").some((m) => m.dt.online === 1), 120000);
    assert.equal(s.wifiState(), "connected");
  });

  it("esp8266: a config baked by `npm run build -- --config` runs when Storage has no jmqt.json", async () => {
    const cfg = deviceConfig("esp8266", broker.port);
    const r = await buildBoard({ board: "esp8266", config: cfg, outDir: mkdtempSync(join(tmpdir(), "jmqt-baked-")) });
    sim = new SimBoard({ board: "esp8266", code: readFileSync(r.files.min, "latin1"), wifi: { ...WIFI } });
    const s = sim;
    s.boot();
    const admin = await peer("admin", ["home/hall/status"]);
    await until("online with the baked config", () => admin.on("home/hall/status").some((m) => m.dt.online === 1), 30000);
    assert.equal(s.storage.read("jmqt.json"), undefined);
  });

  it("esp32: a config error at boot is reported on status and the valid part keeps running", async () => {
    const cfg = deviceConfig("esp32", broker.port);
    cfg.inputs[1].pin = "D4"; // analog on a pin without ADC
    cfg.outputs[0].pin = "D36"; // input-only pin as output
    const s = await boot("esp32", cfg);
    const admin = await peer("admin", ["home/kitchen/status", "home/kitchen/button"]);
    await until("status", () => admin.on("home/kitchen/status").length > 0, 20000);
    assert.deepEqual(admin.on("home/kitchen/status")[0].dt.err, [
      "inputs[1].pin: D4 cannot read analog on esp32",
      "outputs[0].pin: D36 is input-only on esp32",
    ]);
    s.setDigital("D0", 0);
    await until("button still works", () => admin.on("home/kitchen/button").length > 0, 5000);
    assert.match((await ask(admin, { cmd: "set", id: "1", target: "led", value: 1 })).err, /unknown target led/);
  });

  it("esp8266: Espruino's kill event publishes retained offline status and ends the session", async () => {
    const s = await boot("esp8266", deviceConfig("esp8266", broker.port));
    const admin = await peer("admin", ["home/hall/status"]);
    await until("online", () => admin.on("home/hall/status").some((m) => m.dt.online === 1), 20000);
    assert.ok(broker.clients().includes("hall-esp8266"));
    s.eval('E.emit("kill")');
    await until("offline status", () => admin.on("home/hall/status").some((m) => m.dt.online === 0), 5000);
    await until("session ended", () => !broker.clients().includes("hall-esp8266"), 5000);
    const late = await peer("late", ["home/hall/status"]);
    await sleep(50);
    assert.deepEqual(late.on("home/hall/status").map((m) => m.dt), [{ online: 0 }], "the retained status says offline");
  });

  /** Boots the esp8266 example config from Storage, connects, fills the bounded structures once. */
  async function esp8266Loaded() {
    const cfg = deviceConfig("esp8266", broker.port);
    cfg.inputs[1].period = 200; // analog reading every 200 ms: thousands of readings
    cfg.inputs[1].deadband = 0;
    const s = await boot("esp8266", cfg);
    const admin = await peer("admin", ["home/hall/status"]);
    await until("online", () => admin.on("home/hall/status").length > 0, 20000);
    const load = async (n: number, from: number) => {
      for (let i = from; i < from + n; i++) {
        s.setAnalog("A0", (i % 100) / 100);
        if (i % 10 === 0) s.setDigital("D0", (i / 10) % 2);
        if (i % 20 === 0) p2p(admin.c, "hall-esp8266", { cmd: i % 40 ? "toggle" : "status", id: "r" + i, target: "led" }, 0);
        await s.advance(200);
      }
      await s.advance(5000);
    };
    await load(600, 0);
    return { s, load };
  }

  it("esp8266: memory does not grow over thousands of readings and commands", async () => {
    const { s, load } = await esp8266Loaded();
    const idle = s.memory();
    await load(2000, 600);
    const after = s.memory();
    console.log(`      esp8266: ${idle.usage} blocks in use after warm-up, ${after.usage} after 2000 more readings and 100 commands`);
    assert.ok(after.usage <= idle.usage + 16, `memory grew from ${idle.usage} to ${after.usage}`);
  });
});
