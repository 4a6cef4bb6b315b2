// OTA on the real interpreter (espruino-esp8266: EspruinoBoard, sim/espruino/board.ts): each board
// is a directory (Storage in ./espruino.flash there), and a reboot is the process SIGKILLed and
// started again there, booting from Storage as it is. The built .boot1 guard and jmqt.otr
// receiver go to Storage with a tiny v1 .bootcde (after the board shim as .boot0, which stands in
// for E.reboot: the board is rebooted when the code calls it); the receiver is then driven over
// the board's TCP control connection the way the dispatcher drives it, and the interpreter is
// rebooted, or killed mid-transfer and mid-install. Block costs are measured with
// process.memory() and printed.
import { strict as assert } from "node:assert";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import { chunks, crc, guardCode, receiverCode } from "./fakes";

// rx(S) loads the receiver as the dispatcher does (into global H): a function of the firmware's,
// not a line evaluated over the control connection, whose closure would keep that connection
// handler's scope alive and count it in the receiver's cost
const V1 = 'print("FW v1");function rx(S){H=eval(require("Storage").read("jmqt.otr"))(S);}';
const CONFIRM = 'print("CONFIRMED "+JSON.stringify(eval(require("Storage").read("jmqt.otr"))(require("Storage"))({op:"confirm"})));';
// filler keeps the bundles several chunks long (comments cost flash, not RAM)
const V2 = 'print("FW v2");' + CONFIRM + "/*" + "x".repeat(2000) + "*/";
const V2_SILENT = 'print("FW s2");' + "/*" + "y".repeat(1500) + "*/";

const costs: Record<string, number> = {};

