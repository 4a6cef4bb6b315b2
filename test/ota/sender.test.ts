// `jmqt ota` / sim/ota-sender.ts against a fake device (the built receiver and guard on a fake
// Storage, firmware/jmqt's client) over the real broker on loopback.
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "../../firmware/jmqt/api";
import { S_READY } from "../../firmware/jmqt/api";
import { createClient, start, stop } from "../../firmware/jmqt/client";
import { startBroker, type Broker } from "../../sim/broker/index";
import { desktopClientOptions, nodeNet } from "../../sim/net";
import { progressBar, sendOta, type OtaOptions } from "../../sim/ota-sender";
import { runCli, waitFor } from "../desktop/helpers";
import { FakeDevice, fw } from "./fake-device";

const TOKEN = "ota-test-token";

describe("jmqt ota: sender against a fake device over the broker", function () {
  this.timeout(60000);
  let broker: Broker;
  const devices: FakeDevice[] = [];
  const clients: Client[] = [];

  before(async () => {
    broker = await startBroker({ host: "127.0.0.1", port: 0, token: TOKEN, announce: false } as any);
  });
  afterEach(() => {
    for (const d of devices.splice(0)) d.stop();
    for (const c of clients.splice(0)) stop(c);
  });
  after(async () => {
    await broker.close();
  });

  async function device(id: string, firmware: string, extra: any = {}): Promise<FakeDevice> {
    const d = new FakeDevice({ id, port: broker.port, token: TOKEN, ...extra }, firmware);
    devices.push(d);
    d.boot();
    await waitFor(() => broker.clients().includes(id), 5000, id + " online");
    return d;
  }

  async function sender(id = "admin"): Promise<Client> {
    const c = createClient(nodeNet(), desktopClientOptions("127.0.0.1", broker.port, id));
    clients.push(c);
    start(c);
    await waitFor(() => c.state === S_READY, 5000, "sender session");
    return c;
  }

  const opts = (device: string, bundle: string, version: string, more: Partial<OtaOptions> = {}): OtaOptions => ({ device, bundle, version, ackMs: 1000, trial: 2, backMs: 15000, ...more });

  it("v1 → v2: chunks, commit, reboot, confirm; the device reports v2", async () => {
    const d = await device("dev-a", fw("1.0.0"));
    const seen: string[] = [];
    const r = await sendOta(await sender(), opts("dev-a", fw("2.0.0"), "2.0.0", { progress: (a, b, p) => seen.push(`${p} ${a}/${b}`) }));
    assert.ok(r.ok, r.message);
    assert.equal(r.fw, "2.0.0");
    assert.equal(d.fw, "2.0.0");
    assert.equal(d.S.read(".bootcde"), fw("2.0.0"));
    assert.equal(d.S.read("jmqt.prev"), fw("1.0.0"));
    assert.ok(seen.includes(`send ${fw("2.0.0").length}/${fw("2.0.0").length}`) && seen.includes(`wait ${fw("2.0.0").length}/${fw("2.0.0").length}`), seen.join());
    assert.deepEqual(JSON.parse(d.S.read("jmqt.res")!), { ok: 1, v: "2.0.0" });
  });

  it("a corrupted chunk is refused and sent again; a chunk with no answer is resent", async () => {
    const d = await device("dev-b", fw("1.0.0"), { corrupt: [1], drop: [2] });
    const r = await sendOta(await sender(), opts("dev-b", fw("2.0.0"), "2.0.0"));
    assert.ok(r.ok, r.message);
    assert.ok(r.resent >= 2, "resent " + r.resent);
    assert.equal(d.fw, "2.0.0");
  });

  it("a v2 that never confirms is rolled back: the sender fails with the device's reason", async () => {
    const d = await device("dev-c", fw("1.0.0"));
    const r = await sendOta(await sender(), opts("dev-c", fw("2.0.0", { silent: 1 }), "2.0.0"));
    assert.equal(r.ok, false);
    assert.match(r.message, /dev-c rolled back: not confirmed in time: rolled back \(it runs 1\.0\.0\)/);
    assert.equal(d.fw, "1.0.0");
    assert.ok(d.log.some((l) => /fw 2\.0\.0/.test(l)), "v2 did boot once: " + d.log.join("; "));
  });

  it("a v2 that throws at boot is rolled back", async () => {
    const d = await device("dev-d", fw("1.0.0"));
    const r = await sendOta(await sender(), opts("dev-d", 'throw new Error("boom");', "2.0.0"));
    assert.equal(r.ok, false, r.message);
    assert.match(r.message, /rolled back: not confirmed in time/);
    assert.equal(d.fw, "1.0.0");
    assert.ok(d.log.some((l) => /crashed: boom/.test(l)));
  });

  it("refusals end with the device's reason: too big, a sender not on the allow list", async () => {
    const d = await device("dev-e", fw("1.0.0"));
    const big = await sendOta(await sender(), opts("dev-e", "x".repeat(200000), "3.0.0"));
    assert.equal(big.ok, false);
    assert.match(big.message, /dev-e refused begin: no room in Storage/);
    const stranger = await sendOta(await sender("stranger"), opts("dev-e", fw("2.0.0"), "2.0.0"));
    assert.equal(stranger.ok, false);
    assert.match(stranger.message, /refused begin: not allowed/);
    assert.equal(d.fw, "1.0.0");
    const gone = await sendOta(await sender(), opts("no-such-device", fw("2.0.0"), "2.0.0", { tries: 1 }));
    assert.match(gone.message, /not connected/);
  });

  it("the CLI: `jmqt ota <device> <bundle.js> --id admin` prints progress on stderr and exits 0; a rollback exits 1", async () => {
    await device("dev-f", fw("1.0.0"));
    const dir = mkdtempSync(join(tmpdir(), "ota-cli-"));
    writeFileSync(join(dir, "v2.js"), fw("2.0.0"), "latin1");
    writeFileSync(join(dir, "v3.js"), fw("3.0.0", { silent: 1 }), "latin1");
    const port = String(broker.port);
    const ok = await runCli(["ota", "dev-f", join(dir, "v2.js"), "--fw", "2.0.0", "--trial", "2", "--port", port, "--id", "admin"], 30000);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /dev-f runs 2\.0\.0/);
    assert.match(ok.stderr, /ota: 100% \(\d+\/\d+ bytes\)/);
    assert.match(ok.stderr, /waiting for the device to come back/);
    const bad = await runCli(["ota", "dev-f", join(dir, "v3.js"), "--fw", "3.0.0", "--trial", "2", "--port", port, "--id", "admin"], 30000);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /error: dev-f rolled back: not confirmed in time/);
    const usage = await runCli(["ota", "dev-f", join(dir, "missing.js"), "--port", port]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /cannot read/);
  });

  it("progress bar: one rewritten line on a TTY, a line per 10 % otherwise", () => {
    let tty = "";
    const t = progressBar((s) => (tty += s), true);
    t(512, 1024, "send");
    t(1024, 1024, "send");
    assert.match(tty, /^\r\[#{15}-{15}\]  50% 512\/1024 bytes\x1b\[K\r\[#{30}\] 100% 1024\/1024 bytes/);
    let plain = "";
    const p = progressBar((s) => (plain += s), false);
    for (let b = 0; b <= 1024; b += 64) p(b, 1024, "send");
    p(1024, 1024, "commit");
    assert.equal(plain.split("\n").filter((l) => /^ota: \d+%/.test(l)).length, 11);
    assert.match(plain, /committing/);
  });
});
