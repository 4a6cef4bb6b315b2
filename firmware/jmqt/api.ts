// The JMQT client's public contract: what the runtime (and user firmware) may call.
// Implemented by client.ts; nothing here runs on its own.

/** Status codes of JMQT 1.0 (SPEC "Status codes") plus the client-local BUSY. */
export const ST_FAILED = 0;
export const ST_OK = 1;
export const ST_MALFORMED = 3;
export const ST_SERVER_ERROR = 5;
export const ST_INVALID_TOKEN = 6;
export const ST_NOT_ALLOWED = 7;
export const ST_CLIENT_OFFLINE = 8;
export const ST_NETWORK_ERROR = 9;
export const ST_INVALID_PACKET = 10;
export const ST_INVALID_CHANNEL = 11;
/** Client-local: the in-flight window or the outbound queue is full; nothing was queued. */
export const ST_BUSY = 12;

/** Session states (one state variable, SPEC "Behaviour/Session"). */
export const S_IDLE = 0;
export const S_CONNECTING = 1;
export const S_AUTHENTICATING = 2;
export const S_SESSION = 3;
export const S_READY = 4;
export const S_BACKOFF = 5;
/** Stopped retrying fast: connAck 6 with no auth data, or stop() was called. */
export const S_STOPPED = 6;

/** A socket event handler: called with `this` = the socket (see SocketLike). */
export type SocketHandler = (this: any, arg?: any) => void;

/**
 * The subset of Espruino's `net` module (and of Node's, through an adapter) the client uses.
 * Listeners are kept as Espruino keeps them: an event `e` calls the socket's `#on<e>` property,
 * one function or an array of them (Espruino's `on()` always makes the array; `net.connect()`
 * stores its callback as the one function). The client sets `#ondata`, `#onclose`, `#onerror` and
 * `#ondrain` itself, each to one function (`#onclose` and `#onerror` to the same: an error comes only
 * just before its close): 2 blocks fewer per listener than `on()`, 8 per connection (docs/memory.md). It owns those four: an adapter that wants to watch a socket does it
 * below the socket. (Not with `on()`: before the client sets them it would be overwritten, and after
 * it Espruino's `on()` copies the function's internals instead of the function, which is then never
 * called again: measured, fidelity corpus `emit.direct.thenOn`. So E's and Wifi's events, which other
 * code may listen to as well, keep `on()`.)
 * The `this` contract (Espruino's, and Node EventEmitter's): every handler, and the `onConnect`
 * given to `connect()`, is called with `this` = the very socket object that `connect()` returned,
 * and never before `connect()` has returned. The client relies on it: it registers the same
 * module-level handlers for every connection and finds itself through a property it sets on the
 * socket (`client_`), so that no function is created per connection and events from an old socket
 * are told apart from those of the current one.
 */
export interface SocketLike {
  /** the callback given to connect(), as Espruino's net.connect() keeps it: the client's deletes it once it has run */
  "#onconnect"?: SocketHandler;
  "#ondata"?: SocketHandler | SocketHandler[];
  "#onclose"?: SocketHandler | SocketHandler[];
  "#onerror"?: SocketHandler | SocketHandler[];
  "#ondrain"?: SocketHandler | SocketHandler[];
  write(data: string): boolean;
  end(): void;
}
export interface NetLike {
  connect(opts: { host: string; port: number }, onConnect: (this: any) => void): SocketLike;
}

