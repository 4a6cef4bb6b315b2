// Under load and bad input, on the REAL interpreter (issue 12): the firmware booted from Storage
// on espruino-esp8266 (the tighter layout), against the project's broker over loopback TCP.
//   - 1000 pings sent at once, q0 then q1: every one answered, each once. Inbound frames are held
//     while replies wait for a drain (Espruino sockets cannot be paused); q1 pushes refused past
//     that bound are not acknowledged and come back by a session cycle (SPEC "QoS 1").
//   - 300 q1 status commands at once (their replies fill the out queue): the refused ones are not
//     acknowledged, come back by a session cycle, and each is answered exactly once.
//   - pushes of 2 KB, 8 KB, 64 KB (over maxFrame) dropped and counted, the session stays up.
//   - malformed frames (not JSON, wrong shape, unknown type, binary garbage, a frame one byte per
//     chunk) counted, never fatal; a 300-deep nested array 10 times (it would run JSON.parse out
//     of memory) refused before parsing.
//   - half a frame, then a link silent both ways: the dead-link timer ends the session, the device
//     reconnects with no stale half frame in its framer and answers.
//   - the broker killed and restarted in the middle of a 1000-ping burst: the device reconnects,
//     subscribes its group again, and its QoS 1 readings arrive in order, none lost, none twice.
//   - 10^4 random and mutated frames (the V8 fuzz's generator) in random splits: the session
//     stays up and a ping is answered afterwards.
//   - each case runs twice: `status` free after the second run is within 8 blocks of the first
//     (the first run fills what is bounded: error strings, the ring of recent q1 ids, counters
//     past 1023 that take a block more; a leak would grow again).
// No time is asserted (bench/load-espruino.ts prints the times beside its floors).
import { strict as assert } from "node:assert";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import { ask, burst, peer, stopPeer, type Peer } from "../../bench/load-espruino";
import { mutate, randomBytes, seeds } from "../jmqt/fuzz-frames";
import { rng } from "../soak/soak";
import { p2p, sub } from "../../firmware/jmqt/client";

