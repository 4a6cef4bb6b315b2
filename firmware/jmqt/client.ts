// The JMQT 1.0 session for the board: socket chunks -> Framer -> decode -> this state machine.
// One state variable (S_*), one write choke point (send), one keep-alive timer (kaTick) that
// reads the time of the last inbound frame. Timers call module-level functions with the client
// as argument and socket events go to handlers bound once per client: nothing is created per
// packet except the packet itself.
import {
  S_AUTHENTICATING, S_BACKOFF, S_CONNECTING, S_IDLE, S_READY, S_SESSION, S_STOPPED,
  ST_BUSY, ST_INVALID_CHANNEL, ST_INVALID_TOKEN, ST_NETWORK_ERROR, ST_OK, ST_SERVER_ERROR,
} from "./api";
import type { Client, ClientOptions, Counters, NetLike, SocketLike, StatusCb } from "./api";
import { Framer } from "./framer";
import {
  decode, encode, newDecoded, TYPES,
  T_AUTH, T_AUTHACK, T_CONN, T_CONNACK, T_HB, T_HBACK, T_PUB, T_PUBACK, T_PUSH, T_PUSHACK,
  T_SUB, T_SUBACK, T_UNSUB, T_UNSUBACK, T_DISCONN,
} from "./codec";
import type { Decoded } from "./codec";

/** A QoS 1 pub or a `$` request waiting for its pubAck. */
interface Pending {
  /** id */
  i: string;
  /** the encoded frame, resent as is (same id) */
  f: string;
  c: StatusCb | null | undefined;
  /** resends after an ack timeout */
  n: number;
  /** deadline (ms) of the current send */
  d: number;
  /** 1 when sent in the current session */
  s: number;
  /** K_PUB or K_REQ */
  k: number;
}

const K_PUB = 1;
const K_REQ = 2;
const SENT = 2;

function onConnTimeout(c: JmqtClient): void {
  c.t = 0;
  lost(c, ST_NETWORK_ERROR);
}

function onBackoff(c: JmqtClient): void {
  c.t = 0;
  c.counters.rc++;
  open(c);
}

// SPEC "Behaviour/Heartbeat": hb every hm ms; no inbound frame for dm ms means a dead link.
function kaTick(c: JmqtClient): void {
  var now = Date.now();
  var next: number;
  c.k = 0;
  if (c.state != S_READY) return;
  if (now - c.li >= c.dm) {
    lost(c, ST_NETWORK_ERROR);
    return;
  }
  if (now - c.lh >= c.hm) {
    send(c, encode(T_HB, {}));
    c.lh = now;
  }
  next = Math.min(c.lh + c.hm, c.li + c.dm) - now;
  c.k = setTimeout(kaTick, next > 1 ? next : 1, c);
}

// SPEC "QoS 1": a client that gets no pubAck may resend with the same id; requests just fail.
function ackTick(c: JmqtClient): void {
  var now = Date.now();
  var i = 0;
  var e: Pending;
  c.a = 0;
  if (c.state != S_READY) return;
  while (i < c.w.length) {
    e = c.w[i];
    if (e.s && e.d <= now) {
      if (e.k == K_REQ || e.n >= c.o.retries!) {
        c.w.splice(i, 1);
        call(c, e.c, ST_NETWORK_ERROR, undefined);
        continue;
      }
      if (send(c, e.f)) e.n++;
      e.d = now + c.o.ackMs!;
    }
    i++;
  }
  armAck(c);
}

function opt(v: number | undefined, d: number): number {
  return typeof v == "number" && v >= 0 ? v : d;
}

function badChannel(cn: any): boolean {
  return typeof cn != "string" || !cn.length;
}

export class JmqtClient implements Client {
  declare state: number;
  declare cl: string;
  /** auth token for conn */
  declare at: string;
  declare counters: Counters;
  declare err: string;
  declare onPush: ((cn: string, dt: any, from: string, rt: number) => void) | null;
  declare onState: ((state: number, st: number) => void) | null;
  declare o: ClientOptions;
  declare net: NetLike;
  declare sk: SocketLike | null;
  declare fr: Framer;
  declare dd: Decoded;
  /** connect/auth/conn timeout or backoff timer */
  declare t: any;
  /** keep-alive timer */
  declare k: any;
  /** ack timer */
  declare a: any;
  /** time of the last inbound frame, of the last hb sent, when READY began */
  declare li: number;
  declare lh: number;
  declare ry: number;
  /** hb period and dead-link limit in ms, from connAck ts */
  declare hm: number;
  declare dm: number;
  /** re-auth already tried on this connection */
  declare ra: number;
  /** next backoff in ms */
  declare bo: number;
  /** closes still expected from sockets this client ended itself */
  declare ig: number;
  /** in-flight window */
  declare w: Pending[];
  /** last pub id */
  declare ni: number;
  /** channel -> pr (bit 0) | SENT (sent in this session) */
  declare subs: { [cn: string]: number };
  declare ns: number;
  /** "s"/"u" + channel -> callback awaiting subAck/unsubAck */
  declare pa: { [k: string]: StatusCb };
  declare np: number;
  /** ring of recent inbound QoS 1 ids */
  declare rg: string[];
  declare rp: number;
  /** out queue while the socket is not drained */
  declare oq: string[];
  declare bl: number;
  declare sc: (() => void) | null | undefined;
  declare hD: (d: string) => void;
  declare hC: () => void;
  declare hX: () => void;
  declare hR: () => void;
  declare hE: (e: any) => void;

