// The JMQT 1.0 session for the board (docs/protocol.md): socket chunks -> feedChunk -> decode ->
// one handler per packet type. One state variable (S_*), one write choke point (send), ONE timer
// (tick) that serves every deadline of the current state: connect/auth/connAck timeout, backoff,
// heartbeat, dead link and QoS 1 ack timeouts.
// Built for Espruino's memory (docs/memory.md): every function object costs the board about 5
// blocks plus one per parameter, and every stored property one block (plus one for a float or an
// integer outside -1024..1023). So the client is one object whose private fields (`_`) the build
// shortens, fixed options are literals unless a caller overrides them, pending QoS 1 entries are
// small arrays, and nothing is created per packet except the packet itself. Socket events go to
// module-level handlers, the same function objects for every connection: they run with this = the
// socket (api.ts SocketLike) and find the client through the socket's `client_` property.
import {
  S_AUTHENTICATING, S_BACKOFF, S_CONNECTING, S_IDLE, S_READY, S_SESSION, S_STOPPED,
  ST_BUSY, ST_INVALID_CHANNEL, ST_INVALID_TOKEN, ST_NETWORK_ERROR, ST_OK, ST_SERVER_ERROR,
} from "./api";
import type { Client, ClientOptions, Counters, NetLike, SocketLike, StatusCb } from "./api";
import { feedChunk, FrameBound } from "./framer";
import type { FrameState } from "./framer";
import { decode, encode, T_AUTHACK, T_CONNACK, T_HBACK, T_PUBACK, T_PUSH, T_SUBACK, T_UNSUBACK } from "./codec";
import type { Decoded } from "./codec";

/**
 * A QoS 1 pub or a `$` request waiting for its pubAck:
 * [id, encoded frame (resent as is, same id), callback, resends so far (-1 for a request,
 * which is never resent), deadline of the current send (0: not sent in this session)].
 */
export type Pending = [string, string, StatusCb | null | undefined, number, number];

/** The client's internal state: the public Client, the framing state and the decode holder. */
export interface JmqtClient extends Client, FrameState, Decoded {
  counters: Counters;
  net_: NetLike;
  /** the server: the client itself is the options object of net.connect (Espruino keeps it on the
   *  socket as `opt`; the other keys it reads there are never the client's: tools/gate.ts
   *  NET_OPTION_KEYS). A {host, port} object of its own measured 2 blocks more; one made per
   *  connection 3 (the socket's copy beside the client's host and port). */
  host: string;
  port: number;
  /** `dt` of the auth packet (absent: no auth) and the token for conn */
  auth_?: any;
  token_: string;
  socket_: ClientSocket | null;
  /** the one timer (0 while none is set; absent when the client is polled, ClientOptions.polled:
   *  the owner calls tick, and no flag says so, a block less), and the deadline of the
   *  state: the connect timeout of CONNECTING/AUTHENTICATING/SESSION, the retry of BACKOFF (0:
   *  now), and in READY the time from which the session counts as stable (stableMs: a lost link
   *  then backs off from the minimum again) */
  timer_?: any;
  deadline_: number;
  /** time of the last inbound frame, of the last hb sent */
  lastIn_: number;
  lastHb_: number;
  /** the dead-link limit in seconds, from connAck ts, at least 2 (a whole number up to 1023 costs no
   *  block of its own, the same in ms does); the hb period is deadS_ - 2, at least 1 */
  deadS_: number;
  /** re-auth already tried on this connection; next backoff in ms; closes still expected from
   *  sockets ended here (the flag and the count absent while 0: a stored property costs a block) */
  reauthed_?: number;
  backoff_: number;
  staleCloses_?: number;
  /** in-flight window (QoS 1 pubs and `$` requests; absent while empty: an empty array costs 2
   *  blocks) and the last pub id */
  window_?: Pending[];
  lastId_: number;
  /** channel -> pr (bit 0) | SENT (sent in this session); at most maxSubs (counted by sub) */
  subs_: { [cn: string]: number };
  /** "s"/"u" + channel -> callback awaiting subAck/unsubAck; their count (both absent while none waits) */
  acks_?: { [k: string]: StatusCb };
  ackCount_?: number;
  /** the recent inbound QoS 1 ids, oldest first, at most dedup (no stored next slot: a block) */
  recent_: string[];
  /** frames waiting for the socket to drain; bytes written since the last drain */
  queue_: string[];
  written_: number;
  /** 1 when a QoS 1 push of this session was refused (not acknowledged): see tick() */
  owed_?: number;
  /** 1 while a subscription or a QoS 1 pub of this session waits to be sent (a full queue
   *  refused it): the next drain calls resume(); absent otherwise */
  unsent_?: number;
  /** stop() callback, run on the close of the socket it ended */
  stopCb_?: (() => void) | null;
  /** while a QoS 1 push is handled: the q0 pubs its handler sent (a command's reply), to leave with
   *  the pushAck in one write (clientPub adds to it, ackPush sends it) */
  batch_?: string | null;
  /** limits from the options (boards/*.json defaults), set only when they are not the ESP8266's (Default) */
  inflight_?: number;
  queueMax_?: number;
  writeWindow_?: number;
  dedup_?: number;
  /** set only when the options override the default (a stored property costs a block; a literal nothing) */
  connMs_?: number;
  ackMs_?: number;
  retries_?: number;
  minBackoff_?: number;
  maxBackoff_?: number;
  stableMs_?: number;
  maxSubs_?: number;
}

