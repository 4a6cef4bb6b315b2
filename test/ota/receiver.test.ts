// The built OTA receiver (dist/esp8266.ota.js) and boot guard (dist/boot1.js) in Node against a
// flash-like fake Storage: the update flow, every refusal, and a power cut at every single
// Storage change of an install and of a rollback.
import { strict as assert } from "node:assert";
import { FakeStorage, PowerCut, Rx, chunks, crc, runGuard } from "./fakes";

const V1 = 'print("FW v1");' + "/*" + "a".repeat(1500) + "*/";
const V2 = 'print("FW v2");' + "/*" + "b".repeat(2100) + "*/";

function board(): FakeStorage {
  const S = new FakeStorage();
  S.write(".bootcde", V1);
  S.write("jmqt.json", '{"id":"d"}');
  return S;
}

/** begin + all chunks; returns the receiver (still open) */
function send(S: FakeStorage, text = V2, extra: any = {}): Rx {
  const rx = new Rx(S);
  const b = rx.req({ op: "begin", size: text.length, crc: crc(text), v: "2.0.0", ...extra });
  assert.deepEqual(b.r, { n: 0, cs: extra.cs || 512, m: Math.ceil(text.length / (extra.cs || 512)) });
  for (const c of chunks(text, extra.cs || 512)) {
    const r = rx.req({ op: "chunk", ...c });
    assert.deepEqual(r.r, { n: c.n + 1 }, JSON.stringify(r.r));
  }
  return rx;
}

