// A fake NetLike whose sockets the test drives by hand (no I/O, works under sinon fake timers).
// Like Espruino, it calls every handler (and onConnect) with this = the socket.
import { strict as assert } from "node:assert";
import type sinon from "sinon";
import { S_READY } from "../../firmware/jmqt/api";
import type { Client, ClientOptions, NetLike, SocketHandler, SocketLike } from "../../firmware/jmqt/api";
import { listenersOf } from "../../sim/net";

export interface Sent {
  type: string;
  body: any;
}

export class FakeSocket implements SocketLike {
  written: string[] = [];
  /** what write() returns: false, as Espruino's socket.write() does on every call */
  writeResult = false;
  ended = false;
  closed = false;
  /** emit close synchronously from end(), like a socket that closes at once */
  closeOnEnd = true;
  constructor(public onConnect: (this: any) => void, public opts: { host: string; port: number }) {}
  /** the listeners of an event, from `#on<event>` as Espruino keeps them (api.ts SocketLike) */
  handlers(event: string): SocketHandler[] {
    return listenersOf(this, event);
  }
  emit(event: string, arg?: any): void {
    for (const fn of this.handlers(event)) fn.call(this, arg);
  }
  write(data: string): boolean {
    if (this.closed) return false;
    this.written.push(data);
    return this.writeResult;
  }
  end(): void {
    this.ended = true;
    if (this.closeOnEnd) this.close();
  }
  /** the peer (or the network) closes the socket */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close");
  }
  connect(): void {
    this.onConnect.call(this);
  }
  /** deliver server packets, each NUL-terminated, as one chunk */
  recv(...packets: (string | object)[]): void {
    this.emit("data", packets.map((p) => (typeof p === "string" ? p : JSON.stringify(p)) + "\0").join(""));
  }
  /** every frame written so far, decoded */
  sent(): Sent[] {
    const out: Sent[] = [];
    for (const chunk of this.written) {
      for (const f of chunk.split("\0")) {
        if (!f) continue;
        const o = JSON.parse(f);
        const type = Object.keys(o)[0];
        out.push({ type, body: o[type] });
      }
    }
    return out;
  }
  sentOf(type: string): any[] {
    return this.sent()
      .filter((s) => s.type === type)
      .map((s) => s.body);
  }
}

export class FakeNet implements NetLike {
  sockets: FakeSocket[] = [];
  connect(opts: { host: string; port: number }, onConnect: (this: any) => void): FakeSocket {
    const s = new FakeSocket(onConnect, opts);
    this.sockets.push(s);
    return s;
  }
  get last(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }
}

/** Client options the session tests share: short timeouts, small bounds. */
export const SESSION_OPTIONS: ClientOptions = {
  host: "127.0.0.1", port: 8010, cl: "dev1", at: "tok",
  maxFrame: 1024, inflight: 4, outQueue: 4, dedup: 4, writeWindow: 65536,
  connMs: 5000, ackMs: 3000, retries: 2, minBackoffMs: 1000, maxBackoffMs: 8000, stableMs: 20000,
};

/** Ticks the fake clock through the backoff until the client opens a new socket, then brings it to READY. */
export function reconnectToReady(clock: sinon.SinonFakeTimers, net: FakeNet, c: Client, ts = 15): FakeSocket {
  const before = net.sockets.length;
  for (let t = 0; t < SESSION_OPTIONS.maxBackoffMs! && net.sockets.length === before; t += 10) clock.tick(10);
  assert.equal(net.sockets.length, before + 1, "a new socket after backoff");
  net.last.connect();
  net.last.recv({ connAck: { st: 1, ts } });
  assert.equal(c.state, S_READY);
  return net.last;
}