/** A socket the client opened: `client_` leads its event handlers back to the client. */
export interface ClientSocket extends SocketLike {
  client_?: JmqtClient;
}

/** subs_ bit: the sub was sent in this session */
const SENT = 2;

/** Defaults of the options a board does not set (api.ts ClientOptions): a const enum, so each is a literal in the code (a top-level const measured 2 blocks). */
const enum Default {
  ConnMs = 10000,
  AckMs = 10000,
  Retries = 5,
  MinBackoffMs = 1000,
  MaxBackoffMs = 60000,
  StableMs = 30000,
  MaxSubs = 16,
  /** no inbound frame for this long: a flood is over (owed pushes, see tick) */
  QuietMs = 500,
  // The limits of boards/esp8266.json (defaults), the smallest board: that board stores none of
  // them (4 properties, 5 blocks: 1536 is outside -1024..1023, measured), a larger one all
  // (test/jmqt/session.test.ts checks they are the board file's). Read written out as
  // `(c.inflight_ || Default.Inflight)`: none of them is 0.
  Inflight = 4,
  OutQueue = 8,
  WriteWindow = 1536,
  Dedup = 8,
}

/** Runs an application callback; what it throws is kept in err and goes no further. */
function safe(c: JmqtClient, fn: any, a?: any, b?: any): void {
  if (!fn) return;
  try {
    fn(a, b);
  } catch (x) {
    c.err = "callback: " + x;
  }
}

/** Calls onState with the new state and the status that caused it. */
function setState(c: JmqtClient, state: number, st: number): void {
  c.state = state;
  if (c.onState)
    try {
      c.onState(state, st);
    } catch (x) {
      c.err = "callback: " + x;
    }
}

// The one write choke point: writes one encoded frame, or queues it (bounded by outQueue) while
// the bytes written since the last `drain` would exceed writeWindow. The result of write() is
// never read: Espruino's socket.write() returns false on every call (node.js compatibility) and
// emits `drain` once its send buffer is empty, so `drain` alone says the board has room again.
function send(c: JmqtClient, f: string): boolean {
  var s = c.socket_;
  if (!s) return false;
  if (c.queue_.length || (c.written_ && c.written_ + f.length > (c.writeWindow_ || Default.WriteWindow))) {
    if (c.queue_.length >= (c.queueMax_ || Default.OutQueue)) return false;
    c.queue_.push(f);
    return true;
  }
  return put(c, f);
}

/** Hands one frame to the current socket and counts its bytes toward the write window. */
function put(c: JmqtClient, f: string): boolean {
  c.counters.fo++;
  c.written_ += f.length;
  try {
    (c.socket_ as SocketLike).write(f);
  } catch (x) {
    c.err = "write: " + x;
    return false;
  }
  return true;
}

/** Holds cb under key k (false when maxSubs are already pending), or without cb takes it back. */
function pendingAck(c: JmqtClient, k: string, cb?: StatusCb | null): any {
  var acks = c.acks_ || {};
  var had = acks.hasOwnProperty(k);
  var old = acks[k];
  if (cb) {
    if (!had) {
      if ((c.ackCount_ || 0) >= (c.maxSubs_ === undefined ? Default.MaxSubs : c.maxSubs_)) return false;
      c.ackCount_ = (c.ackCount_ || 0) + 1;
    }
    acks[k] = cb;
    c.acks_ = acks;
    return cb;
  }
  if (had) {
    delete acks[k];
    if (!--(c.ackCount_ as number)) {
      delete c.ackCount_;
      delete c.acks_;
    }
  }
  return old;
}

/** Opens a new connection (from BACKOFF): fresh framing state and queue, handlers on the socket. */
function connect(c: JmqtClient, now: number): void {
  var s: ClientSocket;
  if (c.deadline_) c.counters.rc = (c.counters.rc || 0) + 1;
  // set only once used (a stored property costs a block even when empty)
  delete c.buffer_;
  delete c.skipping_;
  delete c.reauthed_;
  delete c.held_;
  if (c.owed_) c.owed_ = 0;
  c.queue_ = [];
  c.written_ = 0;
  c.deadline_ = now + (c.connMs_ === undefined ? Default.ConnMs : c.connMs_);
  setState(c, S_CONNECTING, ST_OK);
  if (c.state != S_CONNECTING) return;
  try {
    s = c.socket_ = c.net_.connect(c, onSocketConnect);
    s.client_ = c;
    // the listeners as Espruino stores them, one function each (api.ts SocketLike): 8 blocks fewer than on()
    s["#ondata"] = onSocketData;
    s["#onclose"] = s["#onerror"] = onSocketEnd;
    s["#ondrain"] = onSocketDrain;
  } catch (x) {
    c.err = "connect: " + x;
    down(c, ST_NETWORK_ERROR, S_BACKOFF);
  }
}

