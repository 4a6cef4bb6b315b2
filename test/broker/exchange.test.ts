// Replays the client side of vectors.json `exchange` (the capture with the reference server) against
// our broker over real TCP and compares every server→client packet, peer by peer, in order.
// Differences allowed, on purpose:
//  - push ids: captured UUIDs are mapped to ours on first sight (ours must be UUIDs too, distinct per
//    message, and later c2s pushAcks are rewritten to our ids);
//  - the reference server delivered {"offline":"devB"} twice; we deliver it once, so the second
//    identical line is skipped;
//  - devA gets {"online":"devB"} on devB's reconnect, which the capture does not show (checked at the end);
//  - the capture starts with a q=1 redelivery stored by an earlier session: we produce it for real
//    with a prelude session (devB sends it to #devA, devA never acks and drops), not by seeding.
import { strict as assert } from "node:assert";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Broker, startBroker } from "../../sim/broker";
import { connected, Peer, UUID } from "./peer";

interface Entry {
  note?: string;
  dir?: "c2s" | "s2c";
  peer?: string;
  raw?: string;
  closed?: boolean;
}

const vectors = JSON.parse(readFileSync(join(__dirname, "../../../shared/jmqt/vectors.json"), "utf8"));
const exchange: Entry[] = vectors.exchange;

/** Deep structural compare; UUID strings in `expected` map to (distinct) UUID strings in `actual`. */
function matchPacket(expected: unknown, actual: unknown, ids: Map<string, string>, path: string): void {
  if (typeof expected === "string" && UUID.test(expected)) {
    assert.ok(typeof actual === "string" && UUID.test(actual), `${path}: expected a UUID, got ${JSON.stringify(actual)}`);
    const mapped = ids.get(expected);
    if (mapped === undefined) {
      assert.ok(![...ids.values()].includes(actual as string), `${path}: id ${actual} reused for another message`);
      ids.set(expected, actual as string);
    } else {
      assert.equal(actual, mapped, `${path}: id differs from the one given to the same captured message`);
    }
    return;
  }
  if (expected && typeof expected === "object") {
    assert.ok(actual && typeof actual === "object", `${path}: expected an object, got ${JSON.stringify(actual)}`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: keys differ`);
    for (const k of Object.keys(expected)) matchPacket((expected as any)[k], (actual as any)[k], ids, `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, `${path}: value differs`);
}

describe("broker: replay of the reference exchange (vectors.json)", () => {
  let broker: Broker;
  const peers = new Map<string, Peer>();

  before(async () => {
    broker = await startBroker({ port: 0, ts: 15 });
  });
  after(async () => {
    for (const p of peers.values()) p.destroy();
    await broker.close();
  });

  it("answers every captured client packet like the reference server did", async () => {
    // Prelude: the earlier session that left an unacknowledged q=1 message for devA.
    const a0 = await connected(broker.port, "devA");
    const b0 = await connected(broker.port, "devB");
    b0.send({ pub: { cn: "#devA", dt: { cmd: "led", on: 1 }, q: 1, id: "p1" } });
    assert.equal((await b0.nextOf("pubAck")).pubAck.st, 1);
    let stored: any;
    do stored = await a0.nextOf("push");
    while (stored.push.cn !== "#devA");
    assert.equal(stored.push.q, 1);
    let gone = once(broker, "disconnect");
    a0.destroy();
    await gone;
    gone = once(broker, "disconnect");
    b0.send({ disconn: {} });
    await gone;
    await b0.whenClosed();
    assert.deepEqual(broker.clients(), []);
    assert.equal(broker.pendingCount("devA"), 1);

    const ids = new Map<string, string>();
    const lastS2c = new Map<string, string>();
    let compared = 0;
    for (const [i, e] of exchange.entries()) {
      if (!e.dir) continue;
      const name = e.peer!;
      if (e.dir === "c2s") {
        let p = peers.get(name);
        if (!p || p.closed) {
          p = await Peer.connect(broker.port);
          peers.set(name, p);
        }
        let raw = e.raw!;
        for (const [captured, ours] of ids) raw = raw.split(captured).join(ours);
        p.send(raw);
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const p = peers.get(name)!;
      if (e.closed) {
        await p.whenClosed();
        continue;
      }
      if (lastS2c.get(name) === e.raw && e.raw!.includes('"offline"')) continue;
      lastS2c.set(name, e.raw!);
      const expected = JSON.parse(e.raw!.replace(/\u0000$/, ""));
      let actual: any;
      try {
        actual = await p.next();
      } catch (err) {
        throw new Error(`exchange[${i}] ${name}: waiting for ${e.raw}: ${(err as Error).message}`);
      }
      matchPacket(expected, actual, ids, `exchange[${i}] ${name}`);
      compared++;
    }
    assert.ok(compared >= 30, `only ${compared} server packets compared`);

    // anon's hb and pub before conn got no answer: its first answer is the authAck to this.
    const anon = peers.get("anon")!;
    anon.send({ auth: { dt: { client_name: "anon" } } });
    assert.deepEqual(await anon.next(), { authAck: { st: 1, at: "test-token", cl: "anon" } });
    // No stray packets for the others either: the next thing each gets is the hbAck to a sync. One
    // known extra: devA also gets {"online":"devB"} when devB reconnects (the capture shows it for
    // devB's first conn but not for the reconnect; we announce every conn the same way).
    assert.deepEqual(await peers.get("devA")!.sync(), [{ push: { cn: "update", dt: { online: "devB" }, cl: "" } }]);
    assert.deepEqual(await peers.get("devB")!.sync(), []);
    // garbage, two root keys and an unknown type were counted as bad, not answered
    assert.equal(broker.stats.bad, 3);
    // devB acked the cmd/all redelivery? It did not in the capture: it stays stored.
    assert.equal(broker.pendingCount("devB"), 1);
  });
});
