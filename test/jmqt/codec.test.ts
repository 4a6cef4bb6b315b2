import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  decode, encode, newDecoded, pushFields, rawTokens, TYPES, type PacketName, E_FIELD, E_JSON, E_SHAPE, E_TYPE, T_CONNACK, T_PUB, T_PUSH,
} from "../../firmware/jmqt/codec";
import { createFramer } from "../../firmware/jmqt/framer";

const vectors = JSON.parse(readFileSync(join(__dirname, "../../../shared/jmqt/vectors.json"), "utf8"));

describe("jmqt codec", () => {
  it("decodes every sample of vectors.json with its type", () => {
    const out = newDecoded();
    let n = 0;
    for (const type of Object.keys(vectors.samples)) {
      for (const text of vectors.samples[type] as string[]) {
        const t = decode(text, out);
        assert.equal(t, TYPES.indexOf(type as PacketName), `${text}: ${out.reason_}`);
        assert.equal(typeof out.body_, "object");
        n++;
      }
    }
    assert.ok(n >= 30);
  });

  it("decodes every frame of the captured exchange", () => {
    const out = newDecoded();
    let n = 0;
    for (const e of vectors.exchange) {
      if (!e.raw || e.dir !== "s2c") continue;
      const t = decode(e.raw.replace(/\0$/, ""), out);
      assert.ok(t >= 0, `${e.raw}: ${out.reason_}`);
      n++;
    }
    assert.ok(n > 20);
  });

  it("normalises rt \"1\", numeric ids and accepts ts on a failed connAck", () => {
    const out = newDecoded();
    assert.equal(decode('{"push": {"cn":"c","dt":"m","cl":"x", "rt": "1"}}', out), T_PUSH);
    assert.equal(out.body_.rt, 1);
    assert.equal(out.body_.q, 0);
    assert.equal(decode('{"pub":{"cn":"c","dt":1,"q":"1","id":7}}', out), T_PUB);
    assert.equal(out.body_.id, "7");
    assert.equal(out.body_.q, 1);
    assert.equal(decode('{"connAck": {"st": 6, "ts": 15}}', out), T_CONNACK);
    assert.equal(out.body_.st, 6);
    assert.equal(decode(' \n{ "push" : { "cn" : "a", "dt" : null, "cl" : "", "id" : "c4d49638-e82f-11f1-8673-02fc00000001", "q" : 1 } } ', out), T_PUSH);
    assert.equal(out.body_.id.length, 36);
  });

  it("normalises st/ts/pr/cl and checks ts only on a successful connAck", () => {
    const out = newDecoded();
    assert.equal(decode('{"connAck":{"st":"1","ts":"15"}}', out), T_CONNACK);
    assert.deepEqual([out.body_.st, out.body_.ts], [1, 15]);
    assert.equal(decode('{"connAck":{"st":1,"ts":"0"}}', out), E_FIELD);
    assert.match(out.reason_ ?? "", /connAck: bad ts/);
    assert.equal(decode('{"connAck":{"st":1,"ts":"x"}}', out), E_FIELD);
    assert.equal(decode('{"connAck":{"st":5}}', out), T_CONNACK);
    assert.equal(decode('{"sub":{"cn":"a","pr":"1"}}', out), TYPES.indexOf("sub"));
    assert.equal(out.body_.pr, 1);
    assert.equal(decode('{"sub":{"cn":"a"}}', out), TYPES.indexOf("sub"));
    assert.equal(out.body_.pr, 0);
    assert.equal(decode('{"push":{"cn":"a","dt":1,"cl":null}}', out), T_PUSH);
    assert.equal(out.body_.cl, "");
    assert.equal(decode('{"push":{"cn":"a","dt":1,"q":1,"rt":1}}', out), T_PUSH, "a retained q=1 push needs no id");
    assert.equal(decode('{"pub":{"cn":"a","dt":1,"q":"2","id":"1"}}', out), E_FIELD);
    assert.match(out.reason_ ?? "", /pub: bad q/);
    assert.equal(decode('{"authAck":{"st":0}}', out), TYPES.indexOf("authAck"), "a refused auth carries no at/cl");
    assert.equal(decode('{"authAck":{"st":1,"at":"t","cl":""}}', out), E_FIELD);
    assert.equal(decode('{"hbAck ":{}}', out), E_TYPE);
    assert.equal(decode('{"Ack":{}}', out), E_TYPE);
    assert.equal(decode('{"unsubAckX":{}}', out), E_TYPE);
  });

  it("encodes each packet type by its wire name, and decode gives its T_* code (TYPES' index)", () => {
    const out = newDecoded();
    for (let t = 0; t < TYPES.length; t++) {
      assert.equal(encode(TYPES[t], {}), '{"' + TYPES[t] + '":{}}\0');
      const code = decode(encode(TYPES[t], {}).slice(0, -1), out);
      assert.ok(code === t || code === E_FIELD, `${TYPES[t]}: ${code}`);
    }
    assert.equal(decode('{"pub":{"cn":"a","dt":1}}', out), T_PUB);
    assert.equal(decode('{"push":{"cn":"a","dt":1}}', out), T_PUSH);
  });

  it("round-trips encode/decode for every type", () => {
    const bodies: Record<string, any> = {
      auth: { dt: { client_name: "a" } }, authAck: { st: 1, at: "t", cl: "c" }, conn: { at: "t", cl: "c" },
      connAck: { st: 1, ts: 15 }, hb: {}, hbAck: {}, sub: { cn: "a", pr: 1 }, subAck: { st: 1, cn: "a" },
      unsub: { cn: "a" }, unsubAck: { st: 7, cn: "a" }, pub: { cn: "a", dt: [1, "x"], q: 1, id: "3", rt: 1 },
      pubAck: { st: 1, id: "3", dt: { x: 1 } }, push: { cn: "a", dt: "m", cl: "b", q: 1, id: "u", rt: 0 },
      pushAck: { st: 1, id: "u" }, disconn: {},
    };
    const out = newDecoded();
    for (let t = 0; t < TYPES.length; t++) {
      const body = bodies[TYPES[t]];
      const wire = encode(TYPES[t], body);
      assert.equal(wire.charAt(wire.length - 1), "\0");
      assert.equal(decode(wire.slice(0, -1), out), t, `${TYPES[t]}: ${out.reason_}`);
      assert.deepEqual(out.body_, body);
      assert.equal(encode(TYPES[t], out.body_), wire);
    }
  });

  const malformed: [string, number][] = [
    ["garbage", E_JSON],
    ["{bad", E_JSON],
    ["", E_JSON],
    ["[]", E_SHAPE],
    ["1", E_SHAPE],
    ['"push"', E_SHAPE],
    ["null", E_SHAPE],
    ["{}", E_SHAPE],
    ['{"hb":{},"x":{}}', E_SHAPE],
    ['{"push":[]}', E_SHAPE],
    ['{"push":null}', E_SHAPE],
    ['{"push":"x"}', E_SHAPE],
    ['{"nope":{}}', E_TYPE],
    ['{"toString":{}}', E_TYPE],
    ['{"push":{"dt":"m","cl":"x"}}', E_FIELD],
    ['{"push":{"cn":"","dt":"m","cl":"x"}}', E_FIELD],
    ['{"push":{"cn":5,"dt":"m","cl":"x"}}', E_FIELD],
    ['{"push":{"cn":"a","cl":"x"}}', E_FIELD],
    ['{"push":{"cn":"a","dt":1,"cl":"x","q":1}}', E_FIELD],
    ['{"push":{"cn":"a","dt":1,"cl":"x","q":2,"id":"1"}}', E_FIELD],
    ['{"push":{"cn":"a","dt":1,"cl":"x","rt":"yes"}}', E_FIELD],
    ['{"push":{"cn":"a","dt":1,"cl":{}}}', E_FIELD],
    ['{"pubAck":{"id":"1"}}', E_FIELD],
    ['{"pubAck":{"st":1}}', E_FIELD],
    ['{"pubAck":{"st":"x","id":"1"}}', E_FIELD],
    ['{"pubAck":{"st":1,"id":""}}', E_FIELD],
    ['{"pubAck":{"st":1,"id":{}}}', E_FIELD],
    ['{"pushAck":{"id":"1"}}', E_FIELD],
    ['{"subAck":{"st":1}}', E_FIELD],
    ['{"unsubAck":{"cn":"a"}}', E_FIELD],
    ['{"connAck":{"st":1}}', E_FIELD],
    ['{"connAck":{"ts":15}}', E_FIELD],
    ['{"authAck":{"st":1,"cl":"x"}}', E_FIELD],
    ['{"authAck":{"st":1,"at":"x"}}', E_FIELD],
    ['{"conn":{"at":"x"}}', E_FIELD],
    ['{"auth":{}}', E_FIELD],
    ['{"pub":{"cn":"$x","dt":{}}}', E_FIELD],
    ['{"sub":{"cn":"a","pr":5}}', E_FIELD],
  ];
  it("a push in the shape a broker sends passes decode's own test; any push is judged as pushFields judges it (random bodies)", () => {
    // decode accepts the broker's shapes itself and hands every other push to pushFields (cold on
    // the board): the result, the reason and the normalised body must be those of pushFields alone
    const out = newDecoded();
    const absent = Symbol("absent");
    const field = (...values: any[]) => fc.constantFrom(absent, ...values);
    const flags = field(0, 1, "0", "1", true, false, null, 2, "x", -1, 0.5);
    const body = fc.record({
      cn: field("#dev", "a/b", "", 7, null),
      dt: field({ cmd: "ping" }, null, 0, "", [1]),
      cl: field("admin", "", null, 3, {}),
      q: flags,
      rt: flags,
      id: field("r1", "c4d49638-e82f-11f1-8673-02fc00000001", "", 7, 0, null, 1.5, {}),
    });
    // and bodies near the broker's shapes, so that both sides of decode's test are taken often
    const near = fc.record({
      cn: fc.constantFrom("#dev", "a/b"),
      dt: fc.constantFrom({ cmd: "ping" }, null),
      cl: fc.constantFrom("admin", "", "admin", null),
      q: field(1, 0, "1"),
      rt: field(1, 0),
      id: field("r1", "", 7),
    });
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(body, near), (b) => {
        const push: any = {};
        for (const k of Object.keys(b)) if ((b as any)[k] !== absent) push[k] = (b as any)[k];
        const want = JSON.parse(JSON.stringify(push));
        const bad = pushFields(want);
        const t = decode(JSON.stringify({ push }), out);
        if (bad) {
          assert.equal(t, E_FIELD, JSON.stringify(push));
          assert.equal(out.reason_, "push: bad " + bad);
        } else {
          assert.equal(t, T_PUSH, JSON.stringify(push) + ": " + out.reason_);
          assert.deepEqual(out.body_, want, JSON.stringify(push));
          if (typeof push.cl === "string" && (push.q === undefined ? push.id === undefined : push.q === 1 && typeof push.id === "string" && push.id) && (push.rt === undefined || push.rt === 1) && typeof push.cn === "string") fast++;
        }
      }),
      { numRuns: 4000, seed: 12 },
    );
    assert.ok(fast > 100, fast + " pushes in the broker's shapes among them");
    // the broker's three shapes, normalised as before
    assert.equal(decode('{"push":{"cn":"#d","dt":{"cmd":"ping"},"cl":"admin"}}', out), T_PUSH);
    assert.deepEqual(out.body_, { cn: "#d", dt: { cmd: "ping" }, cl: "admin", q: 0, rt: 0 });
    assert.equal(decode('{"push":{"cn":"#d","dt":1,"cl":"admin","q":1,"id":"i1"}}', out), T_PUSH);
    assert.deepEqual(out.body_, { cn: "#d", dt: 1, cl: "admin", q: 1, id: "i1", rt: 0 });
    assert.equal(decode('{"push":{"cn":"c","dt":1,"cl":"p","rt":1}}', out), T_PUSH);
    assert.deepEqual(out.body_, { cn: "c", dt: 1, cl: "p", q: 0, rt: 1 });
  });

  it("refuses a table of malformed frames with a reason", () => {
    const out = newDecoded();
    for (const [text, code] of malformed) {
      assert.equal(decode(text, out), code, text);
      assert.equal(out.body_, undefined, "no body after a refused frame");
      assert.ok((out.reason_ ?? "").length > 0, text);
    }
  });

  it("escapes the bytes 0xD1/0xD2 that Espruino's lexer reads as pretokenised strings (JSON.parse(\"\\xD28\") crashed it)", () => {
    const cases: [string, string][] = [
      ["\xd28", "\\u00d28"],
      ['{"a":"\xd1\x80"}', '{"a":"\\u00d1\x80"}'],
      ['{"a":"\\\xd1"}', '{"a":"\\u00d1"}'], // an escaped byte: the backslash goes with it
      ['{"a":"\\\\\xd2"}', '{"a":"\\\\\\u00d2"}'], // an escaped backslash, then the byte
      ['["\xd2\xd1","\xd1"]', '["\\u00d2\\u00d1","\\u00d1"]'],
      ["plain", "plain"],
    ];
    for (const [from, to] of cases) assert.equal(rawTokens(from), to, JSON.stringify(from));
    const out = newDecoded();
    // outside a string: a plain refusal; inside one: the same bytes after the parse (UTF-8 "р" is D1 80)
    assert.equal(decode("\xd28", out), E_JSON);
    assert.equal(decode('{"push":{"cn":"a","dt":"\xd1\x80\xd2","cl":"x"}}', out), T_PUSH);
    assert.equal(out.body_.dt, "\xd1\x80\xd2");
  });

  it("fuzz: random and mutated frames through framer+codec never throw, framer stays bounded", () => {
    const maxFrame = 256;
    const good: string[] = [];
    for (const type of Object.keys(vectors.samples)) good.push(...vectors.samples[type]);
    const out = newDecoded();
    let frames = 0;
    const sink = {
      onFrame(f: string) {
        frames++;
        assert.ok(f.length <= maxFrame);
        const t = decode(f, out);
        assert.ok(t >= -4 && t < TYPES.length);
        if (t < 0) assert.ok((out.reason_ ?? "").length > 0);
      },
    };
    const mutated = fc
      .tuple(fc.constantFrom(...good), fc.nat(), fc.nat(), fc.string({ maxLength: 8 }))
      .map(([g, a, b, ins]) => {
        const i = a % (g.length + 1);
        const j = Math.min(g.length, i + (b % 6));
        return g.slice(0, i) + ins + g.slice(j);
      });
    const jsonish = fc.json().map((j) => j);
    const big = fc.nat({ max: 900 }).map((n) => '{"push":{"cn":"a","dt":"' + "x".repeat(n) + '","cl":""}}');
    const frame = fc.oneof(mutated, jsonish, fc.string({ maxLength: 40 }), big, fc.constantFrom(...good));
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.nat({ max: 60 }), { maxLength: 20 }), (fs, cuts) => {
        const fr = createFramer(maxFrame, (f) => sink.onFrame(f));
        const stream = fs.join("\0") + "\0";
        let i = 0;
        let c = 0;
        while (i < stream.length) {
          const n = 1 + (cuts.length ? cuts[c++ % cuts.length] : stream.length);
          fr.feed(stream.slice(i, i + n));
          assert.ok((fr.buffer_ || "").length <= maxFrame);
          i += n;
        }
        assert.equal(fr.buffer_, undefined, "no carry-over (absent while empty)");
      }),
      { numRuns: 3000 },
    );
    assert.ok(frames > 1000);
  });
});