// The one timer. Does what is due in the current state, then re-arms for the earliest next
// deadline. The timer calls it with the client only; code that changed a deadline calls it with
// live = 1, which first clears the running timer. A polled client (ClientOptions.polled) has no
// timer: its owner calls this at least once a second, and it does what is due.
// SPEC "Behaviour/Heartbeat": hb every deadS_ - 2 s (at least 1); no inbound frame for deadS_ means a dead link.
// SPEC "QoS 1": a client that gets no pubAck may resend with the same id; requests just fail.
export function tick(c: JmqtClient, live?: number): void {
  var now = Date.now();
  var w = c.window_ || [];
  var i: number;
  var e: Pending;
  var d: number;
  if (c.timer_) {
    if (live) clearTimeout(c.timer_);
    c.timer_ = 0;
  }
  if (c.state == S_BACKOFF && now >= c.deadline_) {
    connect(c, now);
    if ((c.state as number) != S_CONNECTING) return;
  } else if (c.state == S_READY) {
    if (now - c.lastIn_ >= c.deadS_ * 1000) return down(c, ST_NETWORK_ERROR, S_BACKOFF);
    // SPEC "QoS 1": the server sends unacknowledged q=1 pushes again on the next session, and
    // only then. Pushes refused under a flood (not acknowledged, see onPushPacket) are owed: once
    // the flood is over and the queue is empty, the session is ended cleanly and opened again at
    // once (no failure to back off from; a later one backs off from the minimum) so that they
    // come back and are answered.
    if (c.owed_ && !c.queue_.length && !c.held_ && now - c.lastIn_ >= Default.QuietMs) {
      c.owed_ = 0;
      put(c, encode("disconn", {}));
      c.backoff_ = c.minBackoff_ === undefined ? Default.MinBackoffMs : c.minBackoff_;
      down(c, ST_OK, S_BACKOFF);
      c.deadline_ = now;
      return tick(c, 1);
    }
    if (now - c.lastHb_ >= (c.deadS_ > 3 ? c.deadS_ - 2 : 1) * 1000) {
      send(c, encode("hb", {}));
      c.lastHb_ = now;
    }
    for (i = 0; i < w.length; i++) {
      e = w[i];
      if (e[4] && e[4] <= now) {
        if (e[3] < 0 || e[3] >= (c.retries_ === undefined ? Default.Retries : c.retries_)) {
          w.splice(i--, 1);
          if (!w.length) delete c.window_;
          safe(c, e[2], ST_NETWORK_ERROR);
        } else {
          if (send(c, e[1])) e[3]++;
          e[4] = now + (c.ackMs_ === undefined ? Default.AckMs : c.ackMs_);
        }
      }
    }
  } else if (c.state > S_IDLE && c.state < S_READY && now >= c.deadline_) return down(c, ST_NETWORK_ERROR, S_BACKOFF);
  if (c.timer_ !== 0) return;
  if (c.state == S_READY) {
    d = Math.min(c.lastHb_ + (c.deadS_ > 3 ? c.deadS_ - 2 : 1) * 1000, c.owed_ ? now + Default.QuietMs : c.lastIn_ + c.deadS_ * 1000);
    for (i = 0; i < w.length; i++) if (w[i][4] && w[i][4] < d) d = w[i][4];
  } else if (c.state > S_IDLE && c.state < S_STOPPED) d = c.deadline_;
  else return;
  d -= Date.now();
  c.timer_ = setTimeout(tick, d > 1 ? d : 1, c);
}

/**
 * Leaves the session: to S_BACKOFF (link lost in an active state; retry after backoff with
 * jitter, SPEC "Disconnect") or to S_STOPPED (no retry). Socket ended, queue dropped, `$`
 * requests and unsub acks failed; QoS 1 pubs and subscriptions are sent again next session.
 */
