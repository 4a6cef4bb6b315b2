import { strict as assert } from "node:assert";
import { createFramer } from "../../firmware/jmqt/framer";

function collect(max: number) {
  const frames: string[] = [];
  const counter = { big: 0 };
  const fr = createFramer(max, (f) => frames.push(f), counter);
  return { frames, counter, fr };
}

describe("jmqt framer", () => {
  const packets = ['{"hb":{}}', '{"push":{"cn":"a","dt":"é\u00ff","cl":""}}', '{"hbAck":{}}', "garbage"];
  const stream = packets.join("\0") + "\0";

  it("gives the same frames for every split point (one and two cuts)", () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const { frames, fr } = collect(100);
        fr.feed(stream.slice(0, i));
        fr.feed(stream.slice(i, j));
        fr.feed(stream.slice(j));
        assert.deepEqual(frames, packets, `cut at ${i},${j}`);
      }
    }
  });

  it("gives the same frames fed one character at a time and all at once", () => {
    const a = collect(100);
    for (const ch of stream) a.fr.feed(ch);
    const b = collect(100);
    b.fr.feed(stream + stream);
    assert.deepEqual(a.frames, packets);
    assert.deepEqual(b.frames, packets.concat(packets));
  });

  it("skips empty frames", () => {
    const { frames, fr } = collect(100);
    fr.feed("\0\0a\0\0");
    assert.deepEqual(frames, ["a"]);
  });

  it("drops an oversize frame while it streams in and reads the next one", () => {
    const { frames, counter, fr } = collect(16);
    fr.feed('{"hb":{}}\0' + "x".repeat(10));
    fr.feed("y".repeat(10));
    assert.equal(counter.big, 1);
    assert.ok((fr.buffer_ || "").length <= 16);
    for (let i = 0; i < 100; i++) {
      fr.feed("z".repeat(50));
      assert.equal(fr.buffer_, undefined);
    }
    fr.feed("end\0" + '{"a":1}\0');
    assert.deepEqual(frames, ['{"hb":{}}', '{"a":1}']);
    assert.equal(counter.big, 1);
  });

  it("drops an oversize frame that arrives whole in one chunk, keeps one of exactly max", () => {
    const { frames, counter, fr } = collect(8);
    fr.feed("123456789\0" + "12345678\0" + "1234\0");
    assert.deepEqual(frames, ["12345678", "1234"]);
    assert.equal(counter.big, 1);
    fr.feed("1234");
    fr.feed("56789\0ok\0");
    assert.deepEqual(frames, ["12345678", "1234", "ok"]);
    assert.equal(counter.big, 2);
  });
});