describe("ota receiver and boot guard (built code, fake Storage)", () => {
  it("v1 → v2: staged, installed with v1 kept, trial boot, confirm", () => {
    const S = board();
    const rx = send(S);
    assert.equal(S.files[".bootcde"], V1, "the running firmware is untouched while chunks arrive");
    assert.equal(S.files["jmqt.new"], V2);
    const c = rx.req({ op: "commit" });
    assert.deepEqual(c.r, { v: "2.0.0", reboot: 1 });
    assert.equal(c.open, 1, "verified, kept for the install");
    assert.equal(S.files[".bootcde"], V1, "the reply goes out before anything is installed");
    assert.equal(S.files["jmqt.ota"], undefined);
    const i = rx.req({ op: "install" });
    assert.deepEqual(i, { r: 1, open: 0 }, "installed; idle: the dispatcher drops the handler");
    assert.equal(rx.reboots, 1, "the install ends in E.reboot()");
    assert.equal(S.files[".bootcde"], V2);
    assert.equal(S.files["jmqt.prev"], V1);
    assert.equal(S.files["jmqt.new"], undefined);
    assert.ok(S.files["jmqt.try"] && S.files["jmqt.ota"]);
    const timers = runGuard(S);
    assert.equal(S.files[".bootcde"], V2, "trial boot runs v2");
    assert.equal(timers.length, 1);
    assert.equal(timers[0].ms, 60000, "default trial time 60 s");
    assert.equal(new Rx(S).req({ op: "state" }).r.st, "trial");
    assert.deepEqual(new Rx(S).req({ op: "confirm" }).r, { v: "2.0.0" });
    assert.deepEqual(Object.keys(S.files).sort(), [".bootcde", "jmqt.json", "jmqt.prev", "jmqt.res"]);
    assert.deepEqual(new Rx(S).req({ op: "state" }).r, { st: "idle", res: { ok: 1, v: "2.0.0" } });
    assert.equal(runGuard(S).length, 0, "no marker: the guard does nothing");
    assert.equal(S.files[".bootcde"], V2);
  });

  it("a v2 that does not confirm: its timer reboots, the next boot restores v1 and says why", () => {
    const S = board();
    send(S, V2, { t: 5 }).commit();
    let rebooted = 0;
    const timers = runGuard(S, undefined, () => rebooted++);
    assert.equal(timers[0].ms, 5000);
    timers[0].fn();
    assert.equal(rebooted, 1, "not confirmed in time: reboot");
    runGuard(S);
    assert.equal(S.files[".bootcde"], V1);
    assert.deepEqual(JSON.parse(S.files["jmqt.res"]), { ok: 0, v: "2.0.0", err: "not confirmed in time: rolled back" });
    assert.equal(S.files["jmqt.ota"], undefined);
    assert.deepEqual(new Rx(S).req({ op: "state" }).r.st, "idle");
    // a confirmed trial's timer does nothing
    const S2 = board();
    send(S2).commit();
    const t2 = runGuard(S2, undefined, () => rebooted++);
    new Rx(S2).req({ op: "confirm" });
    t2[0].fn();
    assert.equal(rebooted, 1);
  });

  it("refusals leave v1 running and say why", () => {
    const S = board();
    const rx = new Rx(S);
    assert.match(rx.req({ op: "chunk", n: 0, d: "" }).r, /no update running/);
    assert.match(rx.req({ op: "begin", size: 0, crc: 1, v: "2" }).r, /bad size/);
    assert.match(rx.req({ op: "begin", size: 10, crc: -1, v: "2" }).r, /bad crc/);
    assert.match(rx.req({ op: "begin", size: 10, crc: 1 }).r, /bad v/);
    assert.match(rx.req({ op: "begin", size: 300000, crc: 1, v: "2" }).r, /no room in Storage: need \d+ bytes, free \d+/);
    const cs = chunks(V2);
    assert.equal(rx.req({ op: "begin", size: V2.length, crc: crc(V2), v: "2" }).open, 1);
    assert.match(rx.req({ op: "begin", size: 99, crc: 5, v: "3" }).r, /busy: another update \(2, chunk 0 of 5\)/);
    assert.deepEqual(rx.req({ op: "begin", size: V2.length, crc: crc(V2), v: "2" }).r, { n: 0, cs: 512, m: 5 }, "same begin again resumes");
    assert.match(rx.req({ op: "chunk", ...cs[1] }).r, /out of order: got 1, expected 0/);
    assert.match(rx.req({ op: "chunk", ...cs[0], c: cs[0].c ^ 1 }).r, /crc mismatch, send it again/);
    assert.match(rx.req({ op: "chunk", ...cs[0], d: cs[1].d.slice(0, 100) }).r, /bytes, expected 512/);
    assert.deepEqual(rx.req({ op: "chunk", ...cs[0] }).r, { n: 1 });
    assert.deepEqual(rx.req({ op: "chunk", ...cs[0] }).r, { n: 1, dup: 1 }, "a resent chunk is acknowledged again");
    assert.match(rx.req({ op: "commit" }).r, /incomplete: 4 chunks missing, expected 1/);
    assert.deepEqual(rx.req({ op: "install" }).r, 0, "install: nothing verified, nothing done (the dispatcher reboots itself)");
    assert.equal(rx.reboots, 0);
    assert.match(rx.req({ op: "frob" }).r, /unknown ota op/);
    assert.deepEqual(rx.req({ op: "abort" }), { r: {}, open: 0 });
    assert.equal(S.files["jmqt.new"], undefined);
    assert.equal(S.files[".bootcde"], V1);
  });

  it("h() says whether an update is open; one left without a chunk for 2 min is dropped, staging erased", () => {
    const S = board();
    let now = 1000;
    const rx = new Rx(S, () => now);
    assert.equal(rx.h(), 0, "nothing open");
    assert.equal(rx.req({ op: "state" }).open, 0);
    assert.equal(rx.req({ op: "begin", size: V2.length, crc: crc(V2), v: "2" }).open, 1);
    assert.deepEqual(rx.req({ op: "chunk", ...chunks(V2)[0] }).r, { n: 1 });
    now += 119000;
    assert.equal(rx.h(), 1, "still open before 2 min");
    now += 2000;
    assert.equal(rx.h(), 0, "abandoned");
    assert.equal(S.files["jmqt.new"], undefined);
    assert.match(rx.req({ op: "chunk", ...chunks(V2)[1] }).r, /no update running/);
    assert.equal(S.files[".bootcde"], V1);
  });

  it("confirm with no marker clears the leftovers of a confirm cut short (jmqt.try, jmqt.bt)", () => {
    const S = board();
    S.write("jmqt.try", "1");
    S.write("jmqt.bt", "1");
    assert.deepEqual(new Rx(S).req({ op: "confirm" }).r, {});
    assert.equal(S.files["jmqt.try"], undefined);
    assert.equal(S.files["jmqt.bt"], undefined);
  });

  it("a bundle whose CRC does not match the begin is refused at commit, v1 untouched", () => {
    const S = board();
    const rx = new Rx(S);
    rx.req({ op: "begin", size: V2.length, crc: (crc(V2) ^ 1) >>> 0, v: "2" });
    for (const c of chunks(V2)) rx.req({ op: "chunk", ...c });
    const r = rx.req({ op: "commit" });
    assert.match(r.r, /crc mismatch: got \d+, expected \d+; update dropped/);
    assert.equal(r.open, 0);
    assert.equal(S.files[".bootcde"], V1);
    assert.equal(S.files["jmqt.ota"], undefined);
    assert.equal(runGuard(S).length, 0);
    assert.equal(S.files[".bootcde"], V1);
  });

  it("an install whose copy does not verify puts v1 back, records why in jmqt.res and still reboots", () => {
    const S = board();
    const rx = send(S);
    // flash that garbles what is written to .bootcde from the staging (v2's bytes), not v1's
    const write = S.write.bind(S);
    S.write = (name: string, data: string, offset?: number, size?: number) =>
      write(name, name === ".bootcde" && V2.indexOf(data) >= 0 && V1.indexOf(data) < 0 ? data.replace(/b/g, "c") : data, offset, size);
    assert.deepEqual(rx.commit().i, { r: 1, open: 0 });
    assert.equal(rx.reboots, 1);
    assert.equal(S.files[".bootcde"], V1);
    assert.equal(S.files["jmqt.ota"], undefined, "v1 is back: no marker for the guard");
    assert.deepEqual(JSON.parse(S.files["jmqt.res"]), { ok: 0, v: "2.0.0", err: "install failed, previous firmware kept" });
    assert.equal(runGuard(S).length, 0);
    assert.deepEqual(new Rx(S).req({ op: "state" }).r, { st: "idle", res: { ok: 0, v: "2.0.0", err: "install failed, previous firmware kept" } });
  });

  it("begin is refused while an installed update is on trial", () => {
    const S = board();
    send(S).commit();
    runGuard(S);
    assert.match(new Rx(S).req({ op: "begin", size: 10, crc: 1, v: "3" }).r, /busy: the last update is installing or on trial/);
  });

  it("a power cut at any Storage change of the install, then boots: v1, or v2 on trial once the install was verified", () => {
    let completed = 0;
    for (let k = 1; ; k++) {
      const S = board();
      const live = send(S);
      S.ops = 0;
      S.cutAt = k;
      let cut = false;
      let r: any;
      try {
        r = live.commit().i;
        cut = typeof r.r === "string" && /power cut/.test(r.r);
      } catch (e) {
        assert.ok(e instanceof PowerCut);
        cut = true;
      }
      S.cutAt = 0;
      if (!cut && r && r.r === 1) {
        completed = k;
        break;
      }
      assert.ok(cut, `step ${k}: ${JSON.stringify(r && r.r)}`);
      const installed = S.files["jmqt.try"] !== undefined;
      runGuard(S);
      if (installed) {
        assert.equal(S.files[".bootcde"], V2, `cut at ${k} after the install was verified: trial v2`);
        runGuard(S); // not confirmed
      }
      assert.equal(S.files[".bootcde"], V1, `cut at change ${k}: v1 boots`);
      assert.equal(S.files["jmqt.ota"], undefined);
      assert.equal(runGuard(S).length, 0);
    }
    assert.ok(completed > 5, "the install makes several changes: " + completed);
  });

  it("a power cut at any Storage change of the guard's rollback, then boots again: v1", () => {
    const base = board();
    send(base).commit(); // cut mid-install is what the guard would see: simulate by erasing jmqt.try
    delete base.files["jmqt.try"];
    for (let k = 1; k < 200; k++) {
      const S = base.clone();
      S.ops = 0;
      S.cutAt = k;
      let cut = false;
      try {
        runGuard(S);
      } catch (e) {
        assert.ok(e instanceof PowerCut);
        cut = true;
      }
      S.cutAt = 0;
      runGuard(S);
      assert.equal(S.files[".bootcde"], V1, `cut at change ${k} of the rollback`);
      assert.equal(S.files["jmqt.ota"], undefined);
      assert.match(S.files["jmqt.res"], /install interrupted/);
      if (!cut) return;
    }
    assert.fail("the rollback never completed");
  });
});