function down(c: JmqtClient, st: number, to: number): void {
  var s = c.socket_;
  var w = c.window_ || [];
  var i: number;
  var k: any;
  var d: number;
  if (to == S_BACKOFF) {
    if (c.state < S_CONNECTING || c.state > S_READY) return;
    if (c.state == S_READY && Date.now() >= c.deadline_) c.backoff_ = c.minBackoff_ === undefined ? Default.MinBackoffMs : c.minBackoff_;
    d = c.backoff_ / 2 + (Math.random() * c.backoff_) / 2;
    c.backoff_ = Math.min(c.backoff_ * 2, c.maxBackoff_ === undefined ? Default.MaxBackoffMs : c.maxBackoff_);
    c.deadline_ = Date.now() + d;
  }
  c.socket_ = null;
  c.queue_ = [];
  c.written_ = 0;
  for (k in c.subs_) c.subs_[k] &= 1;
  for (i = 0; i < w.length; i++) w[i][4] = 0;
  setState(c, to, st);
  tick(c, 1);
  if (s) {
    c.staleCloses_ = (c.staleCloses_ || 0) + 1;
    try {
      s.end();
    } catch (x) {
      c.err = "end: " + x;
    }
  }
  for (i = 0; i < w.length; i++) {
    if (w[i][3] < 0) {
      safe(c, w.splice(i--, 1)[0][2], ST_NETWORK_ERROR);
      if (!w.length) delete c.window_;
    }
  }
  k = c.acks_ ? Object.keys(c.acks_) : [];
  for (i = 0; i < k.length; i++) {
    if (k[i].charAt(0) == "u" || typeof c.subs_[k[i].substring(1)] != "number") safe(c, pendingAck(c, k[i]), ST_NETWORK_ERROR);
  }
}

/** Sends auth or conn for the current connection (after connect, authAck, or a refused token). */
function hello(c: JmqtClient): void {
  var next = c.auth_ !== undefined && !c.token_ ? S_AUTHENTICATING : S_SESSION;
  c.deadline_ = Date.now() + (c.connMs_ === undefined ? Default.ConnMs : c.connMs_);
  setState(c, next, ST_OK);
  send(c, next == S_SESSION ? encode("conn", { at: c.token_, cl: c.cl }) : encode("auth", { dt: c.auth_ }));
  tick(c, 1);
}

/**
 * What a new session (or a drained socket) owes: subscriptions and QoS 1 pubs not yet sent in
 * this session. The timer is re-armed only when a pub got an ack deadline: a `drain` comes after
 * every write on Espruino, and re-arming for nothing cost each one 0.4 ms (espruino-esp8266).
 * A drain calls it only while something waits (unsent_): its text was 15 of a ping's flash reads.
 */
function resume(c: JmqtClient): void {
  var w = c.window_ || [];
  var i: number;
  var v: number;
  var cn: string;
  var armed = 0;
  if (c.state != S_READY) return;
  delete c.unsent_;
  if (c.queue_.length) return void (c.unsent_ = 1);
  for (cn in c.subs_) {
    v = c.subs_[cn];
    if (!(v & SENT)) {
      if (!send(c, encode("sub", v ? { cn: cn, pr: 1 } : { cn: cn }))) return void (c.unsent_ = 1);
      c.subs_[cn] = v | SENT;
    }
  }
  for (i = 0; i < w.length; i++) {
    if (!w[i][4]) {
      if (!send(c, w[i][1])) {
        c.unsent_ = 1;
        break;
      }
      w[i][4] = Date.now() + (c.ackMs_ === undefined ? Default.AckMs : c.ackMs_) || 1;
      armed = 1;
    }
  }
  if (armed) tick(c, 1);
}

// The socket event handlers: defined once, registered on every socket, called with this = the
// socket (SocketLike contract in api.ts), so a connection costs no function objects. Events of a
// socket that is no longer its client's current one are dropped (c.socket_ != this); the check is
// written out in each handler (a helper function would cost the board 5 blocks).
// (Evaluated for each connection from its comment in .bootcde, tools/cold.ts: net.connect()
// keeps it as the socket's `#onconnect`, which it deletes, so that it is garbage once connected.)
function onSocketConnect(this: ClientSocket): void {
  var c = this.client_;
  delete this["#onconnect"];
  if (c && c.socket_ == this && c.state == S_CONNECTING) hello(c);
}
function onSocketData(this: ClientSocket, chunk: string): void {
  var c = this.client_;
  if (c && c.socket_ == this) feedChunk(c, chunk, handleFrame);
}
/**
 * The end of a socket, its `#onerror` and its `#onclose`: Espruino fires `error` ({code, message})
 * only while a socket closes, just before `close` (hadError, a boolean; socketserver.c), and Node
 * does the same, so one function serves both (a second one cost the board 4 blocks). An error's
 * message is kept in err; the current socket's close is a lost link; an old socket's close only
 * counts toward stop()'s cb.
 */
function onSocketEnd(this: ClientSocket, e?: any): void {
  var c = this.client_;
  var cb: any;
  if (!c) return;
  if (e !== undefined && typeof e != "boolean") {
    if (c.socket_ == this) c.err = "socket: " + (e && e.message ? e.message : e);
  } else if (c.socket_ == this) {
    c.socket_ = null;
    down(c, ST_NETWORK_ERROR, S_BACKOFF);
  } else if (c.staleCloses_ && !--c.staleCloses_) {
    // the count and the callback absent again (a property holding null costs a block)
    delete c.staleCloses_;
    cb = c.stopCb_;
    delete c.stopCb_;
    safe(c, cb);
  }
}
/**
 * Room again. A drain comes after every write that the socket sent whole (Espruino's socketserver.c),
 * so after every reply: when nothing waited for it, it only restarts the write window; what
 * waited (queued frames, held input, a sub or pub not yet sent) is in drained, kept in flash until
 * then (tools/cold.ts): its text was about 10 of a ping's flash reads.
 */
