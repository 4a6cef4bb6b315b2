import { strict as assert } from "node:assert";
import * as net from "node:net";
import { nodeNet } from "../../sim/net";

function echoServer(): Promise<net.Server> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => s.pipe(s));
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

describe("sim/net nodeNet()", () => {
  let srv: net.Server;
  beforeEach(async () => {
    srv = await echoServer();
  });
  afterEach(() => srv.close());

  it("round-trips latin1 strings (NUL and high bytes intact) in chunks of the set size", async () => {
    const port = (srv.address() as net.AddressInfo).port;
    const payload = '{"k":"é\u00ff"}\0{"k":2}\0';
    const chunks: string[] = [];
    let drains = 0;
    await new Promise<void>((resolve, reject) => {
      const sock = nodeNet({ chunkSize: 3 }).connect({ host: "127.0.0.1", port }, () => {
        assert.equal(sock.write(payload), false, "false on every call, like Espruino's socket.write()");
      });
      sock.on("data", (d: string) => {
        chunks.push(d);
        if (chunks.join("").length >= payload.length) sock.end();
      });
      sock.on("error", reject);
      sock.on("drain", () => drains++);
      sock.on("close", () => resolve());
    });
    assert.equal(chunks.join(""), payload);
    assert.equal(drains, 1, "one drain once the write had left");
    assert.ok(chunks.every((c) => typeof c === "string" && c.length <= 3));
  });

  it("reports error then close when nothing listens", async () => {
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      const sock = nodeNet().connect({ host: "127.0.0.1", port }, () => events.push("connect"));
      sock.on("error", () => events.push("error"));
      sock.on("close", () => {
        events.push("close");
        resolve();
      });
    });
    assert.deepEqual(events, ["error", "close"]);
    srv = net.createServer(); // afterEach closes something
  });

  it("an exception in a data handler does not kill the socket", async () => {
    const port = (srv.address() as net.AddressInfo).port;
    const got: string[] = [];
    const origErr = console.error;
    console.error = () => {};
    try {
      await new Promise<void>((resolve) => {
        const sock = nodeNet({ chunkSize: 1 }).connect({ host: "127.0.0.1", port }, () => sock.write("ab"));
        sock.on("data", (d: string) => {
          got.push(d);
          if (got.length === 1) throw new Error("boom");
          sock.end();
        });
        sock.on("close", () => resolve());
      });
    } finally {
      console.error = origErr;
    }
    assert.deepEqual(got, ["a", "b"]);
  });
});
