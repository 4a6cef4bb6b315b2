// JMQT 1.0 behaviour of the broker (SPEC "Behaviour"), each over real TCP on 127.0.0.1.
import { strict as assert } from "node:assert";
import { once } from "node:events";
import { type Broker, type BrokerOptions, type PacketEvent, startBroker } from "../../sim/broker";
import { connected, Peer, UUID } from "./peer";

describe("broker behaviour", () => {
  let broker: Broker;
  let peers: Peer[];

  async function start(opts: BrokerOptions = {}): Promise<void> {
    broker = await startBroker({ port: 0, ...opts });
  }
  async function conn(cl: string): Promise<Peer> {
    const p = await connected(broker.port, cl);
    peers.push(p);
    return p;
  }
  async function raw(): Promise<Peer> {
    const p = await Peer.connect(broker.port);
    peers.push(p);
    return p;
  }
  /** Drops a peer abruptly and waits until the broker has ended its session. */
  async function lose(p: Peer): Promise<void> {
    const gone = once(broker, "disconnect");
    p.destroy();
    await gone;
  }

  beforeEach(() => {
    peers = [];
  });
  afterEach(async () => {
    for (const p of peers) p.destroy();
    if (broker) await broker.close();
  });

  describe("auth and conn", () => {
    it("issues cl from client_name and the token; conn accepts it; st 6 for a bad token keeps the socket", async () => {
      await start({ token: "static" });
      const p = await raw();
      p.send({ auth: { dt: { client_name: "dev1" } } });
      assert.deepEqual(await p.next(), { authAck: { st: 1, at: "static", cl: "dev1" } });
      p.send({ conn: { at: "wrong", cl: "dev1" } });
      assert.deepEqual(await p.next(), { connAck: { st: 6, ts: 15 } });
      p.send({ conn: { at: "static", cl: "dev1" } });
      assert.deepEqual(await p.next(), { connAck: { st: 1, ts: 15 } });
      assert.deepEqual(broker.clients(), ["dev1"]);
    });

    it("generates distinct ids when auth dt has no client_name", async () => {
      await start();
      const p = await raw();
      p.send({ auth: { dt: "IMEI-1" } });
      p.send({ auth: { dt: { IMEI: "2" } } });
      const a = (await p.next()).authAck;
      const b = (await p.next()).authAck;
      assert.equal(a.st, 1);
      assert.equal(b.st, 1);
      assert.ok(a.cl && b.cl && a.cl !== b.cl);
    });

    it("uses pluggable validators (refusal, status code, issued token)", async () => {
      await start({
        validateAuth: (dt: any) => (dt && dt.pw === "ok" ? { cl: dt.user, at: "tok-" + dt.user } : dt && dt.pw === "x" ? 5 : null),
        validateConn: (cl, at) => (cl === "banned" ? 7 : at === "tok-" + cl),
      });
      const p = await raw();
      p.send({ auth: { dt: { user: "u1", pw: "no" } } });
      const refused = (await p.next()).authAck;
      assert.equal(refused.st, 0);
      assert.equal(typeof refused.mg, "string");
      p.send({ auth: { dt: { pw: "x" } } });
      assert.equal((await p.next()).authAck.st, 5);
      p.send({ auth: { dt: { user: "u1", pw: "ok" } } });
      assert.deepEqual(await p.next(), { authAck: { st: 1, at: "tok-u1", cl: "u1" } });
      p.send({ conn: { at: "test-token", cl: "u1" } });
      assert.equal((await p.next()).connAck.st, 6);
      p.send({ conn: { at: "x", cl: "banned" } });
      assert.equal((await p.next()).connAck.st, 7);
      p.send({ conn: { at: "tok-u1", cl: "u1" } });
      assert.equal((await p.next()).connAck.st, 1);
    });

    it("default conn accepts the token issued by auth only for that client id", async () => {
      await start({ validateAuth: () => ({ cl: "d9", at: "secret-9" }) });
      const p = await raw();
      p.send({ auth: { dt: {} } });
      assert.equal((await p.next()).authAck.at, "secret-9");
      p.send({ conn: { at: "secret-9", cl: "other" } });
      assert.equal((await p.next()).connAck.st, 6);
      p.send({ conn: { at: "secret-9", cl: "d9" } });
      assert.equal((await p.next()).connAck.st, 1);
    });

    it("answers conn without cl/at with st 10", async () => {
      await start();
      const p = await raw();
      p.send({ conn: { cl: "x" } });
      assert.equal((await p.next()).connAck.st, 10);
    });

    it("ignores hb, sub, pub, unsub, pushAck before conn", async () => {
      await start();
      const p = await raw();
      p.send({ hb: {} });
      p.send({ sub: { cn: "a" } });
      p.send({ unsub: { cn: "a" } });
      p.send({ pub: { cn: "a", dt: 1, q: 1, id: "1" } });
      p.send({ pushAck: { st: 1, id: "1" } });
      p.send({ auth: { dt: { client_name: "z" } } });
      assert.equal("authAck" in (await p.next()), true);
      assert.equal(broker.stats.msgsIn, 0);
    });

    it("a second conn for the same id takes the session over; the old socket is closed", async () => {
      await start();
      const old = await conn("dup");
      const fresh = await conn("dup");
      await old.whenClosed();
      assert.deepEqual(broker.clients(), ["dup"]);
      assert.deepEqual(await fresh.sync(), [{ push: { cn: "update", dt: { online: "dup" }, cl: "" } }]);
    });
  });

  describe("announcements", () => {
    it("pushes online/offline on the update channel", async () => {
      await start();
      const a = await conn("a");
      assert.deepEqual(await a.next(), { push: { cn: "update", dt: { online: "a" }, cl: "" } });
      const b = await conn("b");
      assert.deepEqual(await a.next(), { push: { cn: "update", dt: { online: "b" }, cl: "" } });
      await lose(b);
      assert.deepEqual(await a.next(), { push: { cn: "update", dt: { offline: "b" }, cl: "" } });
      assert.deepEqual(await a.sync(), []);
    });

    it("can be turned off (announce: false): only #<id> is subscribed", async () => {
      await start({ announce: false });
      const a = await conn("a");
      await conn("b");
      a.send({ pub: { cn: "$mySubscriptions", dt: {}, id: "1" } });
      const ack = await a.next();
      assert.deepEqual(ack, { pubAck: { st: 1, id: "1", dt: { channels: { "#a": "persistent" } } } });
    });
  });

  describe("sub / unsub / publish", () => {
    beforeEach(() => start({ announce: false }));

    it("acks sub/unsub; st 7 for # and $; st 11 for a bad channel; q0 reaches subscribers only while subscribed", async () => {
      const a = await conn("a");
      const b = await conn("b");
      b.send({ sub: { cn: "t" } });
      assert.deepEqual(await b.next(), { subAck: { st: 1, cn: "t" } });
      b.send({ sub: { cn: "#a" } });
      assert.deepEqual(await b.next(), { subAck: { st: 7, cn: "#a" } });
      b.send({ unsub: { cn: "$x" } });
      assert.deepEqual(await b.next(), { unsubAck: { st: 7, cn: "$x" } });
      b.send({ sub: { cn: "" } });
      assert.deepEqual(await b.next(), { subAck: { st: 11, cn: "" } });
      a.send({ pub: { cn: "t", dt: { v: 1 } } });
      assert.deepEqual(await b.next(), { push: { cn: "t", dt: { v: 1 }, cl: "a" } });
      b.send({ unsub: { cn: "t" } });
      assert.deepEqual(await b.next(), { unsubAck: { st: 1, cn: "t" } });
      a.send({ pub: { cn: "t", dt: { v: 2 } } });
      assert.deepEqual(await a.sync(), []);
      assert.deepEqual(await b.sync(), []);
    });

    it("keeps UTF-8 intact, escaped as \\uXXXX on the wire like the reference server", async () => {
      const a = await conn("a");
      a.send({ sub: { cn: "t" } });
      await a.next();
      a.send({ pub: { cn: "t", dt: "héllo €" } });
      const got = await a.next();
      assert.equal(got.push.dt, "héllo €");
      const rawText = a.rawFrames[a.rawFrames.length - 1];
      assert.ok(rawText.includes("h\\u00e9llo \\u20ac"), rawText);
    });

    it("q1: pubAck to the publisher, push with a UUID to the subscriber, stored until pushAck", async () => {
      const a = await conn("a");
      const b = await conn("b");
      b.send({ sub: { cn: "t" } });
      await b.next();
      a.send({ pub: { cn: "t", dt: 5, q: 1, id: "7" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 1, id: "7" } });
      const push = (await b.next()).push;
      assert.match(push.id, UUID);
      assert.deepEqual(push, { cn: "t", dt: 5, cl: "a", id: push.id, q: 1 });
      assert.equal(broker.pendingCount("b"), 1);
      b.send({ pushAck: { st: 1, id: push.id } });
      await b.sync();
      assert.equal(broker.pendingCount("b"), 0);
    });

    it("q1 with a temporary subscription is not redelivered after the session ends", async () => {
      const a = await conn("a");
      let b = await conn("b");
      b.send({ sub: { cn: "t" } });
      await b.next();
      a.send({ pub: { cn: "t", dt: 1, q: 1, id: "1" } });
      await b.next();
      await lose(b);
      assert.equal(broker.pendingCount("b"), 0);
      b = await conn("b");
      assert.deepEqual(await b.sync(), []);
    });

    it("persistent subscription survives disconnects; q1 is stored offline and redelivered until acked", async () => {
      const a = await conn("a");
      let b = await conn("b");
      b.send({ sub: { cn: "cmd", pr: 1 } });
      assert.equal((await b.next()).subAck.st, 1);
      b.send({ disconn: {} });
      await b.whenClosed();
      a.send({ pub: { cn: "cmd", dt: "x", q: 1, id: "12" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 1, id: "12" } });
      a.send({ pub: { cn: "cmd", dt: "q0 lost while offline" } });
      await a.sync();
      assert.equal(broker.pendingCount("b"), 1);
      b = await conn("b");
      const first = (await b.next()).push;
      assert.equal(first.dt, "x");
      assert.match(first.id, UUID);
      // not acked: sent again on the next session, same id
      await lose(b);
      b = await conn("b");
      const again = (await b.next()).push;
      assert.equal(again.id, first.id);
      b.send({ pushAck: { st: 1, id: again.id } });
      assert.deepEqual(await b.sync(), []);
      await lose(b);
      b = await conn("b");
      assert.deepEqual(await b.sync(), []);
      b.send({ pub: { cn: "$mySubscriptions", dt: {}, id: "s" } });
      assert.deepEqual((await b.next()).pubAck.dt, { channels: { "#b": "persistent", cmd: "persistent" } });
    });

    it("a repeated sub keeps the persistence; unsub then sub changes it; $mySubscriptions says temporary", async () => {
      const a = await conn("a");
      a.send({ sub: { cn: "x", pr: 1 } });
      a.send({ sub: { cn: "x" } });
      a.send({ sub: { cn: "y" } });
      for (let i = 0; i < 3; i++) assert.equal((await a.next()).subAck.st, 1);
      a.send({ pub: { cn: "$mySubscriptions", dt: {}, id: "1" } });
      assert.deepEqual((await a.next()).pubAck.dt.channels, { "#a": "persistent", x: "persistent", y: "temporary" });
      a.send({ unsub: { cn: "x" } });
      a.send({ sub: { cn: "x" } });
      await a.next();
      await a.next();
      assert.deepEqual(broker.subscriptions("a"), { "#a": true, y: false, x: false });
    });

    it("retained: latest per channel, pushed with rt:1 and no id on sub and on connect for persistent subs", async () => {
      const a = await conn("a");
      a.send({ pub: { cn: "hum", dt: 39, rt: 1 } });
      a.send({ pub: { cn: "hum", dt: 40, rt: "1", q: 1, id: "r" } });
      assert.equal((await a.next()).pubAck.st, 1);
      let b = await conn("b");
      b.send({ sub: { cn: "hum", pr: 1 } });
      assert.deepEqual(await b.next(), { subAck: { st: 1, cn: "hum" } });
      assert.deepEqual(await b.next(), { push: { cn: "hum", dt: 40, cl: "a", rt: 1 } });
      await lose(b);
      b = await conn("b");
      assert.deepEqual(await b.next(), { push: { cn: "hum", dt: 40, cl: "a", rt: 1 } });
      const c = await conn("c");
      c.send({ sub: { cn: "other" } });
      assert.deepEqual(await c.sync(), [{ subAck: { st: 1, cn: "other" } }]);
    });

    it("P2P: q1 to a connected client is pushed with an id; st 8 for an absent one; q0 P2P works", async () => {
      const a = await conn("a");
      const b = await conn("b");
      b.send({ pub: { cn: "#a", dt: { cmd: "set" }, q: 1, id: "9" } });
      assert.deepEqual(await b.next(), { pubAck: { st: 1, id: "9" } });
      const push = (await a.next()).push;
      assert.deepEqual(push, { cn: "#a", dt: { cmd: "set" }, cl: "b", id: push.id, q: 1 });
      a.send({ pub: { cn: "#b", dt: { ok: 1 } } });
      assert.deepEqual(await b.next(), { push: { cn: "#b", dt: { ok: 1 }, cl: "a" } });
      a.send({ pub: { cn: "#nobody", dt: 1, q: 1, id: "11" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 8, id: "11" } });
      a.send({ pushAck: { st: 1, id: push.id } });
      await a.sync();
      assert.equal(broker.pendingCount("a"), 0);
    });

    it("control: unknown $ channel answers st 0; $ without id and q1 without id are invalid, not answered", async () => {
      const a = await conn("a");
      a.send({ pub: { cn: "$what", dt: {}, id: "4" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 0, id: "4" } });
      a.send({ pub: { cn: "$mySubscriptions", dt: {} } });
      a.send({ pub: { cn: "t", dt: 1, q: 1 } });
      a.send({ pub: { cn: "t", dt: 1, q: 7, id: "5" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 10, id: "5" } });
      a.send({ pub: { cn: 3, dt: 1, q: 1, id: "6" } });
      assert.deepEqual(await a.next(), { pubAck: { st: 11, id: "6" } });
      assert.deepEqual(await a.sync(), []);
      assert.equal(broker.stats.bad, 4);
    });

    it("hb → hbAck; disconn closes the socket and ends the session", async () => {
      const a = await conn("a");
      a.send({ hb: {} });
      assert.deepEqual(await a.next(), { hbAck: {} });
      a.send({ disconn: {} });
      await a.whenClosed();
      assert.deepEqual(broker.clients(), []);
    });

    it("kick drops the socket abruptly; q1 in flight stays stored for the persistent #id", async () => {
      const a = await conn("a");
      const b = await conn("b");
      b.send({ pub: { cn: "#a", dt: 1, q: 1, id: "1" } });
      await a.next();
      assert.equal(broker.kick("a"), true);
      await a.whenClosed();
      assert.equal(broker.kick("a"), false);
      assert.deepEqual(broker.clients(), ["b"]);
      assert.equal(broker.pendingCount("a"), 1);
    });

    it("reports every packet in and out with the client id (onPacket and the packet event)", async () => {
      const seen: PacketEvent[] = [];
      await broker.close();
      await start({ announce: false, onPacket: (ev) => seen.push(ev) });
      const evs: PacketEvent[] = [];
      broker.on("packet", (ev: PacketEvent) => evs.push(ev));
      const a = await conn("a");
      a.send({ hb: {} });
      await a.next();
      const summary = seen.map((e) => `${e.dir}:${e.cl}:${e.type}`);
      assert.deepEqual(summary, ["in:null:conn", "out:a:connAck", "in:a:hb", "out:a:hbAck"]);
      assert.deepEqual(evs, seen);
    });

    it("survives hooks and loggers that throw", async () => {
      await broker.close();
      await start({
        onPacket: () => {
          throw new Error("hook");
        },
        log: () => {
          throw new Error("log");
        },
        validateConn: () => {
          throw new Error("validator");
        },
      });
      const p = await raw();
      p.send({ conn: { at: "test-token", cl: "a" } });
      assert.deepEqual(await p.next(), { connAck: { st: 5, ts: 15 } });
      p.send("garbage\0");
      p.send({ auth: { dt: {} } });
      assert.equal((await p.next()).authAck.st, 1);
    });

    it("counts messages in and out", async () => {
      const a = await conn("a");
      const b = await conn("b");
      b.send({ sub: { cn: "t" } });
      a.send({ sub: { cn: "t" } });
      await b.next();
      await a.next();
      a.send({ pub: { cn: "t", dt: 1 } });
      await b.next();
      await a.next();
      assert.equal(broker.stats.msgsIn, 1);
      assert.equal(broker.stats.msgsOut, 2);
    });
  });
});