function onSocketDrain(this: ClientSocket): void {
  var c = this.client_;
  if (!c || c.socket_ != this) return;
  c.written_ = 0;
  if (c.queue_.length || c.held_ || c.unsent_) drained(c);
}

/** After a drain: the queue leaves within the write window, then the held input, then what the session still owes. */
function drained(c: JmqtClient): void {
  var q = c.queue_;
  while (q.length && (!c.written_ || c.written_ + q[0].length <= (c.writeWindow_ || Default.WriteWindow))) put(c, q.shift() as string);
  if (c.held_ && !q.length) feedChunk(c, "", handleFrame);
  if (c.unsent_) resume(c);
}

// One inbound frame from the framer: decoded, then handed to the handler of its packet type.
function handleFrame(c: JmqtClient, f: string): void {
  var t: number;
  c.counters.fi++;
  c.lastIn_ = Date.now();
  try {
    // NOINLINE (here and below): terser would inline a function called once as a function
    // expression, which Espruino lexes twice per call (to create it, then to run it): measured
    // on the interpreter, a ping frame took 7.7 ms with everything inlined, 5.3 without a loop
    // over the type names, 3.9 with these three out of line; each costs the board about 5 blocks
    // (docs/memory.md). (In a statement the annotation must stand in an expression, after void:
    // esbuild drops it before a call statement.)
    t = /*@__NOINLINE__*/ decode(f, c);
    if (t == T_PUSH) void /*@__NOINLINE__*/ onPushPacket(c);
    else /*@__NOINLINE__*/ otherFrame(c, t, f);
  } catch (x) {
    c.err = "handler: " + x;
  }
  // absent between frames (a property holding undefined still costs its block)
  delete c.batch_;
  delete c.body_;
}

/**
 * A frame other than a push (handleFrame's): a bad one (counted, its reason kept in err), a pubAck,
 * an hbAck, the acks that set up a session or a subscription, or a type a client does not expect.
 * Kept in flash until one comes (tools/cold.ts): a device gets a pubAck for each QoS 1 reading and
 * an hbAck for each heartbeat, a command is a push, and these branches in handleFrame were about
 * 140 of the characters lexed with every frame (espruino-esp8266).
 */
function otherFrame(c: JmqtClient, t: number, f: string): void {
  if (t < 0) {
    c.counters.bad = (c.counters.bad || 0) + 1;
    c.err = c.reason_;
  } else if (t == T_PUBACK) onPubAck(c, c.body_);
  else if (t != T_HBACK && !(/*@__NOINLINE__*/ onSessionPacket(c, t))) {
    c.counters.bad = (c.counters.bad || 0) + 1;
    c.err = "unexpected " + f.substring(0, 24);
  }
}

// SPEC "QoS 1": every q=1 push that is not retained is acked (ackPush); a redelivered id is
// acked, not delivered again.
function onPushPacket(c: JmqtClient): void {
  var b = c.body_;
  var q1 = b.q == 1 && !b.rt && b.id;
  var dup = q1 && c.recent_.indexOf(b.id) >= 0;
  if (q1) c.batch_ = "";
  // a redelivery (its pushAck, and the reply sent with it, may have been lost) goes to onRepeat
  try {
    if (!dup) {
      if (c.onPush) c.onPush(b.cn, b.dt, b.cl, b.rt);
    } else if (c.onRepeat) c.onRepeat(b.cn, b.dt, b.cl);
  } catch (x) {
    c.err = "callback: " + x;
  }
  if (q1) void /*@__NOINLINE__*/ ackPush(c, dup);
}

// The pushAck of a q=1 push, after its handler ran. What the handler sent (a command's reply)
// leaves in the same write; when the socket cannot take them, neither goes and the id is not
// remembered, so the broker delivers the push again instead of it being acked and lost. Out of
// onPushPacket: Espruino lexes a function's whole text at each call, and this was 8 of the 18
// flash reads of each q=0 push (espruino-esp8266). Like onPushPacket it reads the push from
// c.body_, which holds it until handleFrame deletes it (no other frame is decoded while a handler
// runs: Espruino queues socket events), rather than as a parameter: a declared parameter holds a
// block for as long as the function exists, and the per-frame functions keep theirs.
function ackPush(c: JmqtClient, dup: boolean): void {
  var id: string = c.body_.id;
  var f = c.batch_ + encode("pushAck", { st: ST_OK, id: id });
  delete c.batch_;
  if (!send(c, f)) {
    c.counters.qd = (c.counters.qd || 0) + 1;
    // the timer then watches for the end of the flood (tick: QuietMs without input)
    if (!c.owed_) {
      c.owed_ = 1;
      tick(c, 1);
    }
  } else if (!dup && c.recent_.push(id) > (c.dedup_ || Default.Dedup)) c.recent_.shift();
}