  constructor(net: NetLike, opts: ClientOptions) {
    var o: ClientOptions = {
      host: opts.host,
      port: opts.port,
      auth: opts.auth,
      maxFrame: opts.maxFrame > 0 ? opts.maxFrame : 1024,
      inflight: opts.inflight > 0 ? opts.inflight : 4,
      outQueue: opts.outQueue > 0 ? opts.outQueue : 8,
      dedup: opts.dedup > 0 ? opts.dedup : 8,
      connMs: opt(opts.connMs, 10000),
      ackMs: opt(opts.ackMs, 10000),
      retries: opt(opts.retries, 5),
      minBackoffMs: opt(opts.minBackoffMs, 1000),
      maxBackoffMs: opt(opts.maxBackoffMs, 60000),
      stableMs: opt(opts.stableMs, 30000),
      maxSubs: opt(opts.maxSubs, 16),
    };
    this.o = o;
    this.net = net;
    this.state = S_IDLE;
    this.cl = opts.cl || "";
    this.at = opts.at || "";
    this.counters = { fi: 0, fo: 0, bad: 0, big: 0, rc: 0, qd: 0 };
    this.err = "";
    this.onPush = null;
    this.onState = null;
    this.sk = null;
    this.fr = new Framer(o.maxFrame, this, this.counters);
    this.dd = newDecoded();
    this.t = this.k = this.a = 0;
    this.li = this.lh = this.ry = 0;
    this.hm = this.dm = 0;
    this.ra = this.ig = this.ni = this.ns = this.np = this.rp = this.bl = 0;
    this.bo = o.minBackoffMs!;
    this.w = [];
    this.subs = {};
    this.pa = {};
    this.rg = [];
    this.oq = [];
    this.sc = null;
    this.hD = this.onData.bind(this);
    this.hC = this.onConnect.bind(this);
    this.hX = this.onClose.bind(this);
    this.hR = this.onDrain.bind(this);
    this.hE = this.onError.bind(this);
  }

  start(): void {
    if (this.state == S_IDLE || this.state == S_STOPPED) {
      this.bo = this.o.minBackoffMs!;
      open(this);
    } else if (this.state == S_BACKOFF) open(this);
  }

  stop(cb?: () => void): void {
    var s = this.sk;
    if (s && this.state == S_READY && !this.bl) send(this, encode(T_DISCONN, {}));
    this.sc = s ? cb : null;
    halt(this, ST_OK);
    if (!s && cb) cb();
  }

  pub(cn: string, dt: any, q: number, rt: number, cb?: StatusCb | null): number {
    var c0: string;
    var b: any;
    if (badChannel(cn)) return ST_INVALID_CHANNEL;
    c0 = cn.charAt(0);
    if (c0 == "$" || (rt && c0 == "#")) return ST_INVALID_CHANNEL;
    b = { cn: cn, dt: dt };
    if (q) {
      if (this.w.length >= this.o.inflight) return busy(this);
      b.q = 1;
      b.id = "" + ++this.ni;
    }
    if (rt) b.rt = 1;
    if (q) return enq(this, b, cb, K_PUB);
    if (this.state != S_READY) return ST_NETWORK_ERROR;
    return send(this, encode(T_PUB, b)) ? ST_OK : busy(this);
  }

  p2p(clientId: string, dt: any, q: number, cb?: StatusCb | null): number {
    if (badChannel(clientId)) return ST_INVALID_CHANNEL;
    return this.pub("#" + clientId, dt, q, 0, cb);
  }