export interface ClientOptions {
  host: string;
  port: number;
  /** client id and token for `conn`; filled in by `auth` when `auth` is given */
  cl?: string;
  at?: string;
  /** `dt` of the `auth` packet; when set, the client authenticates before `conn` */
  auth?: any;
  /** largest inbound frame in bytes (boards/*.json defaults.maxFrame) */
  maxFrame: number;
  /** QoS 1 messages awaiting pubAck at once (boards/*.json defaults.inflight) */
  inflight: number;
  /** packets waiting for the socket to drain (boards/*.json defaults.outQueue) */
  outQueue: number;
  /**
   * bytes written between two `drain` events before frames wait in the queue (boards/*.json
   * defaults.writeWindow; default 1536, the ESP8266's). Espruino holds unsent socket data in its variable
   * blocks, so this bounds what a burst costs in RAM.
   */
  writeWindow?: number;
  /**
   * largest estimated JSON.parse cost of an inbound frame, in blocks (boards/*.json
   * defaults.maxParse; absent: no bound). Heavier frames are refused and counted in `heavy`.
   */
  maxParse?: number;
  /** recent inbound QoS 1 ids remembered to drop redeliveries (boards/*.json defaults.dedup) */
  dedup: number;
  /** ms to wait for connAck/authAck (default 10000) */
  connMs?: number;
  /** ms to wait for pubAck before resending / for a control request (default 10000) */
  ackMs?: number;
  /** resends of one QoS 1 message before giving up with status 9 (default 5) */
  retries?: number;
  /** backoff bounds in ms (defaults 1000 and 60000); reset after stableMs (default 30000) of READY */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  stableMs?: number;
  /** channels remembered for resubscription after a reconnect, and pending sub/unsub acks (default 16) */
  maxSubs?: number;
  /**
   * 1: the client sets no timer of its own; its owner calls tick(client) at least once a second
   * (the device runtime's tick does), and the session's deadlines (heartbeat, dead link, acks,
   * connect timeout, backoff) are met to within that period. On the board one interval then
   * serves the whole device: a timer is 8 blocks (measured on espruino-esp8266), and re-arming
   * one for every QoS 1 pub costs time. Absent: the client's own timer, armed for its next deadline.
   */
  polled?: number;
}

/** Callback for pub/sub/unsub/request results: status code, then data (pubAck dt, channel...). */
export type StatusCb = (st: number, dt?: any) => void;

/** What the client counted. All but fi and fo are absent while 0 (each property costs the board a
 *  block; the status command's `c` reports every one, with its zeros). */
export interface Counters {
  fi: number; // frames in
  fo: number; // frames out
  bad?: number; // frames that did not decode
  big?: number; // oversize frames dropped while streaming
  heavy?: number; // frames refused before parsing: too many values or containers (maxParse)
  rc?: number; // reconnects
  qd?: number; // publish calls refused because the window/queue was full
}

export interface Client {
  state: number;
  /** client id in use (from options or authAck) */
  cl: string;
  counters: Counters;
  /** why the last bad frame was refused or a callback threw ("" when nothing happened yet) */
  err?: string;
  /** delivered once per message; rt is 1 for retained pushes */
  onPush: ((cn: string, dt: any, from: string, rt: number) => void) | null;
  /**
   * A QoS 1 push delivered before comes again (same id): its pushAck, and whatever the handler
   * sent with it, may never have arrived. Called instead of onPush (null: redeliveries are only
   * acked). The runtime answers a repeated command from its reply cache instead of running it twice.
   */
  onRepeat?: ((cn: string, dt: any, from: string) => void) | null;
  /** every state change; st is the status that caused it when there is one */
  onState: ((state: number, st: number) => void) | null;
  /** returns ST_OK when accepted (sent or queued), else the reason at once (ST_BUSY, ST_NETWORK_ERROR when not ready and q=0, ST_INVALID_CHANNEL) */
  pub(cn: string, dt: any, q: number, rt: number, cb?: StatusCb | null): number;
  // The rest are functions over the client in client.ts, not methods, so that the board keeps
  // the seldom-run ones in flash (a method is resident, 3-5 blocks each, measured) and a bundle
  // that does not call one does not hold it: start(client) (does nothing when the options gave
  // no host: a device configured without a server), stop(client, cb) (disconn, close,
  // timers cleared; cb when closed), sub(client, cn, pr, cb), unsub(client, cn, cb),
  // p2p(client, id, dt, q, cb) and request(client, cn, dt, cb).
}
