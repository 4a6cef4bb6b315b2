// Bad input never takes the broker down: malformed and oversize frames, floods, slow readers, idle links.
import { strict as assert } from "node:assert";
import * as sinon from "sinon";
import { type Broker, type BrokerOptions, startBroker } from "../../sim/broker";
import { connected, Peer } from "./peer";

/** Polls a condition (a failure guard, not a timing assertion). */
async function until(cond: () => boolean, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("broker robustness", () => {
  let broker: Broker | null;
  let peers: Peer[];

  async function start(opts: BrokerOptions = {}): Promise<Broker> {
    broker = await startBroker({ port: 0, announce: false, ...opts });
    return broker;
  }
  async function conn(cl: string): Promise<Peer> {
    const p = await connected(broker!.port, cl);
    peers.push(p);
    return p;
  }

  beforeEach(() => {
    peers = [];
    broker = null;
  });
  afterEach(async () => {
    for (const p of peers) p.destroy();
    if (broker) await broker.close();
  });

  it("a frame injected in pieces (injectRaw) reaches the client whole: the broker's own frames wait for its end", async () => {
    const b = await start();
    const a = await conn("a");
    assert.ok(b.injectRaw("a", '{"push":{"cn":"#a",'));
    const seen = b.stats.framesIn;
    a.send({ hb: {} });
    await until(() => b.stats.framesIn > seen, "the broker read the hb");
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(b.injectRaw("a", '"dt":1}}\0'));
    assert.deepEqual(await a.next(), { push: { cn: "#a", dt: 1 } });
    assert.deepEqual(await a.next(), { hbAck: {} });
    assert.deepEqual(a.rawFrames.slice(1), ['{"push":{"cn":"#a","dt":1}}', '{"hbAck":{}}']);
  });

  it("drops malformed frames silently and keeps the connection", async () => {
    const b = await start();
    const a = await conn("a");
    const bad = [
      "garbage",
      '{"hb":{},"x":{}}',
      '{"nope":{}}',
      "[1,2]",
      "null",
      "42",
      '"str"',
      '{"hb":[]}',
      '{"pub":"x"}',
      "{}",
      '{"connAck":{"st":1}}',
      '{"pub":{"cn":"t","dt":1',
    ];
    for (const f of bad) a.send(f + "\0");
    a.socket.write(Buffer.from([0xff, 0xfe, 0x7b, 0x00]));
    a.send("\0\0");
    assert.deepEqual(await a.sync(), []);
    assert.equal(b.stats.bad, bad.length + 1);
    assert.deepEqual(b.clients(), ["a"]);
  });

  it("reassembles packets split at every byte, including inside a UTF-8 character", async () => {
    await start();
    const a = await conn("a");
    a.send({ sub: { cn: "t" } });
    await a.next();
    const bytes = Buffer.from(JSON.stringify({ pub: { cn: "t", dt: "ü€😀" } }) + "\0" + '{"hb":{}}\0', "utf8");
    for (let i = 0; i < bytes.length; i++) {
      a.socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await a.next(), { push: { cn: "t", dt: "ü€😀", cl: "a" } });
    assert.deepEqual(await a.next(), { hbAck: {} });
  });

  it("drops an oversize frame while it streams, without buffering it, and carries on", async () => {
    const b = await start({ maxFrame: 1024 });
    const a = await conn("a");
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 64; i++) a.socket.write(chunk);
    a.send('"tail"\0{"hb":{}}\0');
    assert.deepEqual(await a.next(), { hbAck: {} });
    assert.equal(b.stats.oversize, 1);
    assert.equal(b.stats.bad, 0);
    a.send(JSON.stringify({ pub: { cn: "$mySubscriptions", dt: "y".repeat(900), id: "1" } }) + "\0");
    assert.equal((await a.next()).pubAck.st, 1);
  });

  it("a q0 flood to a subscriber that does not read: its q0 pushes are dropped, others are unaffected", async function () {
    this.timeout(60000);
    const max = 256 * 1024;
    const b = await start({ maxClientBuffer: max });
    const slow = await conn("slow");
    slow.send({ sub: { cn: "flood" } });
    await slow.next();
    slow.socket.pause();
    const good = await conn("good");
    good.send({ sub: { cn: "news", pr: 1 } });
    await good.next();
    const pubr = await conn("pubr");
    const flooder = await conn("flooder");

    const N = 20000;
    const frame = JSON.stringify({ pub: { cn: "flood", dt: "z".repeat(1000) } }) + "\0";
    flooder.socket.write(frame.repeat(N));

    for (let i = 0; i < 100; i++) {
      pubr.send({ pub: { cn: "news", dt: i, q: 1, id: String(i) } });
      assert.deepEqual(await pubr.next(10000), { pubAck: { st: 1, id: String(i) } });
      const push = (await good.next(10000)).push;
      assert.equal(push.dt, i);
      good.send({ pushAck: { st: 1, id: push.id } });
    }
    await until(() => b.stats.msgsIn >= N + 100, "the flood to be processed");
    assert.ok(b.stats.dropped > 0, "some q0 pushes to the slow client were dropped");
    assert.ok(b.backlog("slow") <= max, `slow backlog ${b.backlog("slow")} over ${max}`);
    assert.deepEqual(b.clients().sort(), ["flooder", "good", "pubr", "slow"]);
    assert.equal(b.stats.slowKicks, 0);
    await good.sync();
    assert.equal(b.pendingCount("good"), 0);
  });

  it("a client that floods q1 pubs without reading its pubAcks is paused, not buffered without bound", async function () {
    this.timeout(60000);
    const max = 128 * 1024;
    const b = await start({ maxClientBuffer: max });
    const good = await conn("good");
    const flooder = await conn("flooder");
    flooder.socket.pause();
    const N = 300000;
    const parts: string[] = [];
    for (let i = 0; i < N; i++) parts.push(`{"pub":{"cn":"sink","dt":1,"q":1,"id":"${i}"}}\0`);
    flooder.socket.write(parts.join(""));
    // wait until the broker stopped reading the flooder (its backlog is over half the bound)
    await until(() => b.backlog("flooder") > max / 2, "the flooder's backlog to fill");
    await new Promise((r) => setTimeout(r, 50));
    const seen = b.stats.msgsIn;
    for (let i = 0; i < 20; i++) {
      good.send({ pub: { cn: "#good", dt: i } });
      assert.deepEqual(await good.next(), { push: { cn: "#good", dt: i, cl: "good" } });
    }
    assert.ok(b.stats.msgsIn < N, "the broker stopped reading the flooder");
    assert.ok(b.backlog("flooder") <= max);
    assert.equal(b.stats.msgsIn - seen, 20);
    // once the flooder reads again, the rest of its flood is processed
    flooder.socket.resume();
    await until(() => b.stats.msgsIn >= N + 20, "the whole flood to be processed");
    assert.deepEqual(b.clients().sort(), ["flooder", "good"]);
  });

  it("a subscriber whose backlog of q1 pushes reaches the bound is disconnected; its messages stay stored", async function () {
    this.timeout(60000);
    const max = 64 * 1024;
    const b = await start({ maxClientBuffer: max, maxPending: 100000 });
    const slow = await conn("slow");
    slow.send({ sub: { cn: "jobs", pr: 1 } });
    await slow.next();
    slow.socket.pause();
    const pubr = await conn("pubr");
    const N = 20000;
    const parts: string[] = [];
    for (let i = 0; i < N; i++) parts.push(`{"pub":{"cn":"jobs","dt":"${"j".repeat(500)}","q":1,"id":"${i}"}}\0`);
    pubr.socket.write(parts.join(""));
    await until(() => b.stats.slowKicks === 1, "the slow client to be disconnected");
    await until(() => b.stats.msgsIn >= N, "every pub to be processed");
    assert.deepEqual(b.clients(), ["pubr"]);
    assert.equal(b.pendingCount("slow"), N);
    // on reconnect all N are resent, paced by the socket (no second kick); acking them empties the store
    const again = await conn("slow");
    const ids = new Set<string>();
    while (ids.size < N) {
      const p = await again.next(10000);
      assert.equal(p.push.cn, "jobs");
      ids.add(p.push.id);
      again.send({ pushAck: { st: 1, id: p.push.id } });
    }
    await again.sync();
    assert.equal(b.pendingCount("slow"), 0);
    assert.equal(b.stats.slowKicks, 1);
  });

  it("bounds stored q1 messages per client (oldest dropped)", async () => {
    const b = await start({ maxPending: 5 });
    const s = await conn("s");
    s.send({ sub: { cn: "c", pr: 1 } });
    await s.next();
    s.send({ disconn: {} });
    await s.whenClosed();
    const p = await conn("p");
    for (let i = 0; i < 8; i++) p.send({ pub: { cn: "c", dt: i, q: 1, id: String(i) } });
    for (let i = 0; i < 8; i++) await p.next();
    assert.equal(b.pendingCount("s"), 5);
    assert.equal(b.stats.pendingDropped, 3);
    const s2 = await conn("s");
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push((await s2.next()).push.dt);
    assert.deepEqual(got, [3, 4, 5, 6, 7]);
  });

  it("drops a connected client after timeoutMs without traffic; traffic keeps it alive", async () => {
    const b = await start({ timeoutMs: 300 });
    const idle = await conn("idle");
    const busy = await conn("busy");
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 100));
      busy.send({ hb: {} });
      await busy.next();
    }
    await idle.whenClosed();
    assert.equal(busy.closed, false);
    assert.deepEqual(b.clients(), ["busy"]);
    assert.equal(b.stats.timeouts, 1);
  });

  describe("with fake timers", () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    });
    afterEach(() => clock.restore());

    it("keeps a session with hb sooner than ts and drops it ts seconds after the last traffic", async () => {
      const b = await start({ ts: 15 });
      const a = await conn("a");
      const quiet = await Peer.connect(b.port);
      peers.push(quiet);
      for (let i = 0; i < 3; i++) {
        await clock.tickAsync(13000);
        a.send({ hb: {} });
        assert.deepEqual(await a.next(), { hbAck: {} });
      }
      await quiet.whenClosed(); // a socket that never sends conn is closed ts seconds after it opened
      await clock.tickAsync(14999);
      a.send({ pushAck: { st: 1, id: "nothing" } });
      await a.sync();
      await clock.tickAsync(14999);
      assert.equal(a.closed, false);
      await clock.tickAsync(2);
      await a.whenClosed();
      assert.deepEqual(b.clients(), []);
    });
  });
});
