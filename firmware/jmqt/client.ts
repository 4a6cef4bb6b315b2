// The JMQT 1.0 session for the board: socket chunks -> Framer -> decode -> this state machine.
// One state variable (S_*), one write choke point (send), ONE timer (tick) that serves every
// deadline of the current state: connect/auth/connAck timeout, backoff, heartbeat, dead link and
// QoS 1 ack timeouts.
// Built for Espruino's memory (shared/espruino/README.md): every function object and every
// property name over 4 characters costs RAM, so the client is a handful of functions, its fields
// have short names, pending QoS 1 entries are small arrays, and nothing is created per packet
// except the packet itself. Socket events go to module-level handlers, the same function objects
// for every connection: they run with this = the socket (api.ts SocketLike) and find the client
// through the socket's `jc` property.
import {
  S_AUTHENTICATING, S_BACKOFF, S_CONNECTING, S_IDLE, S_READY, S_SESSION, S_STOPPED,
  ST_BUSY, ST_INVALID_CHANNEL, ST_INVALID_TOKEN, ST_NETWORK_ERROR, ST_OK, ST_SERVER_ERROR,
} from "./api";
import type { Client, ClientOptions, NetLike, SocketLike, StatusCb } from "./api";
import { Framer } from "./framer";
import type { FrameSink } from "./framer";
import {
  decode, encode,
  T_AUTH, T_AUTHACK, T_CONN, T_CONNACK, T_HB, T_HBACK, T_PUB, T_PUBACK, T_PUSH, T_PUSHACK,
  T_SUB, T_SUBACK, T_UNSUB, T_UNSUBACK, T_DISCONN,
} from "./codec";

/**
 * A QoS 1 pub or a `$` request waiting for its pubAck:
 * [id, encoded frame (resent as is, same id), callback, resends so far (-1 for a request,
 * which is never resent), deadline of the current send (0: not sent in this session)].
 */
export type Pending = [string, string, StatusCb | null | undefined, number, number];

/** The client's internal state (every name at most 4 characters). */
export interface JmqtClient extends Client, FrameSink {
  err: string;
  net: NetLike;
  /** connect options, reused for every connection */
  ad: { host: string; port: number };
  /** `dt` of the auth packet (undefined: no auth) and the token for conn */
  au: any;
  at: string;
  sk: ClientSocket | null;
  fr: Framer;
  /** decode() holder: body of the frame being handled, and the reason a frame was refused */
  b: any;
  e: string;
  /** the one timer, and the deadline of CONNECTING/AUTHENTICATING/SESSION or of BACKOFF (0: now) */
  t: any;
  dl: number;
  /** time of the last inbound frame, of the last hb sent, when READY began */
  li: number;
  lh: number;
  ry: number;
  /** hb period and dead-link limit in ms, from connAck ts */
  hm: number;
  dm: number;
  /** re-auth already tried on this connection; next backoff in ms; closes still expected from sockets ended here */
  ra: number;
  bo: number;
  ig: number;
  /** in-flight window and the last pub id */
  w: Pending[];
  ni: number;
  /** channel -> pr (bit 0) | SENT (sent in this session); their count */
  subs: { [cn: string]: number };
  ns: number;
  /** "s"/"u" + channel -> callback awaiting subAck/unsubAck; their count */
  pa: { [k: string]: StatusCb };
  np: number;
  /** ring of recent inbound QoS 1 ids and its next slot */
  rg: string[];
  rp: number;
  /** frames waiting for the socket to drain; bytes written since the last drain */
  oq: string[];
  wb: number;
  /** stop() callback, run on the close of the socket it ended */
  sc: (() => void) | null | undefined;
  /** bytes that may be written between two drain events (writeWindow) */
  ww: number;
  /** largest parse cost of an inbound frame, in blocks (maxParse; 0: no bound) */
  mp: number;
  /** while a QoS 1 push is handled: the frames its handler sent, to leave with the pushAck in one write */
  ck: string | null;
  /** limits: maxFrame, inflight, outQueue, dedup, connMs, ackMs, retries, min/maxBackoffMs, stableMs, maxSubs */
  mf: number;
  wn: number;
  qn: number;
  dn: number;
  cm: number;
  am: number;
  rn: number;
  bmin: number;
  bmax: number;
  stb: number;
  ms: number;
}