  request(cn: string, dt: any, cb: StatusCb): number {
    if (badChannel(cn) || cn.charAt(0) != "$") return ST_INVALID_CHANNEL;
    if (this.state != S_READY) return ST_NETWORK_ERROR;
    if (this.w.length >= this.o.inflight) return busy(this);
    return enq(this, { cn: cn, dt: dt, id: "" + ++this.ni }, cb, K_REQ);
  }

  // SPEC "P2P": clients may not sub/unsub `#` or `$` channels; refused here before sending.
  sub(cn: string, pr: number, cb?: StatusCb | null): number {
    var had: boolean;
    if (badChannel(cn) || cn.charAt(0) == "#" || cn.charAt(0) == "$") return ST_INVALID_CHANNEL;
    had = this.subs.hasOwnProperty(cn);
    if ((!had && this.ns >= this.o.maxSubs!) || (cb && !hold(this, "s" + cn, cb))) return busy(this);
    if (!had) this.ns++;
    this.subs[cn] = pr ? 1 : 0;
    if (this.state == S_READY && send(this, encode(T_SUB, pr ? { cn: cn, pr: 1 } : { cn: cn }))) this.subs[cn] |= SENT;
    return ST_OK;
  }

  unsub(cn: string, cb?: StatusCb | null): number {
    if (badChannel(cn) || cn.charAt(0) == "#" || cn.charAt(0) == "$") return ST_INVALID_CHANNEL;
    if (this.state != S_READY) return ST_NETWORK_ERROR;
    if ((cb && !hold(this, "u" + cn, cb)) || !send(this, encode(T_UNSUB, { cn: cn }))) {
      if (cb) take(this, "u" + cn);
      return busy(this);
    }
    if (this.subs.hasOwnProperty(cn)) {
      delete this.subs[cn];
      this.ns--;
    }
    return ST_OK;
  }

















  onConnect(): void {
    if (this.state != S_CONNECTING) return;
    this.li = Date.now();
    if (this.o.auth !== undefined && !this.at) sendAuth(this);
    else sendConn(this);
  }




  onData(chunk: string): void {
    if (!this.sk) return;
    try {
      this.fr.feed(chunk);
    } catch (e) {
      this.err = "feed: " + e;
    }
  }

  onFrame(f: string): void {
    this.counters.fi++;
    this.li = Date.now();
    try {
      handle(this, f);
    } catch (e) {
      this.err = "handler: " + e;
    }
  }

  onClose(): void {
    var cb = this.sc;
    if (this.ig) {
      this.ig--;
      if (!this.ig && cb) {
        this.sc = null;
        cb();
      }
      return;
    }
    this.sk = null;
    lost(this, ST_NETWORK_ERROR);
  }

  onError(e: any): void {
    this.err = "socket: " + (e && e.message ? e.message : e);
  }

  onDrain(): void {
    var s = this.sk;
    if (!s) return;
    this.bl = 0;
    try {
      while (this.oq.length && !this.bl) {
        this.counters.fo++;
        if (!s.write(this.oq.shift() as string)) this.bl = 1;
      }
    } catch (e) {
      this.err = "write: " + e;
    }
    if (!this.bl) resume(this);
  }




}

/** The one write choke point: writes one encoded frame, or queues it while the socket drains. */
function send(c: JmqtClient, f: string): boolean {
  var s = c.sk;
  if (!s) return false;
  if (c.bl) {
    if (c.oq.length >= c.o.outQueue) return false;
    c.oq.push(f);
    return true;
  }
  c.counters.fo++;
  try {
    if (!s.write(f)) c.bl = 1;
  } catch (e) {
    return false;
  }
  return true;
}

function open(c: JmqtClient): void {
  var s: SocketLike;
  clearTimers(c);
  c.fr.reset();
  c.oq.length = 0;
  c.bl = 0;
  c.ra = 0;
  setState(c, S_CONNECTING, ST_OK);
  c.t = setTimeout(onConnTimeout, c.o.connMs!, c);
  try {
    s = c.net.connect({ host: c.o.host, port: c.o.port }, c.hC);
    s.on("data", c.hD);
    s.on("close", c.hX);
    s.on("error", c.hE);
    s.on("drain", c.hR);
    c.sk = s;
  } catch (e) {
    c.err = "connect: " + e;
    lost(c, ST_NETWORK_ERROR);
  }
}

/** Link lost in an active state: drop the socket and retry after backoff (SPEC "Disconnect"). */
function lost(c: JmqtClient, st: number): void {
  var d: number;
  var o = c.o;
  var s: SocketLike | null;
  if (c.state < S_CONNECTING || c.state > S_READY) return;
  if (c.state == S_READY && Date.now() - c.ry >= o.stableMs!) c.bo = o.minBackoffMs!;
  d = c.bo / 2 + (Math.random() * c.bo) / 2;
  c.bo = Math.min(c.bo * 2, o.maxBackoffMs!);
  s = detach(c);
  setState(c, S_BACKOFF, st);
  c.t = setTimeout(onBackoff, d, c);
  end(c, s);
  failPending(c);
}

