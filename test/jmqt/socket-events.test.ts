// Socket event wiring of the client: handlers run with this = the socket (SocketLike contract in
// firmware/jmqt/api.ts), are the same module-level functions for every connection, and only the
// current socket reaches the session.
import { strict as assert } from "node:assert";
import * as net from "node:net";
import sinon from "sinon";
import { S_BACKOFF, S_READY, S_SESSION, S_STOPPED } from "../../firmware/jmqt/api";
import { createClient, type JmqtClient, start, stop } from "../../firmware/jmqt/client";
import { nodeNet } from "../../sim/net";
import { FakeNet, SESSION_OPTIONS, reconnectToReady, type FakeSocket } from "./fake";

const BASE = SESSION_OPTIONS;
const EVENTS = ["data", "close", "error", "drain"];

describe("jmqt client socket events (this = socket, no per-connection functions)", () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeNet;
  let random: sinon.SinonStub;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
    random = sinon.stub(Math, "random").returns(0.5);
    fake = new FakeNet();
  });
  afterEach(() => {
    random.restore();
    clock.restore();
  });

  function readyClient() {
    const c = createClient(fake, BASE) as JmqtClient;
    const pushes: any[][] = [];
    c.onPush = (cn, dt) => pushes.push([cn, dt]);
    start(c);
    fake.last.connect();
    fake.last.recv({ connAck: { st: 1, ts: 15 } });
    assert.equal(c.state, S_READY);
    return { c, pushes };
  }

  function reconnect(c: JmqtClient): FakeSocket {
    return reconnectToReady(clock, fake, c);
  }

  /** Every event an old socket could still deliver; none may touch the current session. */
  function replayStaleEvents(old: FakeSocket): void {
    old.closed = false;
    old.recv({ push: { cn: "stale", dt: 1, cl: "" } }, { connAck: { st: 1, ts: 15 } });
    old.emit("error", { message: "stale error" });
    old.emit("drain");
    old.connect();
    old.emit("close");
  }

  it("registers the same handler functions on every socket and links each socket to its client", () => {
    const { c } = readyClient();
    const first = fake.last;
    first.close();
    const second = reconnect(c);
    assert.equal((first as any).client_, c);
    assert.equal((second as any).client_, c);
    assert.equal(typeof first.onConnect, "function");
    assert.equal(second.onConnect, first.onConnect, "the connect callback is not created per connection");
    for (const ev of EVENTS) {
      // one function, not Espruino's one-element array of on(): 2 blocks fewer each (api.ts SocketLike)
      assert.equal(typeof (first as any)["#on" + ev], "function", ev);
      assert.equal(typeof (second as any)["#on" + ev], "function", ev);
      assert.equal(second.handlers(ev)[0], first.handlers(ev)[0], ev + " handler is not created per connection");
    }
    // error and close: one function, the socket's end (Espruino fires error only just before close)
    assert.equal(first.handlers("error")[0], first.handlers("close")[0], "error and close share the end handler");
    const all = [first.onConnect, ...EVENTS.filter((ev) => ev !== "error").map((ev) => first.handlers(ev)[0])];
    assert.equal(new Set(all).size, all.length, "one handler per event otherwise");
  });

  it("the current socket's error is kept in err, and the close that follows (hadError true) is the lost link", () => {
    const { c } = readyClient();
    const s = fake.last;
    s.emit("error", { code: -1, message: "ECONNRESET" });
    assert.equal(c.err, "socket: ECONNRESET");
    assert.equal(c.state, S_READY, "an error alone does not end the session: its close does");
    s.emit("close", true);
    assert.equal(c.state, S_BACKOFF);
    assert.equal(c.err, "socket: ECONNRESET");
  });

  it("ignores every event of a socket that closed by itself once a new connection is up", () => {
    const { c, pushes } = readyClient();
    const old = fake.last;
    old.close();
    assert.equal(c.state, S_BACKOFF);
    const current = reconnect(c);
    // fill the write window so that the next frame waits for a drain
    c.pub("q", "x".repeat(BASE.writeWindow || 1024), 0, 0);
    c.pub("q", 2, 0, 0);
    const written = current.written.length;
    const fi = c.counters.fi;
    const err = c.err;
    replayStaleEvents(old);
    assert.equal(c.state, S_READY);
    assert.deepEqual(pushes, []);
    assert.equal(c.counters.fi, fi, "no stale frame reached the framer");
    assert.equal(c.err, err, "a stale error is not reported as the current one");
    assert.equal(current.written.length, written, "a stale drain does not flush the current queue");
    assert.equal(c.socket_, current);
    current.emit("drain");
    assert.equal(current.written.length, written + 1, "the current socket's drain still flushes");
    // one frame still waits for the next drain: the push is held until then (inbound backpressure)
    current.recv({ push: { cn: "live", dt: 2, cl: "" } });
    assert.deepEqual(pushes, []);
    current.emit("drain");
    assert.deepEqual(pushes, [["live", 2]]);
  });

  it("a late close of a socket the client ended (dead link) does not take the new connection down", () => {
    const { c, pushes } = readyClient();
    const old = fake.last;
    old.closeOnEnd = false;
    clock.tick(15_000);
    assert.equal(c.state, S_BACKOFF, "dead link");
    assert.ok(old.ended && !old.closed);
    const current = reconnect(c);
    old.recv({ push: { cn: "stale", dt: 1, cl: "" } });
    old.close();
    assert.equal(c.state, S_READY);
    assert.equal(c.socket_, current);
    assert.deepEqual(pushes, []);
    let stopped = 0;
    current.closeOnEnd = false;
    stop(c, () => stopped++);
    assert.equal(stopped, 0, "stop() cb waits for the close of the socket it ended");
    current.close();
    assert.equal(stopped, 1);
    assert.equal(c.state, S_STOPPED);
  });

  it("a connect callback from an old socket does not restart the handshake", () => {
    const c = createClient(fake, BASE) as JmqtClient;
    start(c);
    const old = fake.last;
    clock.tick(BASE.connMs!);
    assert.equal(c.state, S_BACKOFF, "TCP connect timed out");
    for (let t = 0; t < BASE.maxBackoffMs! && fake.sockets.length === 1; t += 10) clock.tick(10);
    const current = fake.last;
    assert.notEqual(current, old);
    old.connect();
    assert.deepEqual(current.sent(), [], "nothing sent on the new socket for the old one's connect");
    assert.deepEqual(old.sent(), []);
    current.connect();
    assert.equal(c.state, S_SESSION);
    assert.deepEqual(current.sentOf("conn"), [{ at: "tok", cl: "dev1" }]);
  });
});

describe("sim/net nodeNet() calls handlers with this = the socket", () => {
  it("onConnect, data and close all run with this = the socket connect() returned", async () => {
    const srv = net.createServer((s) => s.end("hi"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const seen: [string, boolean][] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const sock = nodeNet().connect({ host: "127.0.0.1", port }, function (this: any) {
          seen.push(["connect", this === sock]);
        });
        sock.on("data", function (this: any) {
          seen.push(["data", this === sock]);
        });
        sock.on("error", reject);
        sock.on("close", function (this: any) {
          seen.push(["close", this === sock]);
          resolve();
        });
      });
    } finally {
      srv.close();
    }
    assert.deepEqual(seen, [["connect", true], ["data", true], ["close", true]]);
  });
});