/** A socket the client opened: `jc` leads its event handlers back to the client. */
export interface ClientSocket extends SocketLike {
  jc?: JmqtClient;
}

const SENT = 2;
// ev() kinds: socket events, then the two internal steps
const EV_CONNECT = 0;
const EV_DATA = 1;
const EV_CLOSE = 2;
const EV_ERROR = 3;
const EV_DRAIN = 4;
const EV_HELLO = 5;
const EV_RESUME = 6;

function opt(v: any, d: number, least: number): number {
  return typeof v == "number" && v >= least ? v : d;
}

/** Runs an application callback; what it throws is kept in err and goes no further. */
function safe(c: JmqtClient, fn: any, a?: any, b?: any, d?: any, e?: any): void {
  if (!fn) return;
  try {
    fn(a, b, d, e);
  } catch (x) {
    c.err = "callback: " + x;
  }
}

// The one write choke point: writes one encoded frame, or queues it (bounded by outQueue) while
// the bytes written since the last `drain` would exceed writeWindow. The result of write() is
// never read: Espruino's socket.write() returns false on every call (node.js compatibility) and
// emits `drain` once its send buffer is empty, so `drain` alone says the board has room again.
function send(c: JmqtClient, f: string): boolean {
  var s = c.sk;
  if (!s) return false;
  if (c.ck != null) {
    c.ck += f;
    return true;
  }
  if (c.oq.length || (c.wb && c.wb + f.length > c.ww)) {
    if (c.oq.length >= c.qn) return false;
    c.oq.push(f);
    return true;
  }
  return put(c, s, f);
}

/** Hands one frame to the socket and counts its bytes toward the write window. */
function put(c: JmqtClient, s: SocketLike, f: string): boolean {
  c.counters.fo++;
  c.wb += f.length;
  try {
    s.write(f);
  } catch (x) {
    c.err = "write: " + x;
    return false;
  }
  return true;
}

/** Holds cb under key k (false when maxSubs are already pending), or without cb takes it back. */
function pend(c: JmqtClient, k: string, cb?: StatusCb | null): any {
  var p = c.pa;
  var had = p.hasOwnProperty(k);
  var old = p[k];
  if (cb) {
    if (!had) {
      if (c.np >= c.ms) return false;
      c.np++;
    }
    p[k] = cb;
    return cb;
  }
  if (had) {
    delete p[k];
    c.np--;
  }
  return old;
}

