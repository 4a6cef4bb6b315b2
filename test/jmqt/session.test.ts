import { strict as assert } from "node:assert";
import sinon from "sinon";
import {
  S_AUTHENTICATING, S_BACKOFF, S_CONNECTING, S_READY, S_SESSION, S_STOPPED,
  ST_BUSY, ST_CLIENT_OFFLINE, ST_INVALID_CHANNEL, ST_INVALID_TOKEN, ST_NETWORK_ERROR, ST_OK,
} from "../../firmware/jmqt/api";
import type { ClientOptions } from "../../firmware/jmqt/api";
import { createClient, p2p, request, type JmqtClient, start, stop, sub, tick, unsub } from "../../firmware/jmqt/client";
import { FakeNet, SESSION_OPTIONS, reconnectToReady } from "./fake";
import { createFramer, tooHeavy } from "../../firmware/jmqt/framer";
import esp32 from "../../boards/esp32.json";
import esp8266 from "../../boards/esp8266.json";

const BASE = SESSION_OPTIONS;

describe("jmqt client session (fake timers)", () => {
  let clock: sinon.SinonFakeTimers;
  let net: FakeNet;
  let random: sinon.SinonStub;
  /** the client numbers its q1 ids from a random start mixed with the clock (Math.random is 0.5 and Date.now() 1e6 here): the n-th id */
  const qid = (n: number) => String((Math.floor(0.5 * 1048576) ^ (1_000_000 & 1048575)) + n);

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
    random = sinon.stub(Math, "random").returns(0.5);
    net = new FakeNet();
  });
  afterEach(() => {
    random.restore();
    clock.restore();
  });

  function make(extra: Partial<ClientOptions> = {}) {
    const c = createClient(net, { ...BASE, ...extra }) as JmqtClient;
    const states: [number, number][] = [];
    const pushes: any[][] = [];
    c.onState = (s, st) => states.push([s, st]);
    c.onPush = (cn, dt, from, rt) => pushes.push([cn, dt, from, rt]);
    return { c, states, pushes };
  }

  /** start, TCP connect, conn, connAck ts */
  function ready(extra: Partial<ClientOptions> = {}, ts = 15) {
    const r = make(extra);
    start(r.c);
    net.last.connect();
    assert.equal(r.c.state, S_SESSION);
    net.last.recv({ connAck: { st: 1, ts } });
    assert.equal(r.c.state, S_READY);
    return r;
  }

  /** READY, with a push handler that records each request id and answers it with a p2p reply */
  function answering(extra: Partial<ClientOptions> = {}) {
    const r = make(extra);
    const seen: string[] = [];
    r.c.onPush = (cn, dt, from) => {
      seen.push(dt.id);
      p2p(r.c, from, { re: dt.id, ok: 1 }, 0);
    };
    start(r.c);
    net.last.connect();
    net.last.recv({ connAck: { st: 1, ts: 15 } });
    return { ...r, seen, s: net.last };
  }

  function reconnect(c: JmqtClient, ts = 15) {
    reconnectToReady(clock, net, c, ts);
  }

  it("sends conn with cl/at and becomes READY on connAck", () => {
    const { c, states } = ready();
    assert.deepEqual(net.last.sentOf("conn"), [{ at: "tok", cl: "dev1" }]);
    assert.deepEqual(states.map((s) => s[0]), [S_CONNECTING, S_SESSION, S_READY]);
    assert.equal(net.last.opts.host, "127.0.0.1");
    assert.equal(net.last.opts, c, "the client is its own connect options (Espruino keeps them on the socket)");
    // fi and fo count from the start; the others are absent while 0 (a block each on the board)
    assert.deepEqual(c.counters, { fi: 1, fo: 1 });
  });

  it("heartbeats every ts-2 s while hbAck keeps the link alive", () => {
    const { c } = ready({}, 15);
    const s = net.last;
    clock.tick(12_999);
    assert.equal(s.sentOf("hb").length, 0);
    for (let i = 1; i <= 5; i++) {
      clock.tick(i === 1 ? 1 : 13_000);
      assert.equal(s.sentOf("hb").length, i, `hb #${i}`);
      s.recv({ hbAck: {} });
    }
    assert.equal(c.state, S_READY);
    assert.ok(!s.ended);
  });

  it("heartbeats at least every 1 s when ts is tiny", () => {
    ready({}, 2);
    clock.tick(1000);
    assert.equal(net.last.sentOf("hb").length, 1);
  });

  it("declares the link dead after ts s without inbound traffic, then reconnects", () => {
    const { c, states } = ready({}, 15);
    const s = net.last;
    clock.tick(13_000);
    assert.equal(s.sentOf("hb").length, 1);
    clock.tick(1_999);
    assert.equal(c.state, S_READY);
    clock.tick(1);
    assert.equal(c.state, S_BACKOFF);
    assert.ok(s.ended);
    assert.deepEqual(states[states.length - 1], [S_BACKOFF, ST_NETWORK_ERROR]);
    clock.tick(750);
    assert.equal(net.sockets.length, 2);
    assert.equal(c.counters.rc, 1);
  });

  it("polled (ClientOptions.polled): no timer of its own; tick(client) once a second meets heartbeat, ack, dead-link and backoff deadlines", () => {
    const { c, states } = ready({ polled: 1 }, 15);
    const s = net.last;
    assert.equal(clock.countTimers(), 0, "no timer after connAck");
    assert.equal(c.pub("t", 1, 1, 0), ST_OK);
    assert.equal(clock.countTimers(), 0, "none for a QoS 1 pub's ack deadline either");
    clock.tick(13_500);
    assert.equal(s.sentOf("hb").length, 0, "unpolled, nothing happens: the hb (13 s) is overdue");
    assert.equal(s.sentOf("pub").length, 1, "and so is the pub's resend (3 s)");
    // the owner's interval, as the device runtime's tick
    const poll = setInterval(() => tick(c), 1000);
    try {
      clock.tick(1000);
      assert.equal(s.sentOf("hb").length, 1, "the overdue hb at the next poll");
      assert.equal(s.sentOf("pub").length, 2, "the pub resent: its ack deadline (3 s) passed");
      s.recv({ hbAck: {} }, { pubAck: { st: 1, id: qid(1) } });
      clock.tick(13_000);
      assert.equal(s.sentOf("hb").length, 2, "hb every ts-2 s, to within the poll period");
      assert.equal(c.state, S_READY);
      clock.tick(2_000);
      assert.equal(c.state, S_BACKOFF, "dead link: ts s without inbound traffic");
      assert.deepEqual(states[states.length - 1], [S_BACKOFF, ST_NETWORK_ERROR]);
      clock.tick(1_000);
      assert.equal(net.sockets.length, 2, "reconnected after the backoff, at a poll");
    } finally {
      clearInterval(poll);
    }
    assert.equal(clock.countTimers(), 0);
  });

  it("any inbound traffic refreshes the keep-alive", () => {
    const { c } = ready({}, 15);
    const s = net.last;
    for (let i = 0; i < 10; i++) {
      clock.tick(10_000);
      s.recv({ push: { cn: "a", dt: i, cl: "" } });
    }
    assert.equal(c.state, S_READY);
    assert.equal(s.sentOf("hb").length, 7);
  });

  it("gives up on a missing connAck after connMs, and on a TCP connect that never completes", () => {
    const { c, states } = make();
    start(c);
    clock.tick(4_999);
    assert.equal(c.state, S_CONNECTING);
    clock.tick(1);
    assert.equal(c.state, S_BACKOFF);
    clock.tick(750);
    net.last.connect();
    assert.equal(c.state, S_SESSION);
    clock.tick(5_000);
    assert.equal(c.state, S_BACKOFF);
    assert.deepEqual(states.filter((s) => s[0] === S_BACKOFF).map((s) => s[1]), [ST_NETWORK_ERROR, ST_NETWORK_ERROR]);
  });

  it("backs off exponentially with jitter up to maxBackoffMs and resets after stableMs of READY", () => {
    const { c } = make();
    start(c);
    const at: number[] = [];
    for (let i = 0; i < 6; i++) {
      at.push(Date.now());
      const n = net.sockets.length;
      net.last.close();
      while (net.sockets.length === n) clock.tick(10);
    }
    const delays = at.slice(1).map((t, i) => t - at[i]);
    assert.deepEqual(delays, [750, 1500, 3000, 6000, 6000]);
    assert.equal(c.counters.rc, 6);
    net.last.connect();
    net.last.recv({ connAck: { st: 1, ts: 60 } });
    clock.tick(5_000);
    let t0 = Date.now();
    net.last.close();
    clock.tick(5_990);
    assert.equal(c.state, S_BACKOFF, "a short READY does not reset the backoff");
    clock.tick(10);
    assert.equal(c.state, S_CONNECTING);
    assert.equal(Date.now() - t0, 6000);
    net.last.connect();
    net.last.recv({ connAck: { st: 1, ts: 60 } });
    clock.tick(20_000);
    t0 = Date.now();
    net.last.close();
    clock.tick(750);
    assert.equal(c.state, S_CONNECTING, "reset to minBackoffMs after a stable session");
    random.returns(0);
    net.last.close();
    clock.tick(999);
    assert.equal(c.state, S_BACKOFF);
    clock.tick(1);
    assert.equal(c.state, S_CONNECTING, "jitter: half of 2000 with random()=0");
  });

  it("resends unacknowledged QoS 1 with the same id after a reconnect", () => {
    const { c } = ready();
    const acks: number[] = [];
    assert.equal(c.pub("t", { v: 1 }, 1, 0, (st) => acks.push(st)), ST_OK);
    assert.equal(c.pub("t", { v: 2 }, 1, 0, (st) => acks.push(st)), ST_OK);
    const first = net.last.sentOf("pub");
    assert.deepEqual(first, [{ cn: "t", dt: { v: 1 }, q: 1, id: qid(1) }, { cn: "t", dt: { v: 2 }, q: 1, id: qid(2) }]);
    net.last.recv({ pubAck: { st: 1, id: qid(2) } });
    assert.deepEqual(acks, [1]);
    net.last.close();
    assert.equal(c.pub("t", { v: 3 }, 1, 0, (st) => acks.push(st)), ST_OK, "queued while offline");
    assert.equal(c.pub("t", 0, 0, 0), ST_NETWORK_ERROR, "QoS 0 while offline");
    reconnect(c);
    assert.deepEqual(net.last.sentOf("pub"), [first[0], { cn: "t", dt: { v: 3 }, q: 1, id: qid(3) }]);
    net.last.recv({ pubAck: { st: 1, id: qid(1) } }, { pubAck: { st: 1, id: qid(3) } }, { pubAck: { st: 1, id: qid(3) } });
    assert.deepEqual(acks, [1, 1, 1]);
    assert.equal(c.window_, undefined, "the window is absent once empty");
  });

  it("resends after ackMs with the same id and gives up with 9 after `retries` resends", () => {
    const { c } = ready({}, 60);
    const acks: number[] = [];
    c.pub("t", "x", 1, 0, (st) => acks.push(st));
    clock.tick(2_999);
    assert.equal(net.last.sentOf("pub").length, 1);
    clock.tick(1);
    assert.equal(net.last.sentOf("pub").length, 2);
    assert.deepEqual(net.last.sentOf("pub")[1], net.last.sentOf("pub")[0]);
    net.last.recv({ hbAck: {} });
    clock.tick(3_000);
    assert.equal(net.last.sentOf("pub").length, 3);
    assert.deepEqual(acks, []);
    clock.tick(3_000);
    assert.deepEqual(acks, [ST_NETWORK_ERROR]);
    assert.equal(c.window_, undefined, "the window is absent once empty");
    assert.equal(net.last.sentOf("pub").length, 3);
    assert.ok(net.last.sentOf("pub").every((p) => p.id === qid(1)));
  });

  it("runs on one timer: heartbeat, ack timeouts, connAck timeout and backoff never stack timers", () => {
    const { c } = make();
    start(c);
    assert.equal(clock.countTimers(), 1, "connect timeout");
    net.last.connect();
    assert.equal(clock.countTimers(), 1, "connAck timeout");
    net.last.recv({ connAck: { st: 1, ts: 15 } });
    assert.equal(clock.countTimers(), 1, "keep-alive");
    c.pub("t", 1, 1, 0);
    request(c, "$x", {}, () => {});
    sub(c, "a", 0);
    assert.equal(clock.countTimers(), 1, "keep-alive and ack deadlines");
    clock.tick(3_000);
    assert.equal(net.last.sentOf("pub").length, 3, "resent after ackMs");
    assert.equal(clock.countTimers(), 1);
    net.last.close();
    assert.equal(c.state, S_BACKOFF);
    assert.equal(clock.countTimers(), 1, "backoff");
  });

  it("bounds the in-flight window: ST_BUSY and counters.qd when full", () => {
    const { c } = ready();
    for (let i = 0; i < 4; i++) assert.equal(c.pub("t", i, 1, 0), ST_OK);
    assert.equal(c.pub("t", 9, 1, 0), ST_BUSY);
    assert.equal(request(c, "$x", {}, () => {}), ST_BUSY);
    assert.equal(c.counters.qd, 2);
    assert.equal(c.pub("t", 9, 0, 0), ST_OK, "QoS 0 does not use the window");
    net.last.recv({ pubAck: { st: 1, id: qid(2) } });
    assert.equal(c.pub("t", 9, 1, 0), ST_OK);
  });

  it("limits that are the ESP8266's are not stored (literals in the code); others are, and hold", () => {
    const limits = (c: JmqtClient) => [c.inflight_, c.queueMax_, c.writeWindow_, c.dedup_, c.maxFrame_, c.maxParse_];
    const esp = (b: any): Partial<ClientOptions> => ({ inflight: b.defaults.inflight, outQueue: b.defaults.outQueue, writeWindow: b.defaults.writeWindow, dedup: b.defaults.dedup, maxFrame: b.defaults.maxFrame, maxParse: b.defaults.maxParse });
    assert.deepEqual(limits(make(esp(esp8266)).c), [undefined, undefined, undefined, undefined, undefined, undefined], "boards/esp8266.json defaults: nothing stored");
    assert.deepEqual(limits(make(esp(esp32)).c), [8, 16, 2048, 16, 4096, 1024]);
    // the framer's bounds: without maxParse, no parse bound (0 stored); the ESP8266's hold
    assert.equal(make({}).c.maxParse_, 0);
    {
      const { c } = ready(esp(esp8266));
      net.last.recv("[" + "[".repeat(140) + "]".repeat(140) + "]");
      assert.equal(c.counters.heavy, 1, "a frame over the ESP8266's maxParse (256) refused before JSON.parse");
      net.last.recv("x".repeat(1100));
      assert.equal(c.counters.big, 1, "a frame over the ESP8266's maxFrame (1024) dropped");
      assert.equal(c.state, S_READY);
    }
    // absent or invalid: the ESP8266's, 4 in flight
    for (const inflight of [undefined, 0, -1, "8"] as any[]) {
      const { c } = ready({ inflight });
      assert.equal(c.inflight_, undefined);
      for (let i = 0; i < 4; i++) assert.equal(c.pub("t", i, 1, 0), ST_OK);
      assert.equal(c.pub("t", 9, 1, 0), ST_BUSY, "inflight " + inflight);
    }
    // a larger board's window holds 8
    const { c } = ready(esp(esp32));
    for (let i = 0; i < 8; i++) assert.equal(c.pub("t", i, 1, 0), ST_OK);
    assert.equal(c.pub("t", 9, 1, 0), ST_BUSY);
  });

  it("subscribes again after a reconnect, with pr, and forgets unsubscribed and refused channels", () => {
    const { c } = ready();
    const res: [number, any][] = [];
    assert.equal(sub(c, "a", 1, (st, cn) => res.push([st, cn])), ST_OK);
    assert.equal(sub(c, "b", 0), ST_OK);
    assert.equal(sub(c, "c", 0), ST_OK);
    assert.equal(sub(c, "d", 0), ST_OK);
    net.last.recv({ subAck: { st: 1, cn: "a" } }, { subAck: { st: 7, cn: "d" } });
    assert.deepEqual(res, [[1, "a"]]);
    assert.equal(unsub(c, "c", (st, cn) => res.push([st, cn])), ST_OK);
    net.last.recv({ unsubAck: { st: 1, cn: "c" } });
    assert.deepEqual(res, [[1, "a"], [1, "c"]]);
    net.last.close();
    assert.equal(sub(c, "e", 0), ST_OK, "remembered while offline");
    reconnect(c);
    assert.deepEqual(net.last.sentOf("sub"), [{ cn: "a", pr: 1 }, { cn: "b" }, { cn: "e" }]);
  });

  it("bounds remembered subscriptions with maxSubs", () => {
    const { c } = ready({ maxSubs: 2 });
    assert.equal(sub(c, "a", 0), ST_OK);
    assert.equal(sub(c, "b", 0), ST_OK);
    assert.equal(sub(c, "c", 0), ST_BUSY);
    assert.equal(sub(c, "a", 1), ST_OK, "an existing channel is not a new entry");
  });

  it("refuses # and $ sub/unsub and retained on # locally with 11, sends nothing", () => {
    const { c } = ready();
    const n = net.last.written.length;
    assert.equal(sub(c, "#dev2", 0), ST_INVALID_CHANNEL);
    assert.equal(sub(c, "$x", 0), ST_INVALID_CHANNEL);
    assert.equal(unsub(c, "#dev2"), ST_INVALID_CHANNEL);
    assert.equal(unsub(c, "$x"), ST_INVALID_CHANNEL);
    assert.equal(c.pub("#dev2", 1, 0, 1), ST_INVALID_CHANNEL);
    assert.equal(c.pub("$x", 1, 0, 0), ST_INVALID_CHANNEL);
    assert.equal(c.pub("", 1, 0, 0), ST_INVALID_CHANNEL);
    assert.equal(request(c, "notcontrol", 1, () => {}), ST_INVALID_CHANNEL);
    assert.equal(net.last.written.length, n);
    assert.equal(p2p(c, "dev2", { a: 1 }, 0), ST_OK);
    assert.deepEqual(net.last.sentOf("pub"), [{ cn: "#dev2", dt: { a: 1 } }]);
  });

  it("P2P q=1 to an offline client reports 8", () => {
    const { c } = ready();
    const res: number[] = [];
    p2p(c, "nobody", 1, 1, (st) => res.push(st));
    net.last.recv({ pubAck: { st: 8, id: qid(1) } });
    assert.deepEqual(res, [ST_CLIENT_OFFLINE]);
  });

  it("control request resolves with pubAck st and dt, or 9 after ackMs, or 9 on link loss", () => {
    const { c } = ready({}, 60);
    const res: any[] = [];
    assert.equal(request(c, "$mySubscriptions", {}, (st, dt) => res.push([st, dt])), ST_OK);
    assert.deepEqual(net.last.sentOf("pub"), [{ cn: "$mySubscriptions", dt: {}, id: qid(1) }]);
    net.last.recv({ pubAck: { st: 1, id: qid(1), dt: { channels: { "#dev1": "persistent" } } } });
    assert.deepEqual(res, [[1, { channels: { "#dev1": "persistent" } }]]);
    request(c, "$x", {}, (st, dt) => res.push([st, dt]));
    clock.tick(3_000);
    assert.deepEqual(res[1], [ST_NETWORK_ERROR, undefined]);
    assert.equal(net.last.sentOf("pub").length, 2, "requests are not resent");
    request(c, "$y", {}, (st) => res.push([st]));
    net.last.close();
    assert.deepEqual(res[2], [ST_NETWORK_ERROR]);
    assert.equal(request(c, "$y", {}, () => {}), ST_NETWORK_ERROR);
  });

  it("authenticates first when auth data is given, and re-auths on connAck 6", () => {
    const { c, states } = make({ cl: undefined, at: undefined, auth: { client_name: "devA" } });
    start(c);
    net.last.connect();
    assert.equal(c.state, S_AUTHENTICATING);
    assert.deepEqual(net.last.sentOf("auth"), [{ dt: { client_name: "devA" } }]);
    net.last.recv({ authAck: { st: 1, at: "t1", cl: "devA" } });
    assert.equal(c.state, S_SESSION);
    assert.equal(c.cl, "devA");
    assert.deepEqual(net.last.sentOf("conn"), [{ at: "t1", cl: "devA" }]);
    net.last.recv({ connAck: { st: 1, ts: 15 } });
    net.last.close();
    clock.tick(1000);
    net.last.connect();
    assert.deepEqual(net.last.sentOf("conn"), [{ at: "t1", cl: "devA" }], "token reused");
    net.last.recv({ connAck: { st: 6, ts: 15 } });
    assert.equal(c.state, S_AUTHENTICATING);
    assert.deepEqual(net.last.sentOf("auth").length, 1);
    net.last.recv({ authAck: { st: 1, at: "t2", cl: "devA" } });
    assert.deepEqual(net.last.sentOf("conn")[1], { at: "t2", cl: "devA" });
    net.last.recv({ connAck: { st: 1, ts: 15 } });
    assert.equal(c.state, S_READY);
    assert.ok(states.some((s) => s[0] === S_AUTHENTICATING));
  });

  it("a refused auth stops with its status; connAck 6 without auth data stops; start() retries", () => {
    const a = make({ auth: { x: 1 }, at: undefined });
    start(a.c);
    net.last.connect();
    net.last.recv({ authAck: { st: 0, mg: "no" } });
    assert.equal(a.c.state, S_STOPPED);
    assert.deepEqual(a.states[a.states.length - 1], [S_STOPPED, 0]);
    const { c, states } = make();
    start(c);
    net.last.connect();
    net.last.recv({ connAck: { st: 6, ts: 15 } });
    assert.equal(c.state, S_STOPPED);
    assert.deepEqual(states[states.length - 1], [S_STOPPED, ST_INVALID_TOKEN]);
    assert.ok(net.last.ended);
    assert.equal(clock.countTimers(), 0, "stops retrying");
    start(c);
    assert.equal(c.state, S_CONNECTING);
    assert.equal(net.sockets.length, 3);
  });

  it("paces by drain and the write window, never by write()'s result (false on every call, as on Espruino)", () => {
    // a pub frame {"pub":{"cn":"t","dt":N}} is 27 bytes: a 64-byte window takes two per drain
    const { c } = ready({ writeWindow: 64 });
    const s = net.last;
    s.emit("drain"); // the conn frame has left
    assert.equal(c.pub("t", 0, 0, 0), ST_OK);
    assert.equal(c.pub("t", 1, 0, 0), ST_OK);
    assert.equal(s.written.length, 3, "conn and two pubs written although every write() returned false");
    for (let i = 2; i <= 5; i++) assert.equal(c.pub("t", i, 0, 0), ST_OK);
    assert.equal(s.written.length, 3, "the rest waits for drain");
    assert.equal(c.pub("t", 6, 0, 0), ST_BUSY, "the queue is bounded by outQueue (4)");
    assert.equal(c.pub("t", 6, 1, 0), ST_BUSY);
    assert.equal(c.counters.qd, 2);
    s.emit("drain");
    assert.equal(s.written.length, 5, "one drain lets one window's worth out");
    s.emit("drain");
    assert.deepEqual(s.sentOf("pub").map((p) => p.dt), [0, 1, 2, 3, 4, 5], "in order");
    assert.equal(c.pub("t", 7, 0, 0), ST_OK);
    assert.equal(c.counters.fo, 7, "4 and 5 filled the window again: 7 waits");
    s.emit("drain");
    assert.equal(c.counters.fo, 8);
  });

  it("a frame larger than the window still goes out alone after a drain", () => {
    const { c } = ready({ writeWindow: 64 });
    const s = net.last;
    s.emit("drain");
    const big = "x".repeat(200);
    assert.equal(c.pub("t", big, 0, 0), ST_OK);
    assert.equal(c.pub("t", 1, 0, 0), ST_OK);
    assert.equal(s.sentOf("pub").length, 1);
    s.emit("drain");
    assert.deepEqual(s.sentOf("pub").map((p) => p.dt), [big, 1]);
  });

  it("a redelivered q=1 push goes to onRepeat, not onPush, and is acked again", () => {
    const { c, pushes } = ready();
    const repeats: any[][] = [];
    c.onRepeat = (cn, dt, from) => repeats.push([cn, dt, from]);
    const s = net.last;
    const push = { push: { cn: "#dev1", dt: { cmd: "toggle", id: "r1" }, cl: "admin", q: 1, id: "u7" } };
    s.recv(push);
    s.recv(push);
    assert.equal(pushes.length, 1);
    assert.deepEqual(repeats, [["#dev1", { cmd: "toggle", id: "r1" }, "admin"]]);
    assert.deepEqual(s.sentOf("pushAck").map((a) => a.id), ["u7", "u7"]);
  });

  it("a q=1 push's reply leaves in the same write as its pushAck", () => {
    const { s } = answering();
    const before = s.written.length;
    s.recv({ push: { cn: "#dev1", dt: { cmd: "ping", id: "r1" }, cl: "admin", q: 1, id: "u9" } });
    assert.equal(s.written.length, before + 1, "one write");
    const frames = s.written[before].split("\0").filter(Boolean).map((f) => JSON.parse(f));
    assert.deepEqual(frames, [
      { pub: { cn: "#admin", dt: { re: "r1", ok: 1 } } },
      { pushAck: { st: 1, id: "u9" } },
    ]);
  });

  it("while frames wait for a drain, inbound frames are held (not refused) and handled on the drain", () => {
    const { c, seen, s } = answering({ writeWindow: 64, outQueue: 1 });
    // no drain yet: the conn frame fills the window, the first reply+ack waits in the one-slot queue
    s.recv({ push: { cn: "#dev1", dt: { cmd: "ping", id: "a" }, cl: "admin", q: 1, id: "u1" } });
    s.recv({ push: { cn: "#dev1", dt: { cmd: "ping", id: "b" }, cl: "admin", q: 1, id: "u2" } });
    assert.deepEqual(seen, ["a"], "b is held while a's reply waits");
    assert.equal(c.counters.qd, undefined, "nothing refused (absent while 0)");
    s.emit("drain");
    assert.deepEqual(seen, ["a", "b"], "the drain feeds the held frame");
    assert.deepEqual(s.sentOf("pushAck").map((a) => a.id), ["u1"]);
    s.emit("drain");
    assert.deepEqual(s.sentOf("pushAck").map((a) => a.id), ["u1", "u2"]);
    assert.equal(c.counters.qd, undefined);
  });

  it("past the hold bound, a q=1 push whose reply cannot be taken is not acked, counted, and fetched again by a session cycle once the flood is over", () => {
    const { c, states, seen, s } = answering({ writeWindow: 64, outQueue: 1, maxFrame: 120 });
    const push = (id: string, u: string) => ({ push: { cn: "#dev1", dt: { cmd: "ping", id }, cl: "admin", q: 1, id: u } });
    // one chunk of three pushes (about 80 characters each): a's reply+ack is queued; the rest of
    // the chunk (b and c) is more than maxFrame, so b is handled anyway and its reply+ack refused
    // (not acked, owed); c fits the bound and is held until the drain
    s.recv(push("a", "u1"), push("b", "u2"), push("c", "u3"));
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(c.counters.qd, 1);
    s.emit("drain");
    assert.deepEqual(seen, ["a", "b", "c"]);
    s.emit("drain");
    assert.deepEqual(s.sentOf("pushAck").map((a) => a.id), ["u1", "u3"], "u2 is not acked");
    assert.equal(c.state, S_READY);
    // the flood is over: after QuietMs without input, a clean disconn and at once a new session
    // (no backoff: nothing failed)
    clock.tick(600);
    assert.equal(s.sentOf("disconn").length, 1, "a clean end of the session");
    assert.equal(c.state, S_CONNECTING, "the next session is opened at once");
    const s2 = net.last;
    assert.notEqual(s2, s);
    s2.connect();
    s2.recv({ connAck: { st: 1, ts: 15 } });
    assert.equal(c.state, S_READY);
    // the broker sends the unacknowledged pushes again on the new session (SPEC "QoS 1")
    s2.recv(push("b", "u2"));
    s2.emit("drain");
    assert.deepEqual(seen, ["a", "b", "c", "b"], "the redelivery is handled, not dropped as a duplicate");
    assert.deepEqual(s2.sentOf("pushAck").map((a) => a.id), ["u2"]);
    assert.equal(c.counters.qd, 1);
    clock.tick(5000);
    assert.equal(c.state, S_READY, "no further cycle: nothing is owed");
    assert.ok(states.some(([st]) => st === S_BACKOFF));
    // a link lost after that is a failure: it backs off (at least half the minimum) as usual
    s2.close();
    assert.equal(c.state, S_BACKOFF);
    clock.tick(450);
    assert.equal(net.last, s2, "no new connection within the backoff");
    clock.tick(5000);
    assert.notEqual(net.last, s2, "then a new connection");
  });

  it("skips the count for a frame of at most maxParse/2 characters, and for one of at most maxParse without a '[', and refuses exactly what tooHeavy refuses otherwise", () => {
    // the framer's shortcuts: tooHeavy counts at most 2 per character (a "[" or "{" 2, a "," 1);
    // without arrays Espruino's parser takes at most a block per two characters
    // (test/espruino/parse-cost.espruino.test.ts), whatever tooHeavy's count of "{" and ","
    let seed = 7;
    // (the high bits of a 32-bit LCG: its low bits repeat with a short period)
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    let passedUncounted = 0;
    for (let k = 0; k < 600; k++) {
      const limit = 1 + rnd(60);
      const frame = Array.from({ length: 1 + rnd(70) }, () => (k % 2 ? "{{{,a" : "[{,a")[rnd(k % 2 ? 5 : 4)]).join("");
      const sunk: string[] = [];
      const fr = createFramer(1024, (f) => sunk.push(f), { big: 0, heavy: 0 }, limit);
      fr.feed(frame + "\0");
      const counted = frame.length * 2 > limit && (frame.length > limit || frame.includes("["));
      assert.equal(fr.counters.heavy === 1, counted && tooHeavy(frame, limit), `${frame} at ${limit}`);
      assert.equal(sunk.length, fr.counters.heavy === 1 ? 0 : 1, "a frame is refused or handed on");
      if (frame.length * 2 <= limit) assert.equal(tooHeavy(frame, limit), false, "a frame of limit/2 characters can never be too heavy");
      if (!counted && tooHeavy(frame, limit)) passedUncounted++;
    }
    assert.ok(passedUncounted > 20, `${passedUncounted} frames without "[" that tooHeavy would refuse went to the parser (it refuses them as malformed, cheaply)`);
  });

  it("tooHeavy is the count of commas plus 2 per bracket over the limit, also when it skips counting the commas", () => {
    let seed = 11;
    // (the high bits of a 32-bit LCG: its low bits repeat with a short period)
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    let skipped = 0;
    for (let k = 0; k < 2000; k++) {
      const frame = Array.from({ length: 1 + rnd(100) }, () => "[{,,aaaa"[rnd(8)]).join("");
      // half of them with a limit between the length and twice it, where the shortcut decides
      const limit = k % 2 ? frame.length + rnd(frame.length + 1) : 1 + rnd(200);
      const brackets = frame.split("").filter((ch) => ch === "[" || ch === "{").length;
      const cost = frame.split(",").length - 1 + 2 * brackets;
      assert.equal(tooHeavy(frame, limit), cost > limit, `${frame} at ${limit}: cost ${cost}`);
      if (frame.length + brackets <= limit && frame.length * 2 > limit) skipped++;
    }
    assert.ok(skipped > 100, `the comma count was skipped ${skipped} times`);
  });

  it("refuses and counts a frame whose parse would cost more than maxParse blocks, and goes on", () => {
    const { c, pushes } = ready({ maxParse: 40 });
    const s = net.last;
    const deep = '{"push":{"cn":"a","cl":"x","dt":' + "[".repeat(30) + "]".repeat(30) + "}}";
    const wide = '{"push":{"cn":"a","cl":"x","dt":[' + "1,".repeat(60) + "1]}}";
    s.recv(deep, wide, { push: { cn: "a", dt: [1, 2, 3], cl: "x" } });
    assert.equal(c.counters.heavy, 2);
    assert.equal(c.counters.bad, undefined, "refused before the parser saw it");
    assert.deepEqual(pushes.map((p: any[]) => p[1]), [[1, 2, 3]]);
    assert.equal(c.state, S_READY);
  });

  it("delivers pushes once, acks q=1 (also redeliveries) but not retained or q=0", () => {
    const { c, pushes } = ready();
    const s = net.last;
    s.recv(
      { push: { cn: "a", dt: 1, cl: "x" } },
      { push: { cn: "a", dt: 2, cl: "x", q: 1, id: "u1" } },
      { push: { cn: "a", dt: 2, cl: "x", q: 1, id: "u1" } },
      { push: { cn: "a", dt: 3, cl: "x", rt: "1" } },
      { push: { cn: "#dev1", dt: 4, cl: "", q: 1, id: "u2" } },
    );
    assert.deepEqual(pushes, [["a", 1, "x", 0], ["a", 2, "x", 0], ["a", 3, "x", 1], ["#dev1", 4, "", 0]]);
    assert.deepEqual(s.sentOf("pushAck"), [{ st: 1, id: "u1" }, { st: 1, id: "u1" }, { st: 1, id: "u2" }]);
    assert.equal(c.counters.fi, 6);
  });

  it("counts bad frames and oversize frames, keeps the session, survives a throwing onPush", () => {
    const { c, pushes } = ready({ maxFrame: 64 });
    const s = net.last;
    c.onPush = (cn, dt) => {
      pushes.push([cn, dt]);
      throw new Error("app bug");
    };
    s.emit("data", "garbage\0" + '{"hb":{},"x":{}}\0{"nope":{}}\0{"push":{"dt":1,"cl":""}}\0{"pubAck":{"id":"1"}}\0');
    assert.equal(c.counters.bad, 5);
    assert.ok((c.err ?? "").length > 0);
    s.emit("data", '{"push":{"cn":"a","dt":"' + "x".repeat(200));
    s.emit("data", 'y"}}\0{"push":{"cn":"b","dt":1,"cl":""}}\0');
    assert.equal(c.counters.big, 1);
    assert.deepEqual(pushes, [["b", 1]]);
    assert.match(c.err ?? "", /app bug/);
    s.emit("data", '{"push":{"cn":"c","dt":1,"cl":""}}\0');
    assert.equal(pushes.length, 2);
    assert.equal(c.state, S_READY);
  });

  it("a partial frame from a lost connection is not joined with the next connection's data", () => {
    const { c, pushes } = ready();
    net.last.emit("data", '{"push":{"cn":"a","dt":"half');
    net.last.close();
    reconnect(c);
    net.last.emit("data", '{"push":{"cn":"b","dt":1,"cl":""}}\0');
    assert.deepEqual(pushes, [["b", 1, "", 0]]);
    assert.equal(c.counters.bad, undefined);
  });

  it("stop() sends disconn, closes, clears every timer", () => {
    const { c, states } = ready();
    c.pub("t", 1, 1, 0);
    sub(c, "a", 0);
    let stopped = 0;
    assert.ok(clock.countTimers() >= 1, "the session timer runs before stop()");
    stop(c, () => stopped++);
    assert.equal(stopped, 1);
    assert.deepEqual(net.last.sent().slice(-1), [{ type: "disconn", body: {} }]);
    assert.ok(net.last.ended);
    assert.equal(c.state, S_STOPPED);
    assert.deepEqual(states[states.length - 1], [S_STOPPED, ST_OK]);
    assert.equal(clock.countTimers(), 0);
    clock.tick(120_000);
    assert.equal(net.sockets.length, 1);
  });

  it("stop() in backoff and in connecting leaves no timers; cb waits for the socket close", () => {
    const { c } = ready();
    net.last.close();
    assert.equal(c.state, S_BACKOFF);
    let stopped = 0;
    stop(c, () => stopped++);
    assert.equal(stopped, 1);
    assert.equal(clock.countTimers(), 0);
    start(c);
    net.last.closeOnEnd = false;
    stop(c, () => stopped++);
    assert.equal(clock.countTimers(), 0);
    assert.equal(stopped, 1);
    net.last.close();
    assert.equal(stopped, 2);
    assert.equal(c.state, S_STOPPED);
  });
});
