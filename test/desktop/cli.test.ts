// The jmqt CLI as a user runs it (`node bin/jmqt.js ...`), against a broker and a simulated
// device started here on 127.0.0.1 ephemeral ports: outputs and exit codes.
import { strict as assert } from "node:assert";
import { closedPort, runCli, startDeviceRig, TOKEN, waitFor, type DeviceRig } from "./helpers";

describe("desktop: jmqt CLI against a broker and a simulated device", function () {
  this.timeout(60000);
  let rig: DeviceRig;
  let port: string;
  let dev: string;

  before(async () => {
    rig = await startDeviceRig();
    port = String(rig.broker.port);
    dev = rig.config.id;
  });
  after(async () => {
    if (rig) await rig.stop();
  });

  it("cmd ping gets the device's reply and exits 0", async () => {
    const r = await runCli(["cmd", dev, "ping", "--port", port, "--id", "admin"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${dev}: ping ok`));
  });

  it("--json prints the reply as one JSON document", async () => {
    const r = await runCli(["status", dev, "--port", port, "--id", "admin", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout.trim());
    assert.equal(reply.ok, 1);
    assert.equal(typeof reply.re, "string");
    assert.equal(typeof reply.up, "number");
  });

  it("set switches the simulated LED; get reads it back", async () => {
    const ledPin = rig.config.outputs.find((o: any) => o.name === "led").pin;
    const on = await runCli(["cmd", dev, "set", "target=led", "value=1", "--port", port, "--id", "admin"]);
    assert.equal(on.code, 0, on.stderr);
    assert.equal(Number(rig.sim.output(ledPin)), 1);
    const get = await runCli(["cmd", dev, "get", "target=led", "--port", port, "--id", "admin", "--json"]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout).ok, 1);
    const off = await runCli(["cmd", dev, "set", "target=led", "value=0", "--port", port, "--id", "admin"]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(Number(rig.sim.output(ledPin)), 0);
  });

  it("an unknown command gets the device's error reply and a non-zero exit", async () => {
    const r = await runCli(["cmd", dev, "frobnicate", "--port", port, "--id", "admin"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: .*frobnicate/);
    const j = await runCli(["cmd", dev, "frobnicate", "--port", port, "--id", "admin", "--json"]);
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.stdout).ok, 0);
  });

  it("a sender not on the device's allow list is refused (exit 1)", async () => {
    const r = await runCli(["cmd", dev, "ping", "--port", port, "--id", "stranger"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not allowed/);
  });

  it("a device that is not connected: clear error, exit 1", async () => {
    const r = await runCli(["cmd", "no-such-device", "ping", "--port", port, "--id", "admin"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not connected/);
  });

  it("pub reaches a sub running in another process", async () => {
    const sub = runCli(["sub", "desk/test", "--port", port, "--json", "--count", "1"]);
    // wait until the subscriber has its session and subscription before publishing
    const deadline = Date.now() + 10000;
    let published = false;
    while (!published && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      if (rig.broker.clients().some((c) => c.startsWith("jmqt-cli-"))) {
        await new Promise((r) => setTimeout(r, 300));
        const p = await runCli(["pub", "desk/test", '{"t":21.5}', "--q", "1", "--port", port]);
        assert.equal(p.code, 0, p.stderr);
        published = true;
      }
    }
    const s = await sub;
    assert.equal(s.code, 0, s.stderr);
    const msg = JSON.parse(s.stdout.trim().split("\n")[0]);
    assert.equal(msg.cn, "desk/test");
    assert.deepEqual(msg.dt, { t: 21.5 });
  });

  it("no reply within --timeout: exit 5", async () => {
    // a client that is connected but never answers commands
    const silent = runCli(["sub", "nothing/here", "--port", port, "--id", "silent"]);
    try {
      const deadline = Date.now() + 10000;
      while (!rig.broker.clients().includes("silent") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const r = await runCli(["cmd", "silent", "ping", "--port", port, "--timeout", "800"]);
      assert.equal(r.code, 5);
      assert.match(r.stderr, /timed out after 800 ms \(no reply\)/);
    } finally {
      silent.child.kill("SIGINT");
      assert.equal((await silent).code, 0, "sub ends cleanly on SIGINT");
    }
  });

  it("a wrong port: clear 'cannot reach' error with the errno, exit 3", async () => {
    const r = await runCli(["cmd", dev, "ping", "--port", String(await closedPort()), "--timeout", "3000"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot reach a JMQT server at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("a refused token: clear error, exit 4", async () => {
    const r = await runCli(["cmd", dev, "ping", "--port", port, "--id", "admin", "--token", TOKEN + "-wrong"]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /refused the token/);
  });

  it("a bad argument prints usage and exits 2", async () => {
    const r = await runCli(["cmd", dev]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: jmqt/);
    const f = await runCli(["sub", "x", "--port", "notaport"]);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /--port must be an integer/);
  });
});

describe("desktop: jmqt broker", function () {
  this.timeout(30000);
  it("runs the broker alone; pub/sub through it; SIGINT ends it with exit 0", async () => {
    const b = runCli(["broker", "--port", "0", "--json"], 25000);
    await waitFor(() => /"ready":1/.test(b.live.stdout), 10000, "the broker's ready line");
    const port = Number(JSON.parse(b.live.stdout.trim().split("\n")[0]).port);
    assert.ok(port > 0, "the broker printed its port");
    const r = await runCli(["pub", "a/b", "x", "--q", "1", "--port", String(port)]);
    assert.equal(r.code, 0, r.stderr);
    b.child.kill("SIGINT");
    assert.equal((await b).code, 0);
  });
});