// The one timer. Does what is due in the current state, then re-arms for the earliest next
// deadline. The timer calls it with the client only; code that changed a deadline calls it with
// live = 1, which first clears the running timer.
// SPEC "Behaviour/Heartbeat": hb every hm ms; no inbound frame for dm ms means a dead link.
// SPEC "QoS 1": a client that gets no pubAck may resend with the same id; requests just fail.
function tick(c: JmqtClient, live?: number): void {
  var now = Date.now();
  var w = c.w;
  var i: number;
  var e: Pending;
  var d: number;
  var s: ClientSocket;
  if (live && c.t) clearTimeout(c.t);
  c.t = 0;
  if (c.state == S_BACKOFF && now >= c.dl) {
    if (c.dl) c.counters.rc++;
    c.fr = new Framer(c.mf, c, c.counters, c.mp);
    c.oq = [];
    c.wb = c.ra = 0;
    c.dl = now + c.cm;
    c.state = S_CONNECTING;
    safe(c, c.onState, S_CONNECTING, ST_OK);
    if (c.state != S_CONNECTING) return;
    try {
      s = c.sk = c.net.connect(c.ad, onSockConnect);
      s.jc = c;
      s.on("data", onSockData);
      s.on("close", onSockClose);
      s.on("error", onSockError);
      s.on("drain", onSockDrain);
    } catch (x) {
      c.err = "connect: " + x;
      down(c, ST_NETWORK_ERROR, S_BACKOFF);
      return;
    }
  } else if (c.state == S_READY) {
    if (now - c.li >= c.dm) {
      down(c, ST_NETWORK_ERROR, S_BACKOFF);
      return;
    }
    if (now - c.lh >= c.hm) {
      send(c, encode(T_HB, {}));
      c.lh = now;
    }
    for (i = 0; i < w.length; i++) {
      e = w[i];
      if (e[4] && e[4] <= now) {
        if (e[3] < 0 || e[3] >= c.rn) {
          w.splice(i--, 1);
          safe(c, e[2], ST_NETWORK_ERROR);
        } else {
          if (send(c, e[1])) e[3]++;
          e[4] = now + c.am;
        }
      }
    }
  } else if (c.state > S_IDLE && c.state < S_READY && now >= c.dl) {
    down(c, ST_NETWORK_ERROR, S_BACKOFF);
    return;
  }
  if (c.t) return;
  if (c.state == S_READY) {
    d = Math.min(c.lh + c.hm, c.li + c.dm);
    for (i = 0; i < w.length; i++) if (w[i][4] && w[i][4] < d) d = w[i][4];
  } else if (c.state > S_IDLE && c.state < S_STOPPED) d = c.dl;
  else return;
  d -= Date.now();
  c.t = setTimeout(tick, d > 1 ? d : 1, c);
}

/**
 * Leaves the session: to S_BACKOFF (link lost in an active state; retry after backoff with
 * jitter, SPEC "Disconnect") or to S_STOPPED (no retry). Socket ended, queue dropped, `$`
 * requests and unsub acks failed; QoS 1 pubs and subscriptions are sent again next session.
 */
function down(c: JmqtClient, st: number, to: number): void {
  var s = c.sk;
  var w = c.w;
  var i: number;
  var k: any;
  var d: number;
  if (to == S_BACKOFF) {
    if (c.state < S_CONNECTING || c.state > S_READY) return;
    if (c.state == S_READY && Date.now() - c.ry >= c.stb) c.bo = c.bmin;
    d = c.bo / 2 + (Math.random() * c.bo) / 2;
    c.bo = Math.min(c.bo * 2, c.bmax);
    c.dl = Date.now() + d;
  }
  c.sk = null;
  c.oq = [];
  c.wb = 0;
  for (k in c.subs) c.subs[k] &= 1;
  for (i = 0; i < w.length; i++) w[i][4] = 0;
  c.state = to;
  safe(c, c.onState, to, st);
  tick(c, 1);
  if (s) {
    c.ig++;
    try {
      s.end();
    } catch (x) {
      c.err = "end: " + x;
    }
  }
  for (i = 0; i < w.length; i++) {
    if (w[i][3] < 0) safe(c, w.splice(i--, 1)[0][2], ST_NETWORK_ERROR);
  }
  k = Object.keys(c.pa);
  for (i = 0; i < k.length; i++) {
    if (k[i].charAt(0) == "u" || typeof c.subs[k[i].substring(1)] != "number") safe(c, pend(c, k[i]), ST_NETWORK_ERROR);
  }
}