/** The pubAck of a QoS 1 pub or a `$` request: its callback gets st and dt. */
function onPubAck(c: JmqtClient, b: any): void {
  var w = c.window_ || [];
  var e: Pending;
  for (var i = 0; i < w.length; i++) {
    if (w[i][0] == b.id) {
      e = w.splice(i, 1)[0];
      if (!w.length) delete c.window_;
      return safe(c, e[2], b.st, b.dt);
    }
  }
}

/**
 * The acks that set up a session or a subscription (connAck, authAck, subAck, unsubAck): 1 when t
 * is one of them. Out of handleFrame, which runs for every frame: Espruino lexes a function's whole
 * text at each call, and these handlers inlined there were 530 of its 830 characters, lexed for
 * every push and pubAck (measured on espruino-esp8266: docs/memory.md "Time").
 */
function onSessionPacket(c: JmqtClient, t: number): number {
  var b = c.body_;
  if (t == T_SUBACK || t == T_UNSUBACK) onSubAck(c, b, t == T_SUBACK ? "s" : "u");
  else if (t == T_CONNACK) onConnAck(c, b);
  else if (t == T_AUTHACK) onAuthAck(c, b);
  else return 0;
  return 1;
}

/** subAck (kind "s") or unsubAck ("u"): a refused sub is forgotten; the callback gets st and cn. */
function onSubAck(c: JmqtClient, b: any, kind: string): void {
  if (kind == "s" && b.st != ST_OK && typeof c.subs_[b.cn] == "number") {
    delete c.subs_[b.cn];
  }
  safe(c, pendingAck(c, kind + b.cn), b.st, b.cn);
}

// SPEC "Behaviour/Session": connAck 6 = invalid token: re-auth once when there is auth data,
// else stop; any other refusal backs off.
function onConnAck(c: JmqtClient, b: any): void {
  if (c.state != S_SESSION) return;
  if (b.st == ST_OK) {
    // (not Math.max: on Espruino it returns a float, which costs a block more than an integer)
    // the heartbeat period follows from it (deadS_ - 2, at least 1: see tick): one field, a block less
    c.deadS_ = b.ts > 2 ? b.ts : 2;
    c.lastIn_ = c.lastHb_ = Date.now();
    c.deadline_ = c.lastIn_ + (c.stableMs_ === undefined ? Default.StableMs : c.stableMs_);
    setState(c, S_READY, ST_OK);
    resume(c);
    // READY's deadlines (heartbeat, dead link) replace the connAck timeout
    tick(c, 1);
  } else if (b.st != ST_INVALID_TOKEN) down(c, b.st, S_BACKOFF);
  else if (c.auth_ === undefined) down(c, b.st, S_STOPPED);
  else {
    c.token_ = "";
    if (c.reauthed_) down(c, b.st, S_BACKOFF);
    else {
      c.reauthed_ = 1;
      hello(c);
    }
  }
}

/** A refused auth stops, except a server error, which backs off. */
function onAuthAck(c: JmqtClient, b: any): void {
  if (c.state != S_AUTHENTICATING) return;
  if (b.st == ST_OK) {
    c.token_ = b.at;
    c.cl = b.cl;
    hello(c);
  } else down(c, b.st, b.st == ST_SERVER_ERROR ? S_BACKOFF : S_STOPPED);
}

// The client's lifecycle and subscriptions: functions, not methods, because they run seldom (once
// per boot, shutdown or group change) and a method is resident on the board, 3-5 blocks each
// (measured); as top-level functions the build keeps their text in flash until they run
// (tools/cold.ts). `pub`, on the path of every reading and reply, is the one method.

/** Opens the session (from IDLE or STOPPED; from BACKOFF, retries at once). Does nothing without a host (a config that names no server). */
export function start(client: Client): void {
  var c = client as JmqtClient;
  var s = c.state;
  if (!c.host) return;
  if (s == S_IDLE || s == S_STOPPED) c.backoff_ = c.minBackoff_ === undefined ? Default.MinBackoffMs : c.minBackoff_;
  else if (s != S_BACKOFF) return;
  c.state = S_BACKOFF;
  c.deadline_ = 0;
  tick(c, 1);
}

/** Orderly end: what is queued, then disconn (SPEC "Disconnect"); the socket closed, every timer cleared; cb once closed. */
export function stop(client: Client, cb?: () => void): void {
  var c = client as JmqtClient;
  var s = c.socket_;
  var q = c.queue_;
  // end() sends what was written
  if (s && c.state == S_READY) {
    while (q.length) put(c, q.shift() as string);
    put(c, encode("disconn", {}));
  }
  // the callback waits for the socket's close; absent without one (a property holding null costs a block)
  if (s) c.stopCb_ = cb;
  else delete c.stopCb_;
  down(c, ST_OK, S_STOPPED);
  if (!s && cb) cb();
}