/** Stop retrying: socket closed, timers cleared, state S_STOPPED. */
function halt(c: JmqtClient, st: number): void {
  var s = detach(c);
  setState(c, S_STOPPED, st);
  end(c, s);
  failPending(c);
}

/** Forget the socket and every timer; the caller ends the socket once the state has changed. */
function detach(c: JmqtClient): SocketLike | null {
  var s = c.sk;
  var cn: string;
  var i: number;
  clearTimers(c);
  c.sk = null;
  c.oq.length = 0;
  c.bl = 0;
  for (cn in c.subs) c.subs[cn] &= 1;
  for (i = 0; i < c.w.length; i++) c.w[i].s = 0;
  return s;
}

function end(c: JmqtClient, s: SocketLike | null): void {
  if (!s) return;
  c.ig++;
  try {
    s.end();
  } catch (e) {
    c.err = "end: " + e;
  }
}

// Requests and unsub acks do not survive a session; QoS 1 pubs and subs are sent again.
function failPending(c: JmqtClient): void {
  var i = 0;
  var e: Pending;
  var ks = Object.keys(c.pa);
  var k: string;
  while (i < c.w.length) {
    e = c.w[i];
    if (e.k == K_REQ) {
      c.w.splice(i, 1);
      call(c, e.c, ST_NETWORK_ERROR, undefined);
    } else i++;
  }
  for (i = 0; i < ks.length; i++) {
    k = ks[i];
    if (k.charAt(0) == "u" || !c.subs.hasOwnProperty(k.substring(1))) {
      call(c, take(c, k), ST_NETWORK_ERROR, undefined);
    }
  }
}

function clearTimers(c: JmqtClient): void {
  if (c.t) clearTimeout(c.t);
  if (c.k) clearTimeout(c.k);
  if (c.a) clearTimeout(c.a);
  c.t = c.k = c.a = 0;
}

function setState(c: JmqtClient, s: number, st: number): void {
  c.state = s;
  if (c.onState) {
    try {
      c.onState(s, st);
    } catch (e) {
      c.err = "onState: " + e;
    }
  }
}

function call(c: JmqtClient, cb: StatusCb | null | undefined, st: number, dt: any): void {
  if (!cb) return;
  try {
    cb(st, dt);
  } catch (e) {
    c.err = "callback: " + e;
  }
}

function busy(c: JmqtClient): number {
  c.counters.qd++;
  return ST_BUSY;
}

function hold(c: JmqtClient, k: string, cb: StatusCb): boolean {
  if (!c.pa.hasOwnProperty(k)) {
    if (c.np >= c.o.maxSubs!) return false;
    c.np++;
  }
  c.pa[k] = cb;
  return true;
}

function take(c: JmqtClient, k: string): StatusCb | undefined {
  var cb = c.pa[k];
  if (c.pa.hasOwnProperty(k)) {
    delete c.pa[k];
    c.np--;
  }
  return cb;
}

function enq(c: JmqtClient, b: any, cb: StatusCb | null | undefined, kind: number): number {
  var e: Pending = { i: b.id, f: encode(T_PUB, b), c: cb, n: 0, d: 0, s: 0, k: kind };
  if (c.state == S_READY) {
    if (!send(c, e.f)) return busy(c);
    e.s = 1;
    e.d = Date.now() + c.o.ackMs!;
  }
  c.w.push(e);
  armAck(c);
  return ST_OK;
}

function armAck(c: JmqtClient): void {
  var i: number;
  var d = -1;
  var e: Pending;
  if (c.a || c.state != S_READY) return;
  for (i = 0; i < c.w.length; i++) {
    e = c.w[i];
    if (e.s && (d < 0 || e.d < d)) d = e.d;
  }
  if (d >= 0) {
    d -= Date.now();
    c.a = setTimeout(ackTick, d > 1 ? d : 1, c);
  }
}

// After connAck and after a drain: subscriptions and QoS 1 pubs not yet sent in c session.
function resume(c: JmqtClient): void {
  var cn: string;
  var i: number;
  var e: Pending;
  var v: number;
  if (c.state != S_READY) return;
  for (cn in c.subs) {
    v = c.subs[cn];
    if (!(v & SENT)) {
      if (!send(c, encode(T_SUB, v ? { cn: cn, pr: 1 } : { cn: cn }))) return;
      c.subs[cn] = v | SENT;
    }
  }
  for (i = 0; i < c.w.length; i++) {
    e = c.w[i];
    if (!e.s) {
      if (!send(c, e.f)) break;
      e.s = 1;
      e.d = Date.now() + c.o.ackMs!;
    }
  }
  armAck(c);
}