const TOKEN = "tok";
const BAD = /Uncaught|ASSERT|LOW_MEMORY|OUT OF MEMORY/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("real Espruino interpreter (esp8266): bursts, oversized and malformed frames", function () {
  this.timeout(120000);
  let broker: Broker;
  let dev: EspruinoBoard;
  let p: Peer;
  let n = 0;
  const status = async () => {
    const st = await ask(p, "dev", { cmd: "status", id: "st" + n++ });
    assert.ok(st, "status answered\n" + dev.console.slice(-10).join("\n"));
    return st;
  };
  /** free blocks once the device settled (two reads, the second after the first reply was sent) */
  const settled = async () => {
    await status();
    await sleep(300);
    return (await status()).free as number;
  };

  before(async function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
    // ts 4: heartbeats every 2 s, a link silent for 4 s is dead (the half-frame case below)
    broker = await startBroker({ port: 0, token: TOKEN, ts: 4 });
    const cfg = { id: "dev", server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: { ssid: "load", password: "load" }, allow: ["admin"], inputs: [], outputs: [] };
    dev = new EspruinoBoard({ board: "esp8266", config: cfg, wifi: { rssi: -60 } });
    p = await peer(broker.port, TOKEN);
    await dev.boot();
    assert.ok(await dev.waitFor(() => broker.clients().indexOf("dev") >= 0, 10000), "the device is online");
    // warm-up: fills the ring of recent q1 ids (dedup: 8) that the q1 status requests below use
    for (let i = 0; i < 10; i++) assert.ok(await ask(p, "dev", { cmd: "ping", id: "warm" + i }));
  });
  after(async () => {
    await stopPeer(p);
    if (dev) await dev.stop();
    if (broker) await broker.close();
  });

  for (const q of [0, 1]) {
    it(`answers 1000 q${q} pings sent at once, each exactly once; a second burst leaves memory where the first did`, async () => {
      const frees: number[] = [];
      for (const run of [1, 2]) {
        const b = await burst(p, "dev", 1000, q, "q" + q + "-" + run + "-");
        console.log(`      q${q} burst ${run}: 1000 answered in ${b.ms} ms; refused (and fetched again) so far: ${b.counters.qd}, session cycles so far: ${b.counters.rc}`);
        assert.equal(b.answered, 1000);
        assert.ok(b.once, "no ping answered twice");
        frees.push(await settled());
      }
      assert.ok(Math.abs(frees[1] - frees[0]) <= 8, `free after each burst: ${frees.join(" -> ")}`);
    });
  }

  /** runs `body` twice; free after the second run within 8 blocks of free after the first */
  const twice = async (body: (run: number) => Promise<void>) => {
    const frees: number[] = [];
    for (const run of [1, 2]) {
      await body(run);
      frees.push(await settled());
    }
    assert.ok(Math.abs(frees[1] - frees[0]) <= 8, `free after each run: ${frees.join(" -> ")}`);
  };

  it("a flood of 300 q1 status commands, past what it can answer: the refused ones are not acknowledged, come back by a session cycle, and each is answered exactly once", () => twice(async (run) => {
    // a status reply is ~300 bytes: the out queue fills faster than drains empty it, so pushes are
    // refused (qd) and left unacknowledged (owed); once the flood is over the device ends the
    // session cleanly and the broker sends them again (SPEC "QoS 1")
    const before = (await status()).c;
    const b = await burst(p, "dev", 300, 1, "flood" + run + "-", undefined, "status");
    assert.equal(b.answered, 300, "every command answered\n" + dev.console.slice(-10).join("\n"));
    assert.ok(b.once, "none answered twice");
    console.log(`      flood ${run}: refused ${b.counters.qd - before.qd}, session cycles ${b.counters.rc - before.rc}`);
    assert.ok(b.counters.qd > before.qd, "the flood went past what the device could answer at once (refusals counted)");
    assert.ok(b.counters.rc > before.rc, "the refused pushes came back by a session cycle");
  }));

  it("drops pushes of 2 KB, 8 KB and 64 KB (over maxFrame), counts them, keeps the session", () => twice(async () => {
    const before = await status();
    for (const size of [2048, 8192, 65536]) {
      const pad = "x".repeat(size);
      assert.ok(broker.injectRaw("dev", `{"push":{"cn":"#dev","cl":"admin","dt":{"cmd":"ping","id":"big","pad":"${pad}"}}}\0`));
      await sleep(200);
    }
    const st = await status();
    assert.equal(st.c.big - before.c.big, 3, "three oversized frames counted");
    assert.equal(st.c.rc, before.c.rc, "no reconnect");
    assert.equal(p.got.filter((d) => d.re === "big").length, 0);
  }));

  it("counts malformed frames (not JSON, wrong shape, unknown type, garbage), takes a frame one byte per chunk, and goes on", () => twice(async (run) => {
    const before = await status();
    const bad = ["not json", "[1,2,3]", '{"push":1}', '{"nope":{}}', '{"push":{"cn":"#dev"},"x":{}}', "\x01\x02\xff\xfe{{{", '{"push":{"cn":5,"dt":1}}'];
    for (const f of bad) assert.ok(broker.injectRaw("dev", f + "\0"));
    const split = '{"push":{"cn":"#dev","cl":"admin","dt":{"cmd":"ping","id":"split' + run + '"}}}\0';
    for (const ch of split) {
      assert.ok(broker.injectRaw("dev", ch));
      await sleep(2);
    }
    const end = Date.now() + 5000;
    while (!p.got.find((d) => d.re === "split" + run) && Date.now() < end) await sleep(20);
    const st = await status();
    assert.ok(p.got.find((d) => d.re === "split" + run), `run ${run}: the frame sent one byte at a time is answered (counters before ${JSON.stringify(before.c)}, after ${JSON.stringify(st.c)})\n` + dev.console.slice(-6).join("\n"));
    assert.equal(st.c.bad - before.c.bad, bad.length, "each malformed frame counted once");
    assert.equal(st.c.rc, before.c.rc, "no reconnect");
  }));

  it("refuses a 300-deep nested array 10 times before parsing it; memory flat", () => twice(async () => {
    const before = await status();
    const deep = "[".repeat(300) + "]".repeat(300);
    for (let i = 0; i < 10; i++) {
      assert.ok(broker.injectRaw("dev", `{"push":{"cn":"#dev","cl":"admin","dt":{"cmd":"ping","id":"deep${i}","x":${deep}}}}\0`));
      await sleep(100);
    }
    const st = await status();
    assert.equal(st.c.heavy - before.c.heavy, 10);
    assert.equal(st.c.rc, before.c.rc, "no reconnect");
  }));

  it("half a frame, then silence: the dead-link limit ends the session, the device reconnects and answers", () => twice(async (run) => {
    const before = await status();
    let back = false;
    const onConnect = (id: string) => {
      if (id === "dev") back = true;
    };
    broker.on("connect", onConnect);
    assert.ok(broker.injectRaw("dev", '{"push":{"cn":"#dev","cl":"admin","dt":{"cmd":"ping","id":"ha'));
    await sleep(100);
    dev.stallLinks(true);
    const end = Date.now() + 20000;
    while (!back && Date.now() < end) await sleep(100);
    dev.stallLinks(false);
    broker.off("connect", onConnect);
    assert.ok(back, "run " + run + ": the device opened a new session\n" + dev.console.slice(-6).join("\n"));
    const ping = await ask(p, "dev", { cmd: "ping", id: "after-silence" + run });
    assert.ok(ping && ping.ok === 1, "answered on the new session");
    const st = await status();
    assert.ok(st.c.rc > before.c.rc, "counted as a reconnect");
    assert.equal(st.c.bad, before.c.bad, "the half frame did not join the new session's first frame");
  }));

  it("takes 10^4 random and mutated frames in random splits: the session stays up, a ping is answered after", () => {
    const r = rng(20261202);
    const base = seeds();
    return twice(async (run) => {
      const before = await status();
      let frames = 0;
      while (frames < 5000) {
        let batch = "";
        for (let i = 0; i < 100; i++, frames++) {
          const kind = r();
          const f = kind < 0.1 ? randomBytes(r) : kind < 0.2 ? base[Math.floor(r() * base.length)] : mutate(r, base[Math.floor(r() * base.length)]);
          batch += f + (r() < 0.97 ? "\0" : "");
        }
        // a NUL ends whatever the batch left open, so that the next batch starts a frame
        batch += "\0";
        for (let at = 0; at < batch.length; ) {
          const n = r() < 0.2 ? 1 : 1 + Math.floor(r() * 700);
          assert.ok(broker.injectRaw("dev", batch.substr(at, n)), "device connected after " + frames + " frames");
          at += n;
        }
        // let the device keep up (the broker's socket would otherwise hold megabytes)
        const st = await status();
        assert.equal(st.c.rc, before.c.rc, "no reconnect after " + frames + " frames");
      }
      const st = await status();
      console.log(`      fuzz run ${run}: 5000 frames, ${st.c.bad - before.c.bad} malformed, ${st.c.big - before.c.big} oversized, ${st.c.heavy - before.c.heavy} too heavy`);
      assert.ok(st.c.bad - before.c.bad > 1000, "the frames reached the codec");
      const ping = await ask(p, "dev", { cmd: "ping", id: "after-fuzz" + run });
      assert.ok(ping && ping.ok === 1, "a ping is answered after the fuzz");
    });
  });

  it("no console line says Uncaught, ASSERT, LOW_MEMORY or OUT OF MEMORY", () => {
    assert.deepEqual(dev.console.filter((l) => BAD.test(l)), []);
  });
});