// Socket events of socket s (from the handlers below), and two steps of the session run through
// the same function with s = the current socket: EV_HELLO sends auth or conn, EV_RESUME sends
// what a new session (or a drained socket) owes: subscriptions and QoS 1 pubs not yet sent in
// this session. Only the current socket (c.sk) reaches the session: an old socket's data, error,
// drain or connect after a reconnect is dropped, and its close only counts toward stop()'s cb.
function ev(s: ClientSocket | null, k: number, a?: any): void {
  var c = s && s.jc;
  var w: Pending[];
  var i: number;
  var v: number;
  var cn: string;
  if (!c) return;
  if (c.sk != s) {
    if (k == EV_CLOSE && c.ig && !--c.ig && c.sc) {
      a = c.sc;
      c.sc = null;
      safe(c, a);
    }
    return;
  }
  w = c.w;
  if (k == EV_DATA) {
    c.fr.feed(a);
    return;
  }
  if (k == EV_CLOSE) {
    c.sk = null;
    down(c, ST_NETWORK_ERROR, S_BACKOFF);
    return;
  }
  if (k == EV_ERROR) {
    c.err = "socket: " + (a && a.message ? a.message : a);
    return;
  }
  if (k == EV_CONNECT || k == EV_HELLO) {
    if (k == EV_CONNECT && c.state != S_CONNECTING) return;
    c.dl = Date.now() + c.cm;
    c.state = v = c.au !== undefined && !c.at ? S_AUTHENTICATING : S_SESSION;
    safe(c, c.onState, v, ST_OK);
    send(c, v == S_SESSION ? encode(T_CONN, { at: c.at, cl: c.cl }) : encode(T_AUTH, { dt: c.au }));
    tick(c, 1);
    return;
  }
  if (k == EV_DRAIN) {
    c.wb = 0;
    while (c.oq.length && (!c.wb || c.wb + c.oq[0].length <= c.ww)) put(c, s!, c.oq.shift() as string);
  }
  if (c.oq.length || c.state != S_READY) return;
  for (cn in c.subs) {
    v = c.subs[cn];
    if (!(v & SENT)) {
      if (!send(c, encode(T_SUB, v ? { cn: cn, pr: 1 } : { cn: cn }))) return;
      c.subs[cn] = v | SENT;
    }
  }
  for (i = 0; i < w.length; i++) {
    if (!w[i][4]) {
      if (!send(c, w[i][1])) break;
      w[i][4] = Date.now() + c.am || 1;
    }
  }
  tick(c, 1);
}

// The socket event handlers: defined once, registered on every socket, called with this = the
// socket (SocketLike contract in api.ts), so a connection costs no function objects.
function onSockConnect(this: ClientSocket): void {
  ev(this, EV_CONNECT);
}
function onSockData(this: ClientSocket, d: string): void {
  ev(this, EV_DATA, d);
}
function onSockClose(this: ClientSocket): void {
  ev(this, EV_CLOSE);
}
function onSockError(this: ClientSocket, e: any): void {
  ev(this, EV_ERROR, e);
}
function onSockDrain(this: ClientSocket): void {
  ev(this, EV_DRAIN);
}

function refused(c: JmqtClient): number {
  c.counters.qd++;
  return ST_BUSY;
}

