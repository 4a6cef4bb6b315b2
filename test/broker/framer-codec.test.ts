// Unit tests of the broker's framer (NUL split, bounded) and codec (decode/encode), no sockets.
import { strict as assert } from "node:assert";
import * as fc from "fast-check";
import { decode, encode, Framer } from "../../sim/broker";

function collect(maxFrame: number): { framer: Framer; frames: string[]; oversize: number[] } {
  const frames: string[] = [];
  const oversize: number[] = [];
  const framer = new Framer(maxFrame, {
    frame: (t) => frames.push(t),
    oversize: () => oversize.push(frames.length),
  });
  return { framer, frames, oversize };
}

describe("broker framer", () => {
  it("yields the same frames however the stream is split (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).map((s) => s.replace(/\0/g, "")).filter((s) => s.length > 0), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        (texts, cuts) => {
          const bytes = Buffer.from(texts.map((t) => t + "\0").join(""), "utf8");
          const { framer, frames, oversize } = collect(1000);
          let at = 0;
          let i = 0;
          while (at < bytes.length) {
            const n = cuts[i++ % cuts.length];
            framer.push(bytes.subarray(at, at + n));
            at += n;
          }
          assert.deepEqual(frames, texts);
          assert.deepEqual(oversize, []);
          assert.equal(framer.buffered, 0);
        },
      ),
    );
  });

  it("drops a frame over maxFrame once, without holding more than maxFrame, and keeps the next ones", () => {
    const { framer, frames, oversize } = collect(10);
    framer.push(Buffer.from("ok\0abcdef"));
    framer.push(Buffer.from("ghijkl"));
    assert.ok(framer.buffered <= 10);
    for (let i = 0; i < 100; i++) framer.push(Buffer.from("x".repeat(1000)));
    assert.equal(framer.buffered, 0);
    framer.push(Buffer.from("yy\0elevenchars\0"));
    framer.push(Buffer.from("0123456789\0"));
    assert.deepEqual(frames, ["ok", "0123456789"]);
    assert.deepEqual(oversize, [1, 1]);
  });

  it("skips empty frames", () => {
    const { framer, frames } = collect(10);
    framer.push(Buffer.from("\0\0a\0\0"));
    assert.deepEqual(frames, ["a"]);
  });
});

describe("broker codec", () => {
  it("decodes one-key packets of client types with an object body", () => {
    assert.deepEqual(decode('{"hb":{}}'), { ok: true, packet: { type: "hb", body: {} } });
    assert.deepEqual(decode('{"pub":{"cn":"a","dt":1}}'), { ok: true, packet: { type: "pub", body: { cn: "a", dt: 1 } } });
  });

  it("rejects with a reason, never throws (property over arbitrary text)", () => {
    for (const bad of ["garbage", '{"hb":{},"x":{}}', '{"nope":{}}', "[]", "null", '{"hb":1}', '{"hb":[]}', "{}", '{"hbAck":{}}']) {
      const r = decode(bad);
      assert.equal(r.ok, false, bad);
      assert.ok(!r.ok && r.reason.length > 0);
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = decode(s);
        assert.equal(typeof r.ok, "boolean");
      }),
    );
  });

  it("encodes NUL-terminated ASCII JSON that decodes back to the same value (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (dt) => {
        const frame = encode("push", { cn: "c", dt, cl: "" });
        assert.equal(frame[frame.length - 1], "\0");
        assert.ok(/^[\x01-\x7f]*$/.test(frame.slice(0, -1)), "ASCII only, no inner NUL");
        assert.deepEqual(JSON.parse(frame.slice(0, -1)), JSON.parse(JSON.stringify({ push: { cn: "c", dt, cl: "" } })));
      }),
    );
  });
});