/**
 * Subscribes cn (pr: persistent), remembered and sent again after every reconnect; cb(st, cn)
 * with the subAck. SPEC "P2P": clients may not sub/unsub `#` or `$` channels; refused here
 * before sending. Returns ST_OK, or the reason at once (ST_BUSY, ST_INVALID_CHANNEL).
 */
export function sub(client: Client, cn: string, pr: number, cb?: StatusCb | null): number {
  var c = client as JmqtClient;
  var had: boolean;
  if (!subscribable(cn)) return ST_INVALID_CHANNEL;
  had = typeof c.subs_[cn] == "number";
  // a refusal is counted in qd and answered ST_BUSY (written out here and in pub, windowed, unsub
  // and ackPush: a helper function would cost the board 5 blocks)
  // (the channels held counted here: a stored count cost the board a block for good)
  if ((!had && Object.keys(c.subs_).length >= (c.maxSubs_ === undefined ? Default.MaxSubs : c.maxSubs_)) || (cb && !pendingAck(c, "s" + cn, cb))) return (c.counters.qd = (c.counters.qd || 0) + 1), ST_BUSY;
  c.subs_[cn] = pr ? 1 : 0;
  if (c.state == S_READY) {
    if (send(c, encode("sub", pr ? { cn: cn, pr: 1 } : { cn: cn }))) c.subs_[cn] |= SENT;
    else c.unsent_ = 1;
  }
  return ST_OK;
}

/** Unsubscribes cn and forgets it; cb(st, cn) with the unsubAck. Only in a session (else ST_NETWORK_ERROR). */
export function unsub(client: Client, cn: string, cb?: StatusCb | null): number {
  var c = client as JmqtClient;
  if (!subscribable(cn)) return ST_INVALID_CHANNEL;
  if (c.state != S_READY) return ST_NETWORK_ERROR;
  if ((cb && !pendingAck(c, "u" + cn, cb)) || !send(c, encode("unsub", { cn: cn }))) {
    if (cb) pendingAck(c, "u" + cn);
    return (c.counters.qd = (c.counters.qd || 0) + 1), ST_BUSY;
  }
  delete c.subs_[cn];
  return ST_OK;
}

/**
 * The one method, an own property of each client (a shared prototype object cost the board 3
 * blocks more: the object, its property and each client's prototype link). QoS 1 pubs wait in the
 * window for their pubAck (windowed, as `$` requests do: request()). A q0 pub (every command's
 * reply, q0 readings) is sent here.
 */
function clientPub(this: JmqtClient, cn: string, dt: any, q: number, rt: number, cb?: StatusCb | null): number {
  var c = this;
  var first: string;
  var b: any;
  var frame: string;
  if (typeof cn != "string" || !cn) return ST_INVALID_CHANNEL;
  first = cn.charAt(0);
  if (first == "$" || (rt && first == "#")) return ST_INVALID_CHANNEL;
  if (!q && c.state != S_READY) return ST_NETWORK_ERROR;
  b = { cn: cn, dt: dt };
  if (rt) b.rt = 1;
  if (q) return /*@__NOINLINE__*/ windowed(c, b, cb);
  frame = encode("pub", b);
  // while a QoS 1 push is handled its reply waits for the pushAck, to leave with it in one write
  // (ackPush): added here, not in send, so that the reply costs no send call of its own (Espruino
  // lexes a called function's whole text: about 45 µs of a q1 command on espruino-esp8266)
  if (c.batch_ != null) return (c.batch_ += frame), ST_OK;
  return send(c, frame) ? ST_OK : ((c.counters.qd = (c.counters.qd || 0) + 1), ST_BUSY);
}

/**
 * P2P (SPEC "P2P"): a pub to `#<clientId>`; with q=1 a target that is not connected answers st=8.
 * A function over pub, not a method (8 blocks on the board, measured): the device runtime
 * answers with pub("#" + sender) and the build leaves this out.
 */
export function p2p(c: Client, clientId: string, dt: any, q: number, cb?: StatusCb | null): number {
  if (typeof clientId != "string" || !clientId) return ST_INVALID_CHANNEL;
  return c.pub("#" + clientId, dt, q, 0, cb);
}

/**
 * A `$` control request (SPEC "Control channels"): cb(st, pubAck.dt), or cb(ST_NETWORK_ERROR) when
 * no pubAck comes in time; never resent. Not a method: a method object costs every client on the
 * board 8 blocks (measured), and the device runtime sends no request; the build leaves it out.
 */
export function request(c: Client, cn: string, dt: any, cb: StatusCb): number {
  if (typeof cn != "string" || cn.charAt(0) != "$") return ST_INVALID_CHANNEL;
  if (c.state != S_READY) return ST_NETWORK_ERROR;
  return windowed(c as JmqtClient, { cn: cn, dt: dt }, cb);
}