const P = {
  start(this: JmqtClient): void {
    var s = this.state;
    if (s == S_IDLE || s == S_STOPPED) this.bo = this.bmin;
    else if (s != S_BACKOFF) return;
    this.state = S_BACKOFF;
    this.dl = 0;
    tick(this, 1);
  },

  stop(this: JmqtClient, cb?: () => void): void {
    var s = this.sk;
    var q = this.oq;
    // what is queued leaves first, then disconn (SPEC "Disconnect"); end() sends what was written
    if (s && this.state == S_READY) {
      while (q.length) put(this, s, q.shift() as string);
      put(this, s, encode(T_DISCONN, {}));
    }
    this.sc = s ? cb : null;
    down(this, ST_OK, S_STOPPED);
    if (!s && cb) cb();
  },

  // QoS 1 pubs and `$` requests (rq = 1, from request()) wait in the window for their pubAck.
  pub(this: JmqtClient, cn: string, dt: any, q: number, rt: number, cb?: StatusCb | null, rq?: number): number {
    var c = this;
    var c0: string;
    var b: any;
    var e: Pending;
    if (typeof cn != "string" || !cn) return ST_INVALID_CHANNEL;
    c0 = cn.charAt(0);
    if (rq ? c0 != "$" : c0 == "$" || (rt && c0 == "#")) return ST_INVALID_CHANNEL;
    if ((rq || !q) && c.state != S_READY) return ST_NETWORK_ERROR;
    b = { cn: cn, dt: dt };
    if (rt) b.rt = 1;
    if (!q && !rq) return send(c, encode(T_PUB, b)) ? ST_OK : refused(c);
    if (c.w.length >= c.wn) return refused(c);
    if (!rq) b.q = 1;
    b.id = "" + ++c.ni;
    e = [b.id, encode(T_PUB, b), cb, rq ? -1 : 0, 0];
    if (c.state == S_READY) {
      if (!send(c, e[1])) return refused(c);
      e[4] = Date.now() + c.am || 1;
    }
    c.w.push(e);
    tick(c, 1);
    return ST_OK;
  },

  p2p(this: JmqtClient, clientId: string, dt: any, q: number, cb?: StatusCb | null): number {
    if (typeof clientId != "string" || !clientId) return ST_INVALID_CHANNEL;
    return this.pub("#" + clientId, dt, q, 0, cb);
  },

  request(this: JmqtClient, cn: string, dt: any, cb: StatusCb): number {
    return (this.pub as any)(cn, dt, 0, 0, cb, 1);
  },

  // SPEC "P2P": clients may not sub/unsub `#` or `$` channels; refused here before sending.
  sub(this: JmqtClient, cn: string, pr: number, cb?: StatusCb | null): number {
    var c = this;
    var had: boolean;
    if (typeof cn != "string" || !cn || cn.charAt(0) == "#" || cn.charAt(0) == "$") return ST_INVALID_CHANNEL;
    had = typeof c.subs[cn] == "number";
    if ((!had && c.ns >= c.ms) || (cb && !pend(c, "s" + cn, cb))) return refused(c);
    if (!had) c.ns++;
    c.subs[cn] = pr ? 1 : 0;
    if (c.state == S_READY && send(c, encode(T_SUB, pr ? { cn: cn, pr: 1 } : { cn: cn }))) c.subs[cn] |= SENT;
    return ST_OK;
  },

  unsub(this: JmqtClient, cn: string, cb?: StatusCb | null): number {
    var c = this;
    if (typeof cn != "string" || !cn || cn.charAt(0) == "#" || cn.charAt(0) == "$") return ST_INVALID_CHANNEL;
    if (c.state != S_READY) return ST_NETWORK_ERROR;
    if ((cb && !pend(c, "u" + cn, cb)) || !send(c, encode(T_UNSUB, { cn: cn }))) {
      if (cb) pend(c, "u" + cn);
      return refused(c);
    }
    if (typeof c.subs[cn] == "number") {
      delete c.subs[cn];
      c.ns--;
    }
    return ST_OK;
  },

  // One inbound frame from the framer. SPEC "Behaviour/Session": connAck 6 = invalid token:
  // re-auth once when there is auth data, else stop; a refused auth stops (except a server
  // error). SPEC "QoS 1": every q=1 push that is not retained is acked; a redelivered id is
  // acked, not delivered again.
  onFrame(this: JmqtClient, f: string): void {
    var c = this;
    var t: number;
    var b: any;
    var i: number;
    var q1: any;
    var dup: boolean;
    c.counters.fi++;
    c.li = Date.now();
    try {
      t = /*@__NOINLINE__*/ decode(f, c);
      b = c.b;
      if (t < 0) {
        c.counters.bad++;
        c.err = c.e;
      } else if (t == T_PUSH) {
        // SPEC "QoS 1": what the handler sends (a command's reply) leaves in the same write as
        // the pushAck; when the socket cannot take them, neither goes and the id is not
        // remembered, so the broker delivers the push again instead of it being acked and lost.
        q1 = b.q == 1 && !b.rt && b.id;
        dup = q1 && c.rg.indexOf(b.id) >= 0;
        if (q1) c.ck = "";
        if (!dup) safe(c, c.onPush, b.cn, b.dt, b.cl, b.rt);
        else safe(c, c.onRepeat, b.cn, b.dt, b.cl);
        if (q1) {
          f = c.ck + encode(T_PUSHACK, { st: ST_OK, id: b.id });
          c.ck = null;
          if (!send(c, f)) refused(c);
          else if (!dup) {
            c.rg[c.rp] = b.id;
            c.rp = (c.rp + 1) % c.dn;
          }
        }
      } else if (t == T_PUBACK) {
        for (i = 0; i < c.w.length; i++) {
          if (c.w[i][0] == b.id) {
            safe(c, c.w.splice(i, 1)[0][2], b.st, b.dt);
            break;
          }
        }
      } else if (t == T_SUBACK || t == T_UNSUBACK) {
        if (t == T_SUBACK && b.st != ST_OK && typeof c.subs[b.cn] == "number") {
          delete c.subs[b.cn];
          c.ns--;
        }
        safe(c, pend(c, (t == T_SUBACK ? "s" : "u") + b.cn), b.st, b.cn);
      } else if (t == T_CONNACK) {
        if (c.state == S_SESSION) {
          if (b.st == ST_OK) {
            c.hm = Math.max(1000, (b.ts - 2) * 1000);
            c.dm = Math.max(b.ts * 1000, c.hm + 1000);
            c.li = c.lh = c.ry = Date.now();
            c.state = S_READY;
            safe(c, c.onState, S_READY, ST_OK);
            ev(c.sk, EV_RESUME);
          } else if (b.st != ST_INVALID_TOKEN) down(c, b.st, S_BACKOFF);
          else if (c.au === undefined) down(c, b.st, S_STOPPED);
          else {
            c.at = "";
            if (c.ra) down(c, b.st, S_BACKOFF);
            else {
              c.ra = 1;
              ev(c.sk, EV_HELLO);
            }
          }
        }
      } else if (t == T_AUTHACK) {
        if (c.state == S_AUTHENTICATING) {
          if (b.st == ST_OK) {
            c.at = b.at;
            c.cl = b.cl;
            ev(c.sk, EV_HELLO);
          } else down(c, b.st, b.st == ST_SERVER_ERROR ? S_BACKOFF : S_STOPPED);
        }
      } else if (t != T_HBACK) {
        c.counters.bad++;
        c.err = "unexpected " + f.substring(0, 24);
      }
    } catch (x) {
      c.err = "handler: " + x;
    }
    c.ck = c.b = null;
  },
};