describe("real Espruino interpreter (esp8266): the broker killed and restarted in the middle of a burst", function () {
  this.timeout(120000);
  let broker: Broker;
  let dev: EspruinoBoard;
  let port = 0;
  const peers: Peer[] = [];
  /** a peer subscribed to the readings; `ups(q)` the uptimes it got */
  const subscriber = async (): Promise<Peer> => {
    const q = await peer(port, TOKEN);
    await new Promise<void>((res) => sub(q.c, "r/up", 0, () => res()));
    peers.push(q);
    return q;
  };
  const ups = (q: Peer): number[] => q.pushes.filter((m) => m.cn === "r/up").map((m) => m.dt);
  /** the ids of the device's r/up pubs as each broker got them (the device numbers its pubs in order) */
  const upIds: number[] = [];
  const recordIds = (br: Broker) =>
    br.on("packet", (ev: any) => {
      if (ev.dir === "in" && ev.cl === "dev" && ev.type === "pub" && ev.body.cn === "r/up") upIds.push(Number(ev.body.id));
    });

  before(async function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
    broker = await startBroker({ port: 0, token: TOKEN });
    recordIds(broker);
    port = broker.port;
    // one QoS 1 reading every 1.1 s: the uptime in seconds, so each reading has its own value
    const cfg = {
      id: "dev", server: { host: "127.0.0.1", port, token: TOKEN }, wifi: { ssid: "load", password: "load" }, allow: ["admin"],
      prefix: "r/", group: "grp", inputs: [{ name: "up", type: "uptime", period: 1100, q: 1 }], outputs: [],
    };
    dev = new EspruinoBoard({ board: "esp8266", config: cfg, wifi: { rssi: -60 } });
    await dev.boot();
  });
  after(async () => {
    for (const q of peers) await stopPeer(q);
    if (dev) await dev.stop();
    if (broker) await broker.close();
  });

  it("reconnects, resubscribes its group, replays its QoS 1 readings in order, none twice", async () => {
    const a = await subscriber();
    const end0 = Date.now() + 10000;
    while (ups(a).length < 2 && Date.now() < end0) await sleep(50);
    assert.ok(ups(a).length >= 2, "readings before the restart");
    for (let i = 0; i < 1000; i++) p2p(a.c, "dev", { cmd: "ping", id: "m" + i }, 0);
    const end1 = Date.now() + 10000;
    while (a.got.length < 100 && Date.now() < end1) await sleep(5);
    assert.ok(a.got.length >= 100 && a.got.length < 1000, `killed mid-burst (${a.got.length} answered)`);
    await stopPeer(a);
    await broker.close();
    await sleep(3000); // readings queue on the device meanwhile
    broker = await startBroker({ port, token: TOKEN });
    recordIds(broker);
    const b = await subscriber();
    const end2 = Date.now() + 20000;
    while (broker.clients().indexOf("dev") < 0 && Date.now() < end2) await sleep(50);
    assert.ok(broker.clients().indexOf("dev") >= 0, "back on the new broker");
    // the readings made while the broker was down arrive in order, each once
    const end3 = Date.now() + 10000;
    while (ups(b).length < 4 && Date.now() < end3) await sleep(50);
    // in order and none twice: by the pub ids the brokers got (two readings may fall in the same
    // second of uptime: a pubAck runs the device's tick too, so readings of a 1.1 s period can be
    // 0.9 s apart), and the values the subscribers got never go back
    const all = [...ups(a), ...ups(b)];
    for (let i = 1; i < upIds.length; i++) assert.ok(upIds[i] > upIds[i - 1], "in order, none twice (ids): " + upIds.join(","));
    for (let i = 1; i < all.length; i++) assert.ok(all[i] >= all[i - 1], "in order (values): " + all.join(","));
    assert.equal(all.length, upIds.length, `each reading the brokers took reached a subscriber once: ${all.join(",")} / ${upIds.join(",")}`);
    assert.ok(ups(b)[0] - ups(a)[ups(a).length - 1] <= 2, "none lost across the restart: " + all.join(","));
    // the group subscription was made again on the new broker
    const n = b.got.length;
    const end4 = Date.now() + 5000;
    while (b.got.length === n && Date.now() < end4) {
      b.c.pub("grp", { cmd: "ping", id: "g" + Date.now() }, 0, 0);
      await sleep(300);
    }
    assert.ok(b.got.length > n, "a command on the group channel is answered");
    assert.deepEqual(dev.console.filter((l) => BAD.test(l)), []);
  });
});
