// 10^5 random and mutated frames through framer, codec and session (the firmware's client on a
// fake socket, under fake timers): no exception escapes, the session survives, every bound holds,
// and the client still answers a real push afterwards. Deterministic (seeded).
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { S_READY } from "../../firmware/jmqt/api";
import { createClient, type JmqtClient, start } from "../../firmware/jmqt/client";
import { FakeNet, SESSION_OPTIONS } from "./fake";
import { rng } from "../soak/soak";
import { mutate, randomBytes, seeds } from "./fuzz-frames";

describe("jmqt fuzz: 10^5 random and mutated frames through framer, codec and session", function () {
  this.timeout(120000);
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  it("no exception escapes, the session stays up, every bound holds, and a real push is still answered", () => {
    const r = rng(20261201);
    const net = new FakeNet();
    const c = createClient(net, { ...SESSION_OPTIONS, maxParse: 256 }) as JmqtClient;
    let pushes = 0;
    c.onPush = () => {
      pushes++;
    };
    start(c);
    net.last.connect();
    net.last.recv({ connAck: { st: 1, ts: 15 } });
    assert.equal(c.state, S_READY);
    const s = net.last;
    const base = seeds();
    let frames = 0;
    while (frames < 100000) {
      // a batch of frames, NUL-terminated (sometimes not), delivered in random splits
      let batch = "";
      const k = 1 + Math.floor(r() * 8);
      for (let i = 0; i < k; i++, frames++) {
        const kind = r();
        const f = kind < 0.1 ? randomBytes(r) : kind < 0.2 ? base[Math.floor(r() * base.length)] : mutate(r, base[Math.floor(r() * base.length)]);
        batch += f + (r() < 0.97 ? "\0" : "");
      }
      let at = 0;
      while (at < batch.length) {
        const n = r() < 0.2 ? 1 : 1 + Math.floor(r() * 700);
        s.emit("data", batch.substr(at, n));
        at += n;
      }
      if (frames % 997 < 8) s.emit("drain");
      // keep the link alive (the fuzz is about frames, not the dead-link timer)
      if (frames % 50 < 8) clock.tick(50);
      assert.equal(c.state, S_READY, "session lost after " + frames + " frames: " + c.err);
      assert.ok((c.buffer_ || "").length <= (c.maxFrame_ ?? 1024), "framer carry-over within maxFrame");
      assert.ok(c.recent_.length <= SESSION_OPTIONS.dedup, "dedup ring bounded");
      assert.ok(c.queue_.length <= SESSION_OPTIONS.outQueue, "out queue bounded");
    }
    const cn = c.counters;
    console.log(`      ${frames} frames: ${cn.fi} reached the session, ${cn.bad} malformed, ${cn.big} oversized, ${cn.heavy} too heavy, ${pushes} pushes delivered`);
    assert.ok((cn.bad || 0) > 10000 && (cn.big || 0) > 100 && (cn.heavy || 0) > 100, "the fuzz reached every refusal path");
    s.emit("drain");
    s.emit("data", "\0");
    const before = s.sentOf("pushAck").length;
    s.recv({ push: { cn: "#dev1", dt: { cmd: "ping", id: "end" }, cl: "admin", q: 1, id: "fuzz-last" } });
    s.emit("drain");
    assert.equal(s.sentOf("pushAck").length, before + 1, "a real push after the fuzz is acked");
    assert.equal(c.state, S_READY);
  });
});
