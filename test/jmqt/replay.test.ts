// Drives the client with the server side of the captured exchange (vectors.json, peer devA) and
// checks that it sends what devA sent wherever the client's own behaviour decides (ids aside).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sinon from "sinon";
import { S_READY, ST_CLIENT_OFFLINE, ST_OK } from "../../firmware/jmqt/api";
import { createClient, p2p, request, start } from "../../firmware/jmqt/client";
import { FakeNet, type Sent } from "./fake";

const vectors = JSON.parse(readFileSync(join(__dirname, "../../../shared/jmqt/vectors.json"), "utf8"));

function packet(frame: string): Sent | null {
  try {
    const o = JSON.parse(frame);
    const keys = Object.keys(o);
    const types = ["auth", "conn", "hb", "sub", "unsub", "pub", "pushAck", "disconn"];
    if (keys.length !== 1 || !types.includes(keys[0])) return null;
    return { type: keys[0], body: o[keys[0]] };
  } catch {
    return null;
  }
}

function withoutId(b: any): any {
  const { id: _id, ...rest } = b;
  return rest;
}

describe("jmqt client replay of the reference exchange (devA)", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 0 });
  });
  afterEach(() => clock.restore());

  it("sends what devA sent, acks q=1 pushes, delivers every push", () => {
    const net = new FakeNet();
    const c = createClient(net, {
      host: "127.0.0.1", port: 8010, auth: { client_name: "devA" },
      maxFrame: 4096, inflight: 8, outQueue: 16, dedup: 16,
    });
    const pushes: any[] = [];
    const results: any[] = [];
    c.onPush = (cn, dt, from, rt) => pushes.push({ cn, dt, from, rt });
    start(c);
    const sock = net.last;
    sock.connect();

    const idMap: Record<string, string> = {};
    let seen = 0;
    let checked = 0;
    let q1Pushes: string[] = [];
    const nextSent = (): Sent => {
      const all = sock.sent().filter((p) => p.type !== "pushAck");
      assert.ok(all.length > seen, `client sent nothing where devA sent a packet (#${seen}, state ${c.state})`);
      return all[seen++];
    };

    let carry = "";
    for (const e of vectors.exchange) {
      if (e.peer !== "devA" || !e.raw) continue;
      if (e.dir === "s2c") {
        for (const f of e.raw.split("\0")) {
          if (!f) continue;
          const o = JSON.parse(f);
          if (o.pubAck && idMap[o.pubAck.id]) o.pubAck.id = idMap[o.pubAck.id];
          if (o.push && o.push.q === 1) q1Pushes.push(o.push.id);
          sock.recv(o);
        }
        continue;
      }
      carry += e.raw;
      if (!carry.endsWith("\0")) continue;
      const frames = carry.split("\0").slice(0, -1);
      carry = "";
      // Two packets in one write is the capture's harness probing the server, not client behaviour.
      if (frames.length > 1) continue;
      for (const f of frames) {
        const want = packet(f);
        if (!want) continue;
        if (want.type === "pub") {
          const b = want.body;
          const cb = (st: number, dt?: any) => results.push([b.cn, st, dt]);
          let r: number;
          if (b.cn[0] === "$") r = request(c, b.cn, b.dt, cb);
          else if (b.cn[0] === "#") r = p2p(c, b.cn.slice(1), b.dt, b.q || 0, cb);
          else r = c.pub(b.cn, b.dt, b.q || 0, b.rt || 0, cb);
          assert.equal(r, ST_OK, f);
        } else if (want.type === "hb") {
          const before = sock.sentOf("hb").length;
          for (let i = 0; i < 20 && sock.sentOf("hb").length === before; i++) clock.tick(1000);
        }
        const got = nextSent();
        assert.equal(got.type, want.type, f);
        assert.deepEqual(withoutId(got.body), withoutId(want.body), f);
        if (want.body.id !== undefined) {
          assert.equal(typeof got.body.id, "string");
          idMap[want.body.id] = got.body.id;
        }
        checked++;
      }
    }
    assert.equal(c.state, S_READY);
    assert.equal(checked, 11, "auth, conn, 7 pubs/requests, 2 hb");
    assert.deepEqual(sock.sentOf("pushAck"), q1Pushes.map((id) => ({ st: 1, id })));
    assert.equal(q1Pushes.length, 2);
    assert.deepEqual(results, [
      ["sensors/temp", ST_OK, undefined],
      ["$mySubscriptions", ST_OK, { channels: { "#devA": "persistent", update: "persistent" } }],
      ["#nobody", ST_CLIENT_OFFLINE, undefined],
      ["cmd/all", ST_OK, undefined],
    ]);
    const s2cPushes = vectors.exchange.filter((e: any) => e.peer === "devA" && e.dir === "s2c" && e.raw.includes('"push"'));
    assert.equal(pushes.length, s2cPushes.length);
    assert.deepEqual(pushes[1], { cn: "#devA", dt: { cmd: "led", on: 1 }, from: "devB", rt: 0 });
    assert.equal(c.counters.bad, undefined);
    assert.equal(c.cl, "devA");
  });
});