function sendAuth(c: JmqtClient): void {
  rearm(c);
  setState(c, S_AUTHENTICATING, ST_OK);
  send(c, encode(T_AUTH, { dt: c.o.auth }));
}

function sendConn(c: JmqtClient): void {
  rearm(c);
  setState(c, S_SESSION, ST_OK);
  send(c, encode(T_CONN, { at: c.at, cl: c.cl }));
}

function rearm(c: JmqtClient): void {
  if (c.t) clearTimeout(c.t);
  c.t = setTimeout(onConnTimeout, c.o.connMs!, c);
}

function handle(c: JmqtClient, f: string): void {
  var t = decode(f, c.dd);
  var b = c.dd.b;
  var cb: StatusCb | null | undefined;
  var i: number;
  if (t < 0) {
    c.counters.bad++;
    c.err = c.dd.e;
    return;
  }
  if (t == T_PUSH) onPushPacket(c, b);
  else if (t == T_PUBACK) {
    for (i = 0; i < c.w.length; i++) {
      if (c.w[i].i == b.id) {
        cb = c.w[i].c;
        c.w.splice(i, 1);
        call(c, cb, b.st, b.dt);
        return;
      }
    }
  } else if (t == T_SUBACK || t == T_UNSUBACK) {
    if (t == T_SUBACK && b.st != ST_OK && c.subs.hasOwnProperty(b.cn)) {
      delete c.subs[b.cn];
      c.ns--;
    }
    call(c, take(c, (t == T_SUBACK ? "s" : "u") + b.cn), b.st, b.cn);
  } else if (t == T_CONNACK) {
    if (c.state == S_SESSION) onConnAck(c, b);
  } else if (t == T_AUTHACK) {
    if (c.state == S_AUTHENTICATING) onAuthAck(c, b);
  } else if (t != T_HBACK) {
    c.counters.bad++;
    c.err = "unexpected " + TYPES[t];
  }
}

// SPEC "Behaviour/Session"; connAck 6 = invalid token: re-auth once when we can, else stop.
function onConnAck(c: JmqtClient, b: any): void {
  var ts: number;
  if (b.st == ST_OK) {
    if (c.t) clearTimeout(c.t);
    c.t = 0;
    ts = b.ts;
    c.hm = Math.max(1000, (ts - 2) * 1000);
    c.dm = Math.max(ts * 1000, c.hm + 1000);
    c.li = c.lh = c.ry = Date.now();
    setState(c, S_READY, ST_OK);
    if (c.state != S_READY) return;
    c.k = setTimeout(kaTick, c.hm, c);
    resume(c);
  } else if (b.st == ST_INVALID_TOKEN && c.o.auth !== undefined) {
    c.at = "";
    if (c.ra) lost(c, ST_INVALID_TOKEN);
    else {
      c.ra = 1;
      sendAuth(c);
    }
  } else if (b.st == ST_INVALID_TOKEN) halt(c, ST_INVALID_TOKEN);
  else lost(c, b.st);
}

// A refused auth will be refused again: stop, except for a server error.
function onAuthAck(c: JmqtClient, b: any): void {
  if (b.st == ST_OK) {
    c.at = b.at;
    c.cl = b.cl;
    sendConn(c);
  } else if (b.st == ST_SERVER_ERROR) lost(c, b.st);
  else halt(c, b.st);
}

// SPEC "QoS 1": ack every q=1 push that is not retained; a redelivered id is acked, not delivered.
function onPushPacket(c: JmqtClient, b: any): void {
  var q1 = b.q == 1 && !b.rt && b.id;
  if (q1) {
    if (c.rg.indexOf(b.id) >= 0) {
      send(c, encode(T_PUSHACK, { st: ST_OK, id: b.id }));
      return;
    }
    c.rg[c.rp] = b.id;
    c.rp = (c.rp + 1) % c.o.dedup;
  }
  if (c.onPush) {
    try {
      c.onPush(b.cn, b.dt, b.cl, b.rt);
    } catch (e) {
      c.err = "onPush: " + e;
    }
  }
  if (q1) send(c, encode(T_PUSHACK, { st: ST_OK, id: b.id }));
}

export function createClient(net: NetLike, opts: ClientOptions): Client {
  return new JmqtClient(net, opts);
}
