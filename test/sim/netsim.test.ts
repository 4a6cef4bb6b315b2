// require("net") inside the sim over real TCP to a local echo server on 127.0.0.1 (port 0), faults.
import { strict as assert } from "node:assert";
import * as net from "node:net";
import { SimBoard } from "../../sim";
import { RECEIVE_WINDOW } from "../../sim/hw/net";

// Connects after WiFi is up; records every socket event in `ev`.
const PROG = `
var ev = [], sock = null, got = "";
function open(host, port) {
  sock = require("net").connect({ host: host, port: port }, function () { ev.push("connect"); });
  sock.on("data", function (d) { got += d; ev.push("data:" + d.length); });
  sock.on("error", function (e) { ev.push("error:" + e.message); });
  sock.on("close", function () { ev.push("close"); });
}
require("Wifi").connect("ap", { password: "pw" }, function () {});
`;

describe("sim net", () => {
  let srv: net.Server;
  let port: number;
  let serverSockets: net.Socket[];
  let b: SimBoard;
  let received: string;
  beforeEach(async () => {
    serverSockets = [];
    received = "";
    srv = net.createServer((s) => {
      serverSockets.push(s);
      s.on("data", (d) => {
        received += d.toString("latin1");
        s.write(d);
      });
      s.on("error", () => {});
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    port = (srv.address() as net.AddressInfo).port;
  });
  afterEach(async () => {
    if (b) b.stop();
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  const evs = (): string[] => JSON.parse(b.eval("JSON.stringify(ev)"));

  async function connected(opts: { chunkSize?: number; clock?: "real" } = {}): Promise<SimBoard> {
    b = new SimBoard({ board: "esp32", code: PROG, wifi: { ssid: "ap", password: "pw" }, chunkSize: opts.chunkSize, clock: opts.clock });
    b.boot();
    await b.advance(2000);
    b.eval(`open("127.0.0.1", ${port})`);
    assert.ok(await b.runUntil(() => b.eval("ev.indexOf('connect') >= 0"), 1000), "connected");
    return b;
  }

  it("round-trips bytes (NUL and high bytes intact) delivered as strings in 1-char chunks", async () => {
    await connected({ chunkSize: 1 });
    const expect = '{"a":"é\u00ff"}\0{"b":2}\0';
    b.eval(`sock.write(${JSON.stringify(expect)})`);
    await b.advance(10);
    assert.equal(received, expect);
    assert.equal(b.eval("got"), expect);
    assert.ok(evs().filter((e) => e.startsWith("data:")).every((e) => e === "data:1"));
    assert.equal(b.eval("typeof got"), "string");
  });

  it("write() returns false every time and one drain event follows the writes of each pass (Espruino 2v29)", async () => {
    await connected();
    b.eval('var drains = 0; sock.on("drain", function () { drains++; });');
    assert.equal(b.eval('sock.write("a")'), false);
    assert.ok(await b.runUntil(() => b.eval("drains") === 1 && received === "a", 1000, 1), "a drain");
    assert.equal(b.eval('sock.write("b")'), false);
    assert.ok(await b.runUntil(() => b.eval("drains") === 2 && received === "ab", 1000, 1), "a second drain");
    // two writes in one pass: Espruino fires "drain" once its send buffer is empty, so once
    b.eval('sock.write("c"); sock.write("d")');
    assert.ok(await b.runUntil(() => received === "abcd", 1000, 1));
    await b.advance(20);
    assert.equal(b.eval("drains"), 3, "one drain for both");
  });

  it("hands a burst over one chunk per pass, the drain of what the device wrote before the next chunk (Espruino's idle loop)", async () => {
    await connected();
    b.eval('var order = []; sock.on("drain", function () { order.push("drain"); }); sock.on("data", function (d) { if (d.length < 536) return; order.push("data " + d.length); sock.write("r"); });');
    // (the server echoes: the device's "r"s come back as 1-character chunks, not recorded)
    serverSockets[0].write("x".repeat(536 * 3));
    assert.ok(await b.runUntil(() => b.eval("order.length") >= 6, 1000, 1));
    assert.deepEqual(JSON.parse(b.eval("JSON.stringify(order)")), ["data 536", "drain", "data 536", "drain", "data 536", "drain"]);
  });

  it("holds at most RECEIVE_WINDOW bytes the device has not taken: past it the sender is paused, and nothing is lost", async function () {
    this.timeout(30000);
    // on the real clock each pass (one chunk) is a Node timer: the network is far faster than the device
    await connected({ clock: "real" });
    b.eval('var n = 0; sock.on("data", function (d) { n += d.length; });');
    const big = "y".repeat(512 * 1024);
    serverSockets[0].write(big);
    let most = 0;
    assert.ok(await b.runUntil(() => {
      most = Math.max(most, b.receiveBacklog());
      return b.eval("n") >= big.length;
    }, 20000, 1), "all of it arrives");
    // (one Node read, up to 64 KB, can land before the pause takes effect)
    assert.ok(most <= RECEIVE_WINDOW + 65536, `held ${most} bytes at most`);
    assert.equal(b.eval("got").length, big.length, "nothing lost");
  });

  it("takes zero virtual time for a loopback round trip", async () => {
    await connected();
    const t0 = b.now();
    b.eval('sock.write("ping")');
    assert.ok(await b.runUntil(() => b.eval("got") === "ping", 1000, 1));
    assert.ok(b.now() - t0 <= 1);
  });

  it("slowLink delays both directions on virtual time", async () => {
    await connected();
    b.slowLink(200);
    const t0 = b.now();
    b.eval('sock.write("x")');
    assert.ok(await b.runUntil(() => b.eval("got") === "x", 2000, 10));
    assert.ok(b.now() - t0 >= 400, `took ${b.now() - t0} ms`);
  });

  it("resetConnections: the device sees error then close; the server sees the connection end", async () => {
    await connected();
    const serverClosed = new Promise<void>((r) => serverSockets[0].on("close", () => r()));
    b.resetConnections();
    await b.advance(10);
    assert.deepEqual(evs().slice(-2), ["error:connection reset", "close"]);
    await serverClosed;
    assert.equal(b.openSockets(), 0);
  });

  it("halfOpen: bytes stop both ways and nobody sees a close", async () => {
    await connected();
    b.halfOpen();
    assert.equal(b.eval('sock.write("lost")'), false, "Espruino: write() is false every time");
    serverSockets[0].write("also lost");
    await b.advance(5000);
    assert.equal(received, "");
    assert.equal(b.eval("got"), "");
    assert.ok(!evs().includes("close"));
    assert.equal(serverSockets[0].destroyed, false);
  });

  it("serverUnreachable: a new connection times out with an error", async () => {
    b = new SimBoard({ board: "esp32", code: PROG, wifi: { ssid: "ap", password: "pw" } });
    b.boot();
    await b.advance(2000);
    b.serverUnreachable(true);
    b.eval(`open("127.0.0.1", ${port})`);
    await b.advance(9000);
    assert.deepEqual(evs(), []);
    await b.advance(2000);
    assert.deepEqual(evs(), ["error:connection timed out", "close"]);
    assert.equal(serverSockets.length, 0);
  });

  it("a refused connection reports error then close; without WiFi the connect fails", async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    b = new SimBoard({ board: "esp8266", code: PROG, wifi: { ssid: "other", password: "pw" } });
    b.boot();
    b.eval(`open("127.0.0.1", ${port})`);
    await b.advance(500);
    assert.deepEqual(evs(), ["error:network unreachable", "close"]);
    b.stop();
    b = new SimBoard({ board: "esp8266", code: PROG, wifi: { ssid: "ap", password: "pw" } });
    b.boot();
    await b.advance(2000);
    b.eval(`open("127.0.0.1", ${deadPort})`);
    await b.advance(100);
    assert.deepEqual(evs(), ["error:connection refused", "close"]);
  });

  it("connects only to loopback unless resolve or allowRemote is given", async () => {
    b = new SimBoard({ board: "esp32", code: PROG, wifi: { ssid: "ap", password: "pw" } });
    b.boot();
    await b.advance(2000);
    b.eval('open("192.0.2.1", 8010)');
    await b.advance(500);
    assert.deepEqual(evs(), ["error:network unreachable", "close"]);
    assert.ok(b.console.some((l) => /192\.0\.2\.1:8010 refused/.test(l)));
    b.stop();
    b = new SimBoard({ board: "esp32", code: PROG, wifi: { ssid: "ap", password: "pw" }, resolve: () => ({ host: "127.0.0.1", port }) });
    b.boot();
    await b.advance(2000);
    b.eval('open("192.0.2.1", 8010)');
    assert.ok(await b.runUntil(() => evs().includes("connect"), 1000));
  });

  it("wifiDown kills the device's sockets without telling the server", async () => {
    await connected();
    b.wifiDown();
    await b.advance(10);
    assert.deepEqual(evs().slice(-2), ["error:connection reset", "close"]);
    assert.equal(serverSockets[0].destroyed, false);
  });
});
