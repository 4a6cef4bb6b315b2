// A NetLike (firmware/jmqt/api.ts) over node:net, for Node-side users (tests, desktop client).
// It behaves like Espruino's `net`: incoming data arrives as latin1 strings (one byte per char),
// optionally re-split into chunks of `chunkSize` characters; write() takes latin1 strings; every
// handler, and onConnect, runs with this = the NodeSocket connect() returned (api.ts SocketLike),
// and the handlers are its `#on<event>` properties, as Espruino keeps them.
// Like Espruino's, write() returns false every time and one `drain` follows once what was
// written has left (Espruino emits it when its send buffer is empty), so the JMQT client paces
// by `drain` alone on both.
import * as nodeNetModule from "node:net";
import type { ClientOptions, NetLike, SocketHandler, SocketLike } from "../firmware/jmqt/api";

export interface NodeNetOptions {
  /** deliver incoming data in chunks of at most this many characters (default: as Node delivers it) */
  chunkSize?: number;
  /** called for every socket opened (tests use it to inspect or destroy sockets) */
  onSocket?: (sock: nodeNetModule.Socket) => void;
}

/** The listeners of an event as Espruino keeps them on an object: its `#on<event>`, one function or an array of them (api.ts SocketLike). */
export function listenersOf(o: object, event: string): SocketHandler[] {
  const had = (o as any)["#on" + event] as SocketHandler | SocketHandler[] | undefined;
  return had === undefined ? [] : ([] as SocketHandler[]).concat(had);
}

/** One Espruino-like socket over a Node socket; events: data (string), close, error, drain. */
export class NodeSocket implements SocketLike {
  readonly raw: nodeNetModule.Socket;
  private closed = false;
  private drainDue = false;
  private chunkSize: number;

  constructor(raw: nodeNetModule.Socket, chunkSize: number, onConnect: SocketHandler) {
    this.raw = raw;
    this.chunkSize = chunkSize > 0 ? Math.floor(chunkSize) : 0;
    raw.setNoDelay(true);
    raw.on("connect", () => {
      try {
        onConnect.call(this);
      } catch (e) {
        this.emit("error", e);
      }
    });
    raw.on("data", (buf: Buffer) => this.deliver(buf.toString("latin1")));
    // Espruino reports an error and then closes; Node emits 'error' then 'close' the same way.
    raw.on("error", (err: Error) => this.emit("error", { code: (err as any).code, message: err.message }));
    raw.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      this.emit("close", false);
    });
  }

  /** one more listener in `#on<event>`, as Espruino's `on()` adds it (but keeping a function set there directly, which Espruino's loses) */
  on(event: string, fn: SocketHandler): void {
    (this as any)["#on" + event] = listenersOf(this, event).concat(fn);
  }

  write(data: string): boolean {
    if (this.closed || this.raw.destroyed) return false;
    this.raw.write(Buffer.from(String(data), "latin1"), () => {
      if (this.drainDue || this.raw.writableLength > 0) return;
      this.drainDue = true;
      setImmediate(() => {
        this.drainDue = false;
        if (!this.closed) this.emit("drain");
      });
    });
    return false;
  }

  end(): void {
    if (this.closed) return;
    this.raw.end();
    // Espruino closes at once; do not linger in half-closed state if the peer never answers.
    setTimeout(() => {
      if (!this.raw.destroyed) this.raw.destroy();
    }, 1000).unref();
  }

  private deliver(text: string): void {
    const n = this.chunkSize;
    if (!n || text.length <= n) {
      this.emit("data", text);
      return;
    }
    for (let i = 0; i < text.length; i += n) this.emit("data", text.substr(i, n));
  }

  private emit(event: string, arg?: any): void {
    for (const fn of listenersOf(this, event)) {
      try {
        fn.call(this, arg);
      } catch (e) {
        // like Espruino: an exception in an event callback is reported, the socket lives on
        console.error("Uncaught", e);
      }
    }
  }
}

/** A NetLike whose sockets are NodeSockets (their `on()` too). */
export interface NodeNet extends NetLike {
  connect(opts: { host: string; port: number }, onConnect: (this: any) => void): NodeSocket;
}

/** NetLike over node:net. Only connects to what it is told (tests use 127.0.0.1). */
export function nodeNet(opts: NodeNetOptions = {}): NodeNet {
  return {
    connect(o: { host: string; port: number }, onConnect: (this: any) => void): NodeSocket {
      const raw = nodeNetModule.connect({ host: o.host, port: o.port });
      const sock = new NodeSocket(raw, opts.chunkSize || 0, onConnect);
      if (opts.onSocket) opts.onSocket(raw);
      return sock;
    },
  };
}

/**
 * Client options for a desktop-side JMQT client (CLI, dashboard): with a token it connects as
 * `id`, without one it first sends `auth {"client_name": id}`; desktop-sized bounds.
 */
export function desktopClientOptions(host: string, port: number, id: string, token?: string): ClientOptions {
  return {
    host,
    port,
    cl: token ? id : undefined,
    at: token,
    auth: token ? undefined : { client_name: id },
    maxFrame: 65536,
    inflight: 16,
    outQueue: 256,
    dedup: 64,
  };
}
