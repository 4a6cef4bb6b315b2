// End to end over loopback TCP: two clients (the very firmware client) against the real broker.
import { strict as assert } from "node:assert";
import { startBroker, type Broker } from "../../sim/broker";
import { nodeNet } from "../../sim/net";
import { S_READY, S_STOPPED, ST_BUSY, ST_CLIENT_OFFLINE, ST_OK } from "../../firmware/jmqt/api";
import type { Client, ClientOptions } from "../../firmware/jmqt/api";
import { createClient, p2p, request, type JmqtClient, start, stop, sub } from "../../firmware/jmqt/client";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function call(fn: (cb: (st: number, dt?: any) => void) => number): Promise<[number, any]> {
  return new Promise((resolve, reject) => {
    const r = fn((st, dt) => resolve([st, dt]));
    if (r !== ST_OK) reject(new Error(`refused at once: ${r}`));
  });
}

describe("jmqt client end to end (loopback broker)", function () {
  this.timeout(30000);
  const brokers: Broker[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await new Promise<void>((r) => stop(c, r));
    for (const b of brokers.splice(0)) await b.close();
  });

  function client(port: number, extra: Partial<ClientOptions>) {
    const c = createClient(nodeNet(), {
      host: "127.0.0.1", port, maxFrame: 1024, inflight: 8, outQueue: 16, dedup: 16,
      connMs: 2000, ackMs: 1500, retries: 20, minBackoffMs: 40, maxBackoffMs: 200, stableMs: 1000,
      ...extra,
    });
    const pushes: { cn: string; dt: any; from: string }[] = [];
    c.onPush = (cn, dt, from) => pushes.push({ cn, dt, from });
    clients.push(c);
    return { c, pushes };
  }

  it("publish, subscribe, P2P both ways, control request, broker restart with QoS 1 in flight", async () => {
    let killAt = -1;
    let inflightAtKill = -1;
    let A: ReturnType<typeof client>;
    let pubsIn = 0;
    let b1: Broker | null = null;
    b1 = await startBroker({
      port: 0, ts: 4,
      onPacket: (ev) => {
        // Kill the broker the moment it reads the 10th q=1 pub of the stream: that one and the
        // ones behind it are in flight, unacknowledged.
        if (ev.dir === "in" && ev.type === "pub" && ev.cl === "devA" && ev.body.cn === "data" && ev.body.q === 1) {
          if (++pubsIn === killAt && b1) {
            const b = b1;
            b1 = null;
            inflightAtKill = ((A.c as JmqtClient).window_ || []).length;
            void b.close();
          }
        }
      },
    });
    const port = b1.port;
    A = client(port, { auth: { client_name: "devA" } });
    const B = client(port, { cl: "devB", at: "test-token" });
    start(A.c);
    start(B.c);
    await waitFor("both READY", () => A.c.state === S_READY && B.c.state === S_READY);
    assert.equal(A.c.cl, "devA");

    assert.deepEqual(await call((cb) => sub(B.c, "data", 1, cb)), [ST_OK, "data"]);
    assert.equal(A.c.pub("data", { n: -1 }, 0, 0), ST_OK);
    await waitFor("q0 push", () => B.pushes.some((p) => p.cn === "data"));
    assert.deepEqual(B.pushes.find((p) => p.cn === "data"), { cn: "data", dt: { n: -1 }, from: "devA" });

    assert.deepEqual(await call((cb) => p2p(A.c, "devB", { cmd: "led", on: 1 }, 1, cb)), [ST_OK, undefined]);
    await waitFor("P2P A->B", () => B.pushes.some((p) => p.cn === "#devB"));
    assert.equal(p2p(B.c, "devA", { ok: 1 }, 0), ST_OK);
    await waitFor("P2P B->A", () => A.pushes.some((p) => p.cn === "#devA"));
    assert.deepEqual(A.pushes.find((p) => p.cn === "#devA"), { cn: "#devA", dt: { ok: 1 }, from: "devB" });
    assert.deepEqual((await call((cb) => p2p(A.c, "nobody", 1, 1, cb)))[0], ST_CLIENT_OFFLINE);

    const [st, dt] = await call((cb) => request(A.c, "$mySubscriptions", {}, cb));
    assert.equal(st, ST_OK);
    assert.equal(dt.channels["#devA"], "persistent");

    // The stream: N q=1 messages pumped through A's bounded window while the broker dies.
    const N = 40;
    killAt = 10;
    let next = 0;
    const acked: number[] = [];
    let busy = 0;
    const pump = () => {
      while (next < N) {
        const n = next;
        const r = A.c.pub("data", { n }, 1, 0, (s) => {
          acked.push(s);
          pump();
        });
        if (r === ST_BUSY) {
          busy++;
          return;
        }
        assert.equal(r, ST_OK);
        next++;
      }
    };
    const timer = setInterval(pump, 20);
    pump();
    await waitFor("broker killed", () => b1 === null);
    await waitFor("clients noticed", () => A.c.state !== S_READY && B.c.state !== S_READY);
    await sleep(100);
    // Same port; devA is held off (connAck 5) until devB has subscribed again, so that nothing is
    // published to a channel nobody listens to yet.
    const b2 = await startBroker({
      port, ts: 4,
      validateConn: (cl, at) =>
        cl === "devA" && !("data" in b2.subscriptions("devB")) ? 5 : at === "test-token",
    });
    brokers.push(b2);
    await waitFor("all N delivered", () => new Set(B.pushes.filter((p) => p.cn === "data" && p.dt.n >= 0).map((p) => p.dt.n)).size === N, 20000);
    clearInterval(timer);
    await waitFor("all acked", () => acked.length === N);
    await sleep(200);
    const got = B.pushes.filter((p) => p.cn === "data" && p.dt.n >= 0).map((p) => p.dt.n);
    assert.equal(got.length, N, "none twice to the application");
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
    assert.deepEqual(acked, new Array(N).fill(ST_OK));
    assert.ok((A.c.counters.rc || 0) >= 1 && (B.c.counters.rc || 0) >= 1);
    assert.equal(A.c.counters.bad, undefined, "none bad: absent while 0");
    assert.equal(B.c.counters.bad, undefined);
    assert.ok(busy > 0, "the bounded window pushed back");
    assert.ok(inflightAtKill > 0, "QoS 1 messages were in flight when the broker died");

    await new Promise<void>((r) => stop(A.c, r));
    assert.equal(A.c.state, S_STOPPED);
  });
});