/**
 * A QoS 1 pub or a `$` request (its channel starts with `$`, which a pub may not) into the window:
 * sent now when the session is up, else when it comes (resume). Out of pub: Espruino lexes a
 * function's whole text at each call, and this part was 13 of the 22 flash reads of each q0 pub,
 * which every command's reply is (measured on espruino-esp8266; docs/memory.md "Time").
 */
function windowed(c: JmqtClient, b: any, cb: StatusCb | null | undefined): number {
  var isRequest = b.cn.charAt(0) == "$";
  var e: Pending;
  var w = c.window_ || [];
  if (w.length >= (c.inflight_ || Default.Inflight)) return (c.counters.qd = (c.counters.qd || 0) + 1), ST_BUSY;
  if (!isRequest) b.q = 1;
  b.id = "" + ++c.lastId_;
  e = [b.id, encode("pub", b), cb, isRequest ? -1 : 0, 0];
  if (c.state == S_READY) {
    if (!send(c, e[1])) return (c.counters.qd = (c.counters.qd || 0) + 1), ST_BUSY;
    e[4] = Date.now() + (c.ackMs_ === undefined ? Default.AckMs : c.ackMs_) || 1;
  }
  w.push(e);
  c.window_ = w;
  tick(c, 1);
  return ST_OK;
}

/** A channel a client may sub/unsub: a non-empty string not starting with `#` or `$`. */
function subscribable(cn: any): boolean {
  return typeof cn == "string" && !!cn && cn.charAt(0) != "#" && cn.charAt(0) != "$";
}

export function createClient(net: NetLike, o: ClientOptions): Client {
  var c = { pub: clientPub } as JmqtClient;
  // an option: v when it is a number of at least `least`, else the default d (a local function:
  // only createClient needs it, and a top-level one would cost 6 blocks for good)
  var opt = function (v: any, d: number, least: number): number {
    return typeof v == "number" && v >= least ? v : d;
  };
  c.net_ = net;
  c.host = o.host;
  c.port = o.port;
  if (o.auth !== undefined) c.auth_ = o.auth;
  c.cl = o.cl || "";
  c.token_ = o.at || "";
  // the framer's bounds, stored only when not the ESP8266's (framer.ts FrameBound)
  if (opt(o.maxFrame, FrameBound.MaxFrame, 1) != FrameBound.MaxFrame) c.maxFrame_ = o.maxFrame;
  if (opt(o.maxParse, 0, 0) != FrameBound.MaxParse) c.maxParse_ = opt(o.maxParse, 0, 0);
  if (opt(o.inflight, Default.Inflight, 1) != Default.Inflight) c.inflight_ = o.inflight;
  if (opt(o.outQueue, Default.OutQueue, 1) != Default.OutQueue) c.queueMax_ = o.outQueue;
  if (opt(o.writeWindow, Default.WriteWindow, 64) != Default.WriteWindow) c.writeWindow_ = o.writeWindow;
  if (opt(o.dedup, Default.Dedup, 1) != Default.Dedup) c.dedup_ = o.dedup;
  if (o.connMs !== undefined) c.connMs_ = opt(o.connMs, Default.ConnMs, 0);
  if (o.ackMs !== undefined) c.ackMs_ = opt(o.ackMs, Default.AckMs, 0);
  if (o.retries !== undefined) c.retries_ = opt(o.retries, Default.Retries, 0);
  if (o.minBackoffMs !== undefined) c.minBackoff_ = opt(o.minBackoffMs, Default.MinBackoffMs, 0);
  if (o.maxBackoffMs !== undefined) c.maxBackoff_ = opt(o.maxBackoffMs, Default.MaxBackoffMs, 0);
  if (o.stableMs !== undefined) c.stableMs_ = opt(o.stableMs, Default.StableMs, 0);
  if (o.maxSubs !== undefined) c.maxSubs_ = opt(o.maxSubs, Default.MaxSubs, 0);
  c.state = S_IDLE;
  // the counters other than fi and fo are absent while 0 (api.ts Counters: 4 blocks at idle)
  c.counters = { fi: 0, fo: 0 };
  // err and reason_ stay undefined until something fails, buffer_ while no frame is split (a
  // property holding "" costs a block more)
  c.onPush = c.onState = c.onRepeat = c.socket_ = null;
  if (!o.polled) c.timer_ = 0;
  c.deadline_ = c.lastIn_ = c.lastHb_ = c.deadS_ = c.backoff_ = 0;
  c.lastId_ = c.written_ = 0;
  // q1 ids are numbered from a random start, so that ids after a reboot do not repeat the ones
  // a broker remembers from the previous boot (it drops a resent id as a duplicate). The clock is
  // mixed in: the Linux build of Espruino seeds Math.random the same way at every start.
  c.lastId_ = Math.floor(Math.random() * 1048576) ^ (Date.now() & 1048575);
  c.subs_ = {};
  c.recent_ = [];
  c.queue_ = [];
  return c;
}
