// A raw JMQT test peer: one real TCP socket to 127.0.0.1, NUL framing, a queue of received packets.
import * as net from "node:net";

export class Peer {
  readonly frames: any[] = [];
  readonly rawFrames: string[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      let nul: number;
      while ((nul = this.buf.indexOf(0)) >= 0) {
        const text = this.buf.subarray(0, nul).toString("utf8");
        this.buf = this.buf.subarray(nul + 1);
        this.rawFrames.push(text);
        this.frames.push(JSON.parse(text));
      }
      this.wake();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  static connect(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(new Peer(socket)));
      socket.once("error", reject);
    });
  }

  /** Writes a packet object (NUL added) or a raw string as-is. */
  send(packet: object | string): void {
    this.socket.write(typeof packet === "string" ? packet : JSON.stringify(packet) + "\0");
  }

  /** Resolves with the next received packet; rejects after `ms` (a failure guard, not a timing assertion). */
  next(ms = 3000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.frames.length > 0) {
          resolve(this.frames.shift());
          return true;
        }
        if (this.closed) {
          reject(new Error("socket closed while waiting for a packet"));
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no packet within ${ms} ms`));
      }, ms);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
        }
      };
      this.waiters.push(waiter);
    });
  }

  /** Next packet of the given type, skipping (and returning in `skipped`) others. */
  async nextOf(type: string, ms = 3000, skipped: any[] = []): Promise<any> {
    for (;;) {
      const p = await this.next(ms);
      if (type in p) return p;
      skipped.push(p);
    }
  }

  /** Round trip that proves every earlier answer has arrived: hb → hbAck (connected peers only). */
  async sync(): Promise<any[]> {
    this.send({ hb: {} });
    const before: any[] = [];
    await this.nextOf("hbAck", 3000, before);
    return before;
  }

  whenClosed(ms = 3000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Connects a peer and opens a session with the broker's static token; consumes connAck. */
export async function connected(port: number, cl: string, at = "test-token"): Promise<Peer> {
  const p = await Peer.connect(port);
  p.send({ conn: { at, cl } });
  const ack = await p.nextOf("connAck");
  if (ack.connAck.st !== 1) throw new Error(`connAck st ${ack.connAck.st}`);
  return p;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