export function createClient(net: NetLike, o: ClientOptions): Client {
  var c: JmqtClient = Object.create(P);
  c.net = net;
  c.ad = { host: o.host, port: o.port };
  c.au = o.auth;
  c.cl = o.cl || "";
  c.at = o.at || "";
  c.mf = opt(o.maxFrame, 1024, 1);
  c.wn = opt(o.inflight, 4, 1);
  c.qn = opt(o.outQueue, 8, 1);
  c.ww = opt(o.writeWindow, 1024, 64);
  c.mp = opt(o.maxParse, 0, 0);
  c.ck = null;
  c.dn = opt(o.dedup, 8, 1);
  c.cm = opt(o.connMs, 10000, 0);
  c.am = opt(o.ackMs, 10000, 0);
  c.rn = opt(o.retries, 5, 0);
  c.bo = c.bmin = opt(o.minBackoffMs, 1000, 0);
  c.bmax = opt(o.maxBackoffMs, 60000, 0);
  c.stb = opt(o.stableMs, 30000, 0);
  c.ms = opt(o.maxSubs, 16, 0);
  c.state = S_IDLE;
  c.counters = { fi: 0, fo: 0, bad: 0, big: 0, heavy: 0, rc: 0, qd: 0 };
  c.err = "";
  c.onPush = c.onState = c.onRepeat = null;
  c.sk = c.b = null;
  c.e = "";
  c.t = c.dl = c.li = c.lh = c.ry = c.hm = c.dm = c.ra = c.ig = c.ni = c.ns = c.np = c.rp = c.wb = 0;
  // q1 ids are numbered from a random start, so that ids after a reboot do not repeat the ones
  // a broker remembers from the previous boot (it drops a resent id as a duplicate). The clock is
  // mixed in: the Linux build of Espruino seeds Math.random the same way at every start.
  c.ni = Math.floor(Math.random() * 1048576) ^ (Date.now() & 1048575);
  c.w = [];
  c.subs = {};
  c.pa = {};
  c.rg = [];
  c.oq = [];
  return c;
}
