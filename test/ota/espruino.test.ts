// OTA on the real interpreter (../shared/espruino/bin/espruino-esp8266, or $ESPRUINO_ESP8266):
// a directory is a board (Storage in ./espruino.flash), starting the interpreter again there is a
// reboot. The built .boot1 guard and jmqt.otr receiver go to Storage with a tiny v1 .bootcde;
// the receiver is then driven over the console the way the dispatcher will drive it, and the
// interpreter is restarted, or SIGKILLed mid-transfer and mid-install. Block costs are measured
// with process.memory() and printed.
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ESPRUINO, Interp, haveEspruino } from "./espruino";
import { chunks, crc, guardCode, receiverCode } from "./fakes";

const V1 = 'print("FW v1");';
const CONFIRM = 'print("CONFIRMED "+JSON.stringify(eval(require("Storage").read("jmqt.otr"))(require("Storage"))({op:"confirm"})));';
// filler keeps the bundles several chunks long (comments cost flash, not RAM)
const V2 = 'print("FW v2");' + CONFIRM + "/*" + "x".repeat(2000) + "*/";
const V2_SILENT = 'print("FW s2");' + "/*" + "y".repeat(1500) + "*/";

const costs: Record<string, number> = {};

describe("ota on the real Espruino interpreter (esp8266 build)", function () {
  this.timeout(30000);
  // the harness types uploads at the console, which the Linux build can mangle under load: a
  // test whose upload was mangled is run again (a firmware failure fails every try)
  this.retries(2);
  const dirs: string[] = [];
  const live: Interp[] = [];

  before(function () {
    if (!haveEspruino()) {
      console.log(`      skipped: no Espruino interpreter at ${ESPRUINO} (set ESPRUINO_ESP8266)`);
      this.skip();
    }
  });
  afterEach(async () => {
    for (const i of live.splice(0)) await i.kill();
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (Object.keys(costs).length) console.log("      blocks (esp8266, 12-byte blocks): " + JSON.stringify(costs));
  });

  function start(dir: string): Interp {
    const i = new Interp(dir);
    live.push(i);
    return i;
  }

  /** A fresh board: .boot1 (guard), jmqt.otr (receiver), .bootcde v1. */
  async function board(withGuard = true, v1 = V1): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), "ota-espruino-"));
    dirs.push(dir);
    const i = start(dir);
    await i.wait(/>/);
    // input that arrives while the interpreter starts up can be mangled: a moment first
    await new Promise((r) => setTimeout(r, 200));
    i.line("echo(0)");
    if (withGuard) await i.store(".boot1", guardCode());
    await i.store("jmqt.otr", receiverCode("esp8266"));
    await i.store(".bootcde", v1);
    assert.ok((await i.eval('require("Storage").list().length')) >= 2);
    await i.kill();
    return dir;
  }

  /** Boots the board in `dir` and waits for its firmware's banner. */
  async function boot(dir: string): Promise<{ i: Interp; fw: string }> {
    const i = start(dir);
    const m = await i.wait(/FW (v\d|s\d)/, 8000);
    await i.wait(/>/, 3000, m.index);
    i.line("echo(0)");
    return { i, fw: m[1] };
  }

  /** The receiver as the dispatcher holds it (H), and R(request) printing RE <result>. S may be a wrapped Storage. */
  function openReceiver(i: Interp, storage = 'require("Storage")'): void {
    i.line(`var H=eval(require("Storage").read("jmqt.otr"))(${storage}),R=function(a){print("RE "+JSON.stringify(H(a)))};`);
  }
  async function req(i: Interp, a: any): Promise<any> {
    const from = i.out.length;
    i.line(`R(${JSON.stringify(a)})`);
    const m = await i.wait(/RE (.*)\n/, 8000, from);
    return JSON.parse(m[1]);
  }
  /** What the dispatcher does ~1 s after the commit's reply: install, which ends in E.reboot()
   *  (on this build "Not implemented" and an exit: the harness boots it again). */
  async function install(i: Interp): Promise<void> {
    const from = i.out.length;
    i.line('R({op:"install"})');
    await i.wait(/Not implemented/, 10000, from).catch((e) => {
      if (i.exited === undefined) throw e;
    });
    await i.kill();
  }
  async function transfer(i: Interp, text: string, t = 60, upTo = Infinity): Promise<void> {
    // a begin again with the same bundle resumes where the open update is
    const b = await req(i, { op: "begin", size: text.length, crc: crc(text), v: "2.0.0", t });
    assert.deepEqual({ ...b, n: 0 }, { n: 0, cs: 512, m: Math.ceil(text.length / 512) });
    for (const c of chunks(text)) {
      if (c.n < b.n) continue;
      if (c.n >= upTo) return;
      assert.deepEqual(await req(i, { op: "chunk", ...c }), { n: c.n + 1 });
    }
  }

  it("v1 → v2: chunks over the console, commit, reboot → v2 runs and confirms; it stays v2", async () => {
    const dir = await board();
    let { i, fw } = await boot(dir);
    assert.equal(fw, "v1");
    const before = await i.eval("process.memory().usage");
    openReceiver(i);
    await transfer(i, V2, 60, 1);
    costs.receiverActive = (await i.eval("process.memory().usage")) - before;
    await transfer(i, V2);
    assert.deepEqual(await req(i, { op: "commit" }), { v: "2.0.0", reboot: 1 });
    costs.receiverAfterCommit = (await i.eval("process.memory().usage")) - before;
    await install(i);
    ({ i, fw } = await boot(dir));
    assert.equal(fw, "v2");
    await i.wait(/CONFIRMED \{"v":"2.0.0"\}/);
    assert.deepEqual(await i.eval('require("Storage").readJSON("jmqt.res")'), { ok: 1, v: "2.0.0" });
    await i.kill();
    ({ i, fw } = await boot(dir));
    assert.equal(fw, "v2", "after the confirm v2 boots for good");
    await i.wait(/CONFIRMED \{\}/);
  });

  it("a v2 that never confirms: the guard's timer reboots it and the next boot is v1, with the reason", async () => {
    const dir = await board();
    let { i } = await boot(dir);
    openReceiver(i);
    await transfer(i, V2_SILENT, 2);
    assert.equal((await req(i, { op: "commit" })).reboot, 1);
    await install(i);
    let fw: string;
    ({ i, fw } = await boot(dir));
    assert.equal(fw, "s2", "the silent v2");
    costs.guardDuringTrial = 0; // filled below against the v1 boot of the same board
    const trialUsage = await i.eval("process.memory().usage");
    await i.wait(/Not implemented/, 6000); // E.reboot() on Linux: the harness restarts it
    await i.kill();
    ({ i, fw } = await boot(dir));
    assert.equal(fw, "v1");
    assert.deepEqual(await i.eval('require("Storage").readJSON("jmqt.res")'), { ok: 0, v: "2.0.0", err: "not confirmed in time: rolled back" });
    costs.guardDuringTrial = trialUsage - (await i.eval("process.memory().usage"));
  });

  it("killed mid-transfer: v1 boots, the staging is dropped by the next begin", async () => {
    const dir = await board();
    let { i, fw } = await boot(dir);
    openReceiver(i);
    await transfer(i, V2, 60, 2);
    await i.kill();
    ({ i, fw } = await boot(dir));
    assert.equal(fw, "v1");
    openReceiver(i);
    await transfer(i, V2);
    assert.equal((await req(i, { op: "commit" })).reboot, 1);
    await install(i);
  });

  for (const cut of [
    { what: "after the marker is written", cond: 'n==="jmqt.ota"' },
    { what: "in the middle of copying v2 to .bootcde", cond: 'n===".bootcde"&&o===1024' },
    { what: "after v2 is verified and jmqt.try is written", cond: 'n==="jmqt.try"', v2: 1 },
  ] as { what: string; cond: string; v2?: number }[]) {
    it(`killed mid-install (${cut.what}): ${cut.v2 ? "v2 boots on trial" : "the guard restores v1"}`, async () => {
      const dir = await board();
      let { i, fw } = await boot(dir);
      // a Storage that hangs at the chosen write, after doing it; the test then SIGKILLs the interpreter
      i.line(`var S0=require("Storage");var SW={read:S0.read,erase:S0.erase,getFree:S0.getFree,write:function(n,d,o,z){var r=S0.write(n,d,o,z);if(${cut.cond}){print("HANG");while(1);}return r;}};`);
      openReceiver(i, "SW");
      await transfer(i, V2);
      const from = i.out.length;
      i.line('R({op:"commit"});R({op:"install"})');
      await i.wait(/HANG/, 5000, from);
      await i.kill();
      ({ i, fw } = await boot(dir));
      if (cut.v2) {
        // the install was complete: v2 boots on trial (and this v2 confirms)
        assert.equal(fw, "v2");
        await i.wait(/CONFIRMED \{"v":"2.0.0"\}/);
        return;
      }
      assert.equal(fw, "v1");
      const res = await i.eval('require("Storage").readJSON("jmqt.res")');
      assert.equal(res.ok, 0);
      assert.deepEqual(await i.eval('require("Storage").list().filter(function(f){return f.indexOf("jmqt.")===0;}).sort()'), ["jmqt.otr", "jmqt.prev", "jmqt.res"]);
    });
  }

  it("idle cost: the guard holds no block on a booted board (the Storage module aside)", async () => {
    const usage = async (withGuard: boolean, v1: string) => {
      const { i } = await boot(await board(withGuard, v1));
      const u = await i.eval("process.memory().usage");
      await i.kill();
      return u;
    };
    // the firmware reads jmqt.json at boot, so require("Storage") (6 blocks, cached by the
    // interpreter) is spent with or without the guard; a firmware that never touches Storage pays it for the guard
    const V1_READS = 'require("Storage").read("jmqt.json");' + V1;
    costs.idle = (await usage(true, V1_READS)) - (await usage(false, V1_READS));
    costs.idleWithoutStorageUse = (await usage(true, V1)) - (await usage(false, V1));
    assert.equal(costs.idle, 0, `idle cost ${costs.idle} blocks`);
    assert.ok(costs.idleWithoutStorageUse <= 10);
  });
});
