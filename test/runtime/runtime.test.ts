import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as sinon from "sinon";
import { S_BACKOFF, S_IDLE, S_READY } from "../../firmware/jmqt/api";
import { createDevice, onWifi, run, shutdown, type Device } from "../../firmware/runtime/runtime";
import { FakeBoard, fakeClient, type FakeClient } from "./fakes";

const example = () => JSON.parse(readFileSync("examples/device.json", "utf8"));

describe("runtime/runtime (fake board, fake client, fake timers)", () => {
  let clock: sinon.SinonFakeTimers;
  let board: FakeBoard;
  let client: FakeClient;
  let rt: Device;
  let stored: any;

  function boot(cfg: any = example(), ready = true) {
    stored = cfg;
    board = new FakeBoard("esp32");
    client = fakeClient((cfg && cfg.id) || "dev1");
    board.config = [stored, ""];
    rt = createDevice(board, client, "9.9.9");
    run(cfg);
    if (ready) client.setState(S_READY);
  }
  function command(dt: any, from = "admin", cn = "#" + client.cl) {
    client.deliver(cn, dt, from);
    return client.p2ps[client.p2ps.length - 1];
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    clock.restore();
  });

  describe("availability", () => {
    it("publishes retained status online:1 on every (re)connect", () => {
      boot();
      let st = client.on("home/kitchen/status");
      assert.equal(st.length, 1);
      assert.deepEqual({ ...st[0], cb: undefined }, { cn: "home/kitchen/status", dt: { online: 1, id: "kitchen-esp32", fw: "9.9.9" }, q: 1, rt: 1, cb: undefined });
      client.setState(S_BACKOFF);
      client.setState(S_READY);
      st = client.on("home/kitchen/status");
      assert.equal(st.length, 2);
      // persistent: the client subscribes it again in the new session, and the runtime does not
      assert.deepEqual(client.subs, ["home/all"], "group subscribed once in the new session");
      assert.deepEqual(client.net.last.sentOf("unsub"), [], "and not unsubscribed");
    });
    it("publishes online:0 on orderly shutdown, then stops the client", () => {
      boot();
      let done = 0;
      shutdown(() => done++);
      const off = client.on("home/kitchen/status").pop()!;
      assert.deepEqual(off.dt, { online: 0 });
      assert.equal(off.rt, 1);
      assert.equal(client.stopped, 0, "waits for the pubAck");
      off.cb!(1);
      assert.equal(client.stopped, 1);
      assert.equal(done, 1);
      clock.tick(5000);
      assert.equal(client.stopped, 1, "stops once");
    });
    it("shutdown without a pubAck stops the client after 3 s; without a session at once", () => {
      boot();
      shutdown();
      assert.deepEqual(client.on("home/kitchen/status").pop()!.dt, { online: 0 });
      clock.tick(2999);
      assert.equal(client.stopped, 0);
      clock.tick(1);
      assert.equal(client.stopped, 1);
      assert.equal(clock.countTimers(), 0, "the tick stopped with the shutdown");
      boot(example(), false);
      let done = 0;
      shutdown(() => done++);
      assert.equal(client.pubs.length, 0, "no status without a session");
      assert.equal(client.stopped, 1);
      assert.equal(done, 1);
    });
    it("reports config errors on status and keeps running the valid part", () => {
      const cfg = example();
      cfg.inputs[1].pin = "D4";
      cfg.outputs[0].pin = "D35";
      boot(cfg);
      const st = client.on("home/kitchen/status")[0];
      assert.deepEqual(st.dt.err, ["inputs[1].pin: D4 cannot read analog on esp32", "outputs[0].pin: D35 is input-only on esp32"]);
      assert.deepEqual(rt.inputs_.map((i) => i.name_), ["button", "meter", "temp"]);
      assert.deepEqual(rt.outputs_.map((o) => o.name_), ["fan"]);
    });
    it("skips items that are not objects or have a bad type, and runs the rest", () => {
      const cfg = example();
      cfg.inputs.unshift(null, 7, { name: "x", type: "humidity", pin: "D4" });
      cfg.outputs.push(null, { name: "y", type: "relay", pin: "D5" });
      boot(cfg);
      const err = client.on("home/kitchen/status")[0].dt.err;
      assert.deepEqual(err.map((e: string) => e.split(":")[0]), ["inputs[0]", "inputs[1]", "inputs[2].type", "outputs[2]", "outputs[3].type"]);
      assert.deepEqual(rt.inputs_.map((i) => i.name_), ["button", "light", "meter", "temp"]);
      assert.deepEqual(rt.outputs_.map((o) => o.name_), ["led", "fan"]);
      assert.equal(command({ cmd: "set", id: "1", target: "led", value: 1 }).dt.ok, 1);
    });
    it("survives a config that is not an object", () => {
      boot(null as any);
      assert.deepEqual(client.on("status")[0].dt.err, ["config: must be a JSON object"]);
    });
  });

  describe("WiFi (onWifi: the board's connected and disconnected events)", () => {
    const up = { ip: "192.168.1.20", netmask: "255.255.255.0", gw: "192.168.1.1" };
    const drop = { ssid: "my-network", mac: "aa:bb:cc:dd:ee:ff", reason: "beacon_timeout" };
    it("connected (or no WiFi at all) starts the client once; without a server it stays idle", () => {
      boot(example(), false);
      assert.equal(client.state, S_IDLE);
      onWifi(up);
      assert.notEqual(client.state, S_IDLE, "started");
      const opened = client.net.sockets.length;
      onWifi(up);
      assert.equal(client.net.sockets.length, opened, "a second connected does not start it again");
      board = new FakeBoard("esp32");
      client = fakeClient("dev2", { host: "" });
      createDevice(board, client, "9.9.9");
      run(example());
      onWifi();
      assert.equal(client.state, S_IDLE, "no host: start() does nothing");
      assert.equal(client.net.sockets.length, 0);
    });
    it("each disconnected schedules one join, 1 s doubling to 60 s; connected cancels it and resets the delay; nothing is kept at rest", () => {
      boot(example(), false);
      const waits: number[] = [];
      for (let n = 0; n < 8; n++) {
        const before = board.wifiCalls.length;
        onWifi(drop);
        onWifi(drop); // a second event while one join is pending adds none
        let waited = 0;
        while (board.wifiCalls.length === before && waited < 120000) {
          clock.tick(500);
          waited += 500;
        }
        assert.deepEqual(board.wifiCalls.slice(before), [["my-network", "my-password"]], "one join per drop");
        waits.push(waited);
      }
      assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
      onWifi(drop);
      onWifi(up);
      clock.tick(120000);
      assert.equal(board.wifiCalls.length, 8, "connected cancelled the pending join");
      assert.equal(rt.wifiTimer_, undefined);
      assert.equal(rt.wifiBackoffS_, undefined);
      const before = board.wifiCalls.length;
      onWifi(drop);
      clock.tick(1000);
      assert.equal(board.wifiCalls.length, before + 1, "back to 1 s after connected");
    });
  });

  describe("inputs", () => {
    it("digital: publishes on change (inverted, debounced by setWatch) with its QoS", () => {
      boot();
      const w = board.watches.find((x) => x.pin === board.pinOf("D0"))!;
      assert.deepEqual(w.opts, { repeat: true, edge: "both", debounce: 50 });
      assert.equal(board.modes[board.pinOf("D0")], "input_pullup");
      assert.equal(rt.inputs_[0].value_, 1, "pin low at boot = pressed (active low)");
      board.edge("D0", true); // released -> 0
      board.edge("D0", true); // no change -> nothing
      board.edge("D0", false); // pressed -> 1
      const p = client.on("home/kitchen/button");
      assert.deepEqual(p.map((x) => [x.dt, x.q, x.rt]), [[0, 1, 0], [1, 1, 0]]);
    });
    it("analog: periodic, scaled, rounded, deadband suppresses small changes", () => {
      boot();
      const a = board.pinOf("D34");
      board.analogs[a] = 0.123456;
      clock.tick(9999);
      assert.equal(client.on("home/kitchen/light").length, 0);
      clock.tick(1);
      board.analogs[a] = 0.125; // 12.5 -> within deadband 0.5 of 12.3
      clock.tick(10000);
      board.analogs[a] = 0.131; // 13.1
      clock.tick(10000);
      assert.deepEqual(client.on("home/kitchen/light").map((x) => x.dt), [12.3, 13.1]);
      assert.equal(board.modes[a], "analog");
    });
    it("pulse: counts edges, publishes count and rate per second each period", () => {
      boot();
      for (let i = 0; i < 120; i++) board.edge("D13", false);
      clock.tick(60000);
      for (let i = 0; i < 30; i++) board.edge("D13", false);
      clock.tick(60000);
      assert.deepEqual(client.on("home/kitchen/meter").map((x) => x.dt), [{ n: 120, r: 2 }, { n: 150, r: 0.5 }]);
      assert.equal(board.watches.find((x) => x.pin === board.pinOf("D13"))!.opts.edge, "falling");
    });
    it("built-ins: temperature, memory, rssi, uptime on their own periods", () => {
      const cfg = example();
      cfg.inputs = [
        { name: "t", type: "temperature", period: 2000, precision: 1 },
        { name: "m", type: "memory", period: 3000 },
        { name: "r", type: "rssi", period: 5000 },
        { name: "u", type: "uptime", period: 4000 },
      ];
      boot(cfg);
      clock.tick(12000);
      assert.deepEqual(client.on("home/kitchen/t").map((x) => x.dt), [21.4, 21.4, 21.4, 21.4, 21.4, 21.4]);
      assert.deepEqual(client.on("home/kitchen/m").map((x) => x.dt), [1200, 1200, 1200, 1200]);
      assert.deepEqual(client.on("home/kitchen/r").map((x) => x.dt), [-61, -61]);
      assert.deepEqual(client.on("home/kitchen/u").map((x) => x.dt), [4, 8, 12]);
      assert.ok(board.kicks >= 12, "watchdog kicked by the tick");
    });
    it("a sensor that throws is reported and the other inputs keep going", () => {
      boot();
      board.analog = () => { throw new Error("adc stuck"); };
      board.temp = 30;
      clock.tick(60000);
      assert.match(rt.lastError_ ?? "", /home\/kitchen\/light: Error: adc stuck/);
      assert.deepEqual(client.on("home/kitchen/temp").map((x) => x.dt), [30]);
      assert.equal(client.on("home/kitchen/meter").length, 1);
    });
    it("with a polled client (as main.ts creates it) the tick is the device's one timer, and keeps the session's heartbeat", () => {
      board = new FakeBoard("esp32");
      client = fakeClient("dev1", { polled: 1 });
      board.config = [example(), ""];
      rt = createDevice(board, client, "9.9.9");
      run(example());
      client.setState(S_READY);
      assert.equal(clock.countTimers(), 1, "the tick interval, and no client timer");
      // setState's connAck has ts 1000: an hb every 998 s
      const s = client.net.last;
      clock.tick(997_000);
      assert.equal(s.sentOf("hb").length, 0);
      clock.tick(2_000);
      assert.equal(s.sentOf("hb").length, 1, "the runtime's tick sent the client's hb");
      assert.equal(client.state, S_READY);
    });
    it("uses one interval timer for all periodic inputs", () => {
      boot();
      assert.ok(client.timer_, "the client's own timer (heartbeat)");
      assert.equal(clock.countTimers(), 2, "the client's and one interval");
    });
  });

  describe("commands", () => {
    beforeEach(() => boot());
    it("ping", () => {
      assert.deepEqual(command({ cmd: "ping", id: "1" }), { to: "admin", dt: { re: "1", ok: 1 }, q: 0 });
    });
    it("status", () => {
      const r = command({ cmd: "status", id: "s" }).dt;
      assert.equal(r.ok, 1);
      assert.equal(r.fw, "9.9.9");
      assert.equal(r.free, 1200);
      assert.equal(r.tot, 1600);
      assert.equal(r.rssi, -61);
      assert.equal(r.qd, 0);
      // every counter, with its zeros (the client keeps all but fi and fo absent while 0)
      const k = client.counters;
      assert.deepEqual(r.c, { fi: k.fi, fo: k.fo, bad: 0, big: 0, heavy: 0, rc: 0, qd: 0 });
      (k as any).qd = 3;
      assert.equal(command({ cmd: "status", id: "s2" }).dt.c.qd, 3);
      delete (k as any).qd;
    });
    it("get input and output", () => {
      board.analogs[board.pinOf("D34")] = 0.5;
      assert.equal(command({ cmd: "get", id: "g1", target: "light" }).dt.v, 50);
      assert.equal(command({ cmd: "get", id: "g2", target: "led" }).dt.v, 0);
      assert.equal(command({ cmd: "get", id: "g3", target: "temp" }).dt.v, 21.4);
    });
    it("set, toggle on digital and PWM outputs", () => {
      const led = board.pinOf("D2");
      const fan = board.pinOf("D25");
      assert.deepEqual(command({ cmd: "set", id: "a", target: "led", value: 1 }).dt, { re: "a", ok: 1, v: 1 });
      assert.equal(board.pins[led], 1);
      assert.deepEqual(command({ cmd: "toggle", id: "b", target: "led" }).dt, { re: "b", ok: 1, v: 0 });
      assert.equal(board.pins[led], 0);
      command({ cmd: "set", id: "c", target: "fan", value: 0.25 });
      assert.deepEqual(board.pwms[board.pwms.length - 1], [fan, 0.25, 1000]);
      command({ cmd: "toggle", id: "d", target: "fan" });
      assert.equal(board.pins[fan], 0);
    });
    it("pulse flips a digital output for ms, then back", () => {
      const led = board.pinOf("D2");
      assert.deepEqual(command({ cmd: "pulse", id: "p", target: "led", ms: 250 }).dt, { re: "p", ok: 1, v: 1 });
      clock.tick(249);
      assert.equal(board.pins[led], 1);
      clock.tick(1);
      assert.equal(board.pins[led], 0);
    });
    it("errors: unknown command, unknown target, bad values, input as output - nothing else happens", () => {
      const writes = board.writes.length + board.pwms.length;
      const cases: Array<[any, RegExp]> = [
        [{ cmd: "fly", id: "1" }, /unknown command fly/],
        [{ cmd: "set", id: "2", target: "nope", value: 1 }, /unknown target nope/],
        [{ cmd: "set", id: "3", target: "led", value: 2 }, /bad value/],
        [{ cmd: "set", id: "4", target: "fan", value: "x" }, /bad value/],
        [{ cmd: "set", id: "5", target: "light", value: 1 }, /is an input/],
        [{ cmd: "pulse", id: "6", target: "fan", ms: 10 }, /PWM/],
        [{ cmd: "pulse", id: "7", target: "led", ms: -1 }, /bad ms/],
        [{ cmd: "get", id: "8" }, /missing target/],
      ];
      for (const [dt, re] of cases) {
        const r = command(dt).dt;
        assert.equal(r.re, dt.id);
        assert.equal(r.ok, 0, JSON.stringify(r));
        assert.match(r.err, re);
      }
      assert.equal(board.writes.length + board.pwms.length, writes);
    });
    it("a sender not on the allow list gets an error and nothing happens", () => {
      const n = board.writes.length;
      const r = command({ cmd: "set", id: "x", target: "led", value: 1 }, "stranger").dt;
      assert.deepEqual(r, { re: "x", ok: 0, err: "not allowed" });
      assert.equal(board.writes.length, n);
    });
    it("the same request id twice runs once and gets the same answer", () => {
      const a = command({ cmd: "toggle", id: "42", target: "led" }).dt;
      const b = command({ cmd: "toggle", id: "42", target: "led" }).dt;
      assert.deepEqual(a, b);
      assert.equal(board.pins[board.pinOf("D2")], 1, "toggled once");
      const c = command({ cmd: "toggle", id: "42", target: "led" }, "phone").dt;
      assert.equal(c.v, 0, "another sender's id is another request");
    });
    it("the reply cache is bounded and keeps only replies of commands that change something", () => {
      for (let i = 0; i < 50; i++) command({ cmd: "ping", id: "" + i });
      assert.equal((rt.replies_ || []).length, 0);
      for (let i = 0; i < 50; i++) command({ cmd: "toggle", id: "" + i, target: "led" });
      assert.equal((rt.replies_ || []).length, 4, "at most 4 replies kept");
      assert.equal(command({ cmd: "toggle", id: "49", target: "led" }).dt.v, 0, "still cached");
      assert.equal(board.pins[board.pinOf("D2")], 0, "50 toggles, the duplicate did not run");
    });
    it("commands arrive on the group channel too; other channels and retained pushes are ignored", () => {
      assert.equal(command({ cmd: "ping", id: "g" }, "admin", "home/all").dt.ok, 1);
      const n = client.p2ps.length;
      client.deliver("other", { cmd: "ping", id: "z" }, "admin");
      client.deliver("#kitchen-esp32", { cmd: "ping", id: "z" }, "admin", 1);
      client.deliver("#kitchen-esp32", "not an object", "admin");
      assert.equal(client.p2ps.length, n);
    });
    it("config read redacts secrets; config set validates, persists and applies", () => {
      const r = command({ cmd: "config", id: "c1" }).dt;
      assert.equal(r.cfg.server.token, "***");
      assert.equal(r.cfg.wifi.password, "***");
      const bad = command({ cmd: "config", id: "c2", set: { inputs: [{ name: "x", type: "analog", pin: "D4", period: 1000 }] } }).dt;
      assert.equal(bad.ok, 0);
      assert.match(bad.err, /inputs\[0\]\.pin: D4 cannot read analog/);
      assert.equal(board.storage["jmqt.json"], undefined);
      const ok = command({ cmd: "config", id: "c3", set: { prefix: "home/den/" } }).dt;
      assert.deepEqual(ok, { re: "c3", ok: 1, applied: 1 });
      assert.equal(JSON.parse(board.storage["jmqt.json"]).prefix, "home/den/");
      assert.equal(client.on("home/den/status").length, 1);
      assert.equal(clock.countTimers(), 2, "old tick replaced (beside the client's timer)");
    });
    it("config set of the server, and reboot, reboot after the reply", () => {
      const r = command({ cmd: "config", id: "c4", set: { server: { host: "10.0.0.2", port: 8010, token: "t" } } }).dt;
      assert.deepEqual(r, { re: "c4", ok: 1, reboot: 1 });
      assert.equal(board.reboots, 0);
      clock.tick(1000);
      assert.equal(board.reboots, 1);
      assert.deepEqual(command({ cmd: "reboot", id: "r" }).dt, { re: "r", ok: 1 });
      clock.tick(1000);
      assert.equal(board.reboots, 2);
    });
    it("an exception inside a command becomes an error reply", () => {
      board.memory = () => { throw new Error("boom"); };
      const r = command({ cmd: "status", id: "e" }).dt;
      assert.equal(r.ok, 0);
      assert.match(r.err, /boom/);
    });
  });

  describe("ota command (the dispatcher's side; the receiver itself: test/ota/)", () => {
    /** A stand-in for the receiver's handler: h(request) → result, h() → open flag. */
    function fakeReceiver(results: Record<string, any>) {
      const calls: any[] = [];
      let open = 0;
      const h = (a?: any) => {
        if (a === undefined) return open;
        calls.push(a);
        if (a.op === "begin") open = 1;
        if (a.op === "install" || a.op === "abort") open = 0;
        return results[a.op] !== undefined ? results[a.op] : {};
      };
      return { h, calls, close: () => (open = 0) };
    }
    beforeEach(() => boot());
    it("loads the receiver on a request, keeps it while an update is open, drops it when idle", () => {
      board.storage["jmqt.otr"] = "(receiver)";
      const rx = fakeReceiver({ state: { st: "idle", res: null }, begin: { n: 0, cs: 512, m: 3 }, chunk: { n: 1 } });
      board.ota = rx.h;
      assert.deepEqual(command({ cmd: "ota", id: "o1", op: "state" }).dt, { re: "o1", ok: 1, st: "idle", res: null });
      assert.equal(rt.ota_, undefined, "idle: not kept");
      assert.equal(board.otaLoads, 1);
      assert.deepEqual(command({ cmd: "ota", id: "o2", op: "begin", size: 1000, crc: 1, v: "2" }).dt, { re: "o2", ok: 1, n: 0, cs: 512, m: 3 });
      assert.equal(rt.ota_, rx.h, "open: kept");
      command({ cmd: "ota", id: "o3", op: "chunk", n: 0, d: "" });
      assert.equal(board.otaLoads, 2, "not loaded again while kept");
      assert.deepEqual(command({ cmd: "ota", id: "o3", op: "chunk", n: 0, d: "" }).dt, { re: "o3", ok: 1, n: 1 }, "a repeated request id: from the reply cache");
      assert.equal(rx.calls.length, 3);
      // the tick drops the receiver once it says no update is open (it drops an abandoned one itself)
      rx.close();
      clock.tick(1000);
      assert.equal(rt.ota_, undefined);
    });
    it("state is a read (not cached); a refusal is an error reply; a missing receiver is said", () => {
      board.storage["jmqt.otr"] = "(receiver)";
      board.ota = fakeReceiver({ state: { st: "idle", res: null }, chunk: "no update running (begin first)" }).h;
      command({ cmd: "ota", id: "s", op: "state" });
      assert.equal((rt.replies_ || []).length, 0, "state not cached");
      assert.deepEqual(command({ cmd: "ota", id: "c", op: "chunk", n: 0 }).dt, { re: "c", ok: 0, err: "no update running (begin first)" });
      assert.equal((rt.replies_ || []).length, 1);
      delete board.storage["jmqt.otr"];
      assert.deepEqual(command({ cmd: "ota", id: "m", op: "state" }).dt, { re: "m", ok: 0, err: "ota receiver not in Storage (flash it)" });
      assert.deepEqual(command({ cmd: "ota", id: "n", op: "state" }, "stranger").dt, { re: "n", ok: 0, err: "not allowed" });
    });
    it("a commit's reply with reboot: 1 is sent, then online:0; about 1 s later the receiver installs (and reboots)", () => {
      board.storage["jmqt.otr"] = "(receiver)";
      const rx = fakeReceiver({ begin: {}, commit: { v: "2", reboot: 1 }, install: 1 });
      board.ota = rx.h;
      command({ cmd: "ota", id: "b", op: "begin" });
      rx.calls.length = 0;
      assert.deepEqual(command({ cmd: "ota", id: "k", op: "commit" }).dt, { re: "k", ok: 1, v: "2", reboot: 1 });
      assert.deepEqual(client.on("home/kitchen/status").pop()!.dt, { online: 0 });
      assert.deepEqual(rx.calls.map((c) => c.op), ["commit"], "nothing installed before the reply");
      clock.tick(1000);
      assert.deepEqual(rx.calls.map((c) => c.op), ["commit", "install"]);
      assert.equal(board.reboots, 0, "the receiver's install reboots itself");
    });
    it("a reboot with no verified update waiting: the install says 0 and the dispatcher reboots", () => {
      board.storage["jmqt.otr"] = "(receiver)";
      const rx = fakeReceiver({ begin: {}, install: 0 });
      board.ota = rx.h;
      command({ cmd: "ota", id: "b", op: "begin" });
      command({ cmd: "reboot", id: "r" });
      clock.tick(1000);
      assert.deepEqual(rx.calls[rx.calls.length - 1], { op: "install" });
      assert.equal(board.reboots, 1);
    });
    it("a new session with an install on trial (jmqt.try) confirms it (the receiver erases jmqt.try); status shows jmqt.res", () => {
      board.storage["jmqt.otr"] = "(receiver)";
      const rx = fakeReceiver({ confirm: { v: "2" } });
      board.ota = rx.h;
      client.setState(S_BACKOFF);
      client.setState(S_READY);
      assert.equal(rx.calls.length, 0, "nothing on trial: the receiver is not even loaded");
      assert.equal(board.otaLoads, 0);
      board.storage["jmqt.try"] = "1";
      client.setState(S_BACKOFF);
      client.setState(S_READY);
      assert.deepEqual(rx.calls, [{ op: "confirm" }]);
      assert.equal(rt.ota_, undefined, "dropped after the confirm");
      assert.equal(command({ cmd: "status", id: "s" }).dt.ota, undefined);
      board.storage["jmqt.res"] = '{"ok":0,"v":"2","err":"not confirmed in time: rolled back"}';
      assert.deepEqual(command({ cmd: "status", id: "s2" }).dt.ota, { ok: 0, v: "2", err: "not confirmed in time: rolled back" });
    });
  });

  describe("offline queue and safe state", () => {
    it("QoS 1 readings wait while offline and go out in order; exact drop count when full", () => {
      boot(example(), false);
      const qmax = board.info.offlineQueue;
      for (let i = 0; i < qmax + 5; i++) board.edge("D0", i % 2 === 0);
      assert.equal(client.pubs.length, 0);
      assert.equal(rt.dropped_, 5);
      client.setState(S_READY);
      const p = client.on("home/kitchen/button");
      assert.equal(p.length, qmax);
      const expected = [];
      for (let i = 5; i < qmax + 5; i++) expected.push(i % 2 === 0 ? 0 : 1);
      assert.deepEqual(p.map((x) => x.dt), expected);
      assert.equal(command({ cmd: "status", id: "s" }).dt.qd, 5);
    });
    it("when the client is busy the queue keeps order and retries on ack and on tick", () => {
      boot(example(), false);
      for (let i = 0; i < 6; i++) board.edge("D0", i % 2 === 0);
      client.room = 3; // status + 2 readings
      client.setState(S_READY);
      assert.equal(client.on("home/kitchen/button").length, 2);
      board.edge("D0", true); // arrives while 4 are still queued: goes behind them
      client.room = 2;
      client.pubs[1].cb!(1);
      assert.equal(client.on("home/kitchen/button").length, 4);
      client.room = 10;
      clock.tick(1000);
      assert.deepEqual(client.on("home/kitchen/button").map((x) => x.dt), [0, 1, 0, 1, 0, 1, 0]);
      assert.equal(rt.queuedInputs_, undefined, "the offline queue is gone once empty");
    });
    it("the pubAcks of QoS 1 readings are no ticks: the periodic inputs keep their periods", () => {
      boot();
      board.analogs[board.pinOf("D34")] = 0.5;
      for (let i = 0; i < 40; i++) {
        board.edge("D0", i % 2 === 0);
        const p = client.on("home/kitchen/button");
        assert.equal(p.length, i + 1, "reading " + i + " sent");
        p[i].cb!(1);
      }
      assert.equal(client.on("home/kitchen/light").length, 0, "no reading before its period");
      clock.tick(9999);
      assert.equal(client.on("home/kitchen/light").length, 0);
      clock.tick(1);
      assert.equal(client.on("home/kitchen/light").length, 1);
    });
    it("QoS 0 readings are not queued while offline", () => {
      boot(example(), false);
      board.analogs[board.pinOf("D34")] = 0.5;
      clock.tick(10000);
      client.setState(S_READY);
      assert.equal(client.on("home/kitchen/light").length, 0);
    });
    it("outputs go to their safe state after safeMs without a session", () => {
      boot();
      command({ cmd: "set", id: "1", target: "led", value: 1 });
      command({ cmd: "set", id: "2", target: "fan", value: 0.8 });
      client.setState(S_BACKOFF);
      clock.tick(29000);
      assert.equal(board.pins[board.pinOf("D2")], 1);
      clock.tick(1000);
      assert.equal(board.pins[board.pinOf("D2")], 0);
      assert.equal(board.pins[board.pinOf("D25")], 0);
      assert.match(rt.lastError_ ?? "", /safe state/);
    });
    it("safe state also applies when no session ever came up", () => {
      const cfg = example();
      cfg.outputs[0].initial = 1;
      boot(cfg, false);
      assert.equal(board.pins[board.pinOf("D2")], 1);
      clock.tick(30000);
      assert.equal(board.pins[board.pinOf("D2")], 0);
    });
  });
});