describe("ota on the real Espruino interpreter (esp8266 build)", function () {
  // above the board's own waits (a boot 10 s, a boot after a reboot 15 s): they fail first, with the console's tail
  this.timeout(60000);
  const live: EspruinoBoard[] = [];

  before(function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
  });
  afterEach(async () => {
    for (const b of live.splice(0)) await b.stop();
  });
  after(() => {
    if (Object.keys(costs).length) console.log("      blocks (esp8266, 12-byte blocks): " + JSON.stringify(costs));
  });

  /** A fresh board, booted: .boot1 (guard, unless withGuard is false), jmqt.otr (receiver), .bootcde v1. */
  async function board(withGuard = true, v1 = V1): Promise<EspruinoBoard> {
    const storage: Record<string, string> = { "jmqt.otr": receiverCode("esp8266") };
    if (withGuard) storage[".boot1"] = guardCode();
    const b = new EspruinoBoard({ board: "esp8266", code: v1, storage, pinMethods: false, wifi: null });
    live.push(b);
    await b.boot();
    return b;
  }

  /** The firmware banner ("v1", "v2", "s2") of the last boot after console mark `m`. */
  function firmware(b: EspruinoBoard, m: number): string | undefined {
    const banners = b.since(m).filter((l) => /^FW /.test(l));
    return banners.length ? banners[banners.length - 1].slice(3) : undefined;
  }

  /** Waits for the boot after `boots` (the device's own E.reboot()) and returns its banner; a boot
   *  without one fails here with the console since `m`, which says what that boot did instead. */
  async function nextBoot(b: EspruinoBoard, boots: number, m: number, ms = 15000): Promise<string> {
    await b.booted(boots, ms);
    const banner = firmware(b, m);
    if (banner === undefined) throw new Error("a boot without a firmware banner; the console since the mark:\n" + b.since(m).join("\n"));
    return banner;
  }

  /** Kills the interpreter where it is and boots it from Storage as it is; returns the banner. */
  async function powerCycle(b: EspruinoBoard): Promise<string> {
    const m = b.mark();
    const boots = b.boots;
    await b.reboot("power cut");
    return nextBoot(b, boots, m);
  }

  /** The receiver as the dispatcher holds it (global H), on v1. S may be a wrapped Storage. */
  function openReceiver(b: EspruinoBoard, storage = 'require("Storage")'): void {
    b.eval(`rx(${storage})`);
  }
  /** One request to the receiver, its result as it goes on the wire. */
  function req(b: EspruinoBoard, a: any): Promise<any> {
    return b.query(`H(${JSON.stringify(a)})`, 8000);
  }
  /** What the dispatcher does ~1 s after the commit's reply: install, which ends in E.reboot().
   *  Resolves with the banner of the boot that follows. */
  async function install(b: EspruinoBoard): Promise<string> {
    const m = b.mark();
    const boots = b.boots;
    b.eval('H({op:"install"})');
    return nextBoot(b, boots, m);
  }
  async function transfer(b: EspruinoBoard, text: string, t = 60, upTo = Infinity): Promise<void> {
    // a begin again with the same bundle resumes where the open update is
    const r = await req(b, { op: "begin", size: text.length, crc: crc(text), v: "2.0.0", t });
    assert.deepEqual({ ...r, n: 0 }, { n: 0, cs: 512, m: Math.ceil(text.length / 512) });
    for (const c of chunks(text)) {
      if (c.n < r.n) continue;
      if (c.n >= upTo) return;
      assert.deepEqual(await req(b, { op: "chunk", ...c }), { n: c.n + 1 });
    }
  }
  const usage = (b: EspruinoBoard) => b.query("process.memory().usage");

  it("v1 → v2: chunks over the control connection, commit, reboot → v2 runs and confirms; it stays v2", async () => {
    const b = await board();
    assert.equal(firmware(b, 0), "v1");
    const before = await usage(b);
    openReceiver(b);
    await transfer(b, V2, 60, 1);
    costs.receiverActive = (await usage(b)) - before;
    await transfer(b, V2);
    assert.deepEqual(await req(b, { op: "commit" }), { v: "2.0.0", reboot: 1 });
    costs.receiverAfterCommit = (await usage(b)) - before;
    const m2 = b.mark();
    assert.equal(await install(b), "v2");
    assert.ok(await b.waitFor(() => b.since(m2).includes('CONFIRMED {"v":"2.0.0"}'), 5000), "v2 confirms: " + b.since(m2).join(" | "));
    assert.deepEqual(await b.query('require("Storage").readJSON("jmqt.res")'), { ok: 1, v: "2.0.0" });
    const m3 = b.mark();
    assert.equal(await powerCycle(b), "v2", "after the confirm v2 boots for good");
    assert.ok(await b.waitFor(() => b.since(m3).includes("CONFIRMED {}"), 5000), b.since(m3).join(" | "));
  });

  it("a v2 that never confirms: the guard's timer reboots it and the next boot is v1, with the reason", async () => {
    const b = await board();
    openReceiver(b);
    await transfer(b, V2_SILENT, 2);
    assert.equal((await req(b, { op: "commit" })).reboot, 1);
    assert.equal(await install(b), "s2", "the silent v2");
    const trialUsage = await usage(b);
    // the guard's timer (2 s) calls E.reboot(): the board boots again by itself
    assert.equal(await nextBoot(b, b.boots, b.mark(), 8000), "v1");
    assert.equal(b.resets[b.resets.length - 1].reason, "software", "E.reboot() from the guard's timer");
    assert.deepEqual(await b.query('require("Storage").readJSON("jmqt.res")'), { ok: 0, v: "2.0.0", err: "not confirmed in time: rolled back" });
    costs.guardDuringTrial = trialUsage - (await usage(b));
  });

  it("killed mid-transfer: v1 boots, the staging is dropped by the next begin", async () => {
    const b = await board();
    openReceiver(b);
    await transfer(b, V2, 60, 2);
    assert.equal(await powerCycle(b), "v1");
    openReceiver(b);
    await transfer(b, V2);
    assert.equal((await req(b, { op: "commit" })).reboot, 1);
    assert.equal(await install(b), "v2");
  });

  for (const cut of [
    { what: "after the marker is written", cond: 'n==="jmqt.ota"' },
    { what: "in the middle of copying v2 to .bootcde", cond: 'n===".bootcde"&&o===1024' },
    { what: "after v2 is verified and jmqt.try is written", cond: 'n==="jmqt.try"', v2: 1 },
  ] as { what: string; cond: string; v2?: number }[]) {
    it(`killed mid-install (${cut.what}): ${cut.v2 ? "v2 boots on trial" : "the guard restores v1"}`, async () => {
      const b = await board();
      // a Storage that hangs at the chosen write, after doing it; the test then kills the interpreter
      b.eval(`S0=require("Storage");SW={read:S0.read,erase:S0.erase,getFree:S0.getFree,write:function(n,d,o,z){var r=S0.write(n,d,o,z);if(${cut.cond}){print("HANG");while(1);}return r;}}`);
      openReceiver(b, "SW");
      await transfer(b, V2);
      const m = b.mark();
      b.eval('H({op:"commit"});H({op:"install"})');
      assert.ok(await b.waitFor(() => b.since(m).includes("HANG"), 5000), "the install reached the cut: " + b.since(m).join(" | "));
      const m2 = b.mark();
      const fw = await powerCycle(b);
      if (cut.v2) {
        // the install was complete: v2 boots on trial (and this v2 confirms)
        assert.equal(fw, "v2");
        assert.ok(await b.waitFor(() => b.since(m2).includes('CONFIRMED {"v":"2.0.0"}'), 5000), b.since(m2).join(" | "));
        return;
      }
      assert.equal(fw, "v1");
      const res = await b.query('require("Storage").readJSON("jmqt.res")');
      assert.equal(res.ok, 0);
      assert.deepEqual(await b.query('require("Storage").list().filter(function(f){return f.indexOf("jmqt.")===0;}).sort()'), ["jmqt.otr", "jmqt.prev", "jmqt.res"]);
    });
  }

  it("idle cost: the guard holds no block on a booted board (the Storage module aside)", async () => {
    const idle = async (withGuard: boolean, v1: string) => {
      const b = await board(withGuard, v1);
      const u = await usage(b);
      await b.stop();
      return u;
    };
    // the firmware reads jmqt.json at boot, so require("Storage") (6 blocks, cached by the
    // interpreter) is spent with or without the guard; a firmware that never touches Storage pays it for the guard
    const V1_READS = 'require("Storage").read("jmqt.json");' + V1;
    costs.idle = (await idle(true, V1_READS)) - (await idle(false, V1_READS));
    costs.idleWithoutStorageUse = (await idle(true, V1)) - (await idle(false, V1));
    assert.equal(costs.idle, 0, `idle cost ${costs.idle} blocks`);
    assert.ok(costs.idleWithoutStorageUse <= 10);
  });
});
