// JMQT 1.0 broker over plain TCP (SPEC.md; behaviour matched to the reference server's capture in
// vectors.json `exchange`). One Session per socket, one ClientRecord per client id (it outlives the
// socket: persistent subscriptions and stored q1 messages live there).
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import * as net from "node:net";
import {
  type Body,
  decode,
  encode,
  flag,
  isChannel,
  packetId,
  ST_FAILED,
  ST_INVALID_CHANNEL,
  ST_INVALID_PACKET,
  ST_INVALID_TOKEN,
  ST_NOT_ALLOWED,
  ST_OK,
  ST_CLIENT_OFFLINE,
  ST_SERVER_ERROR,
} from "./codec";
import { Framer } from "./framer";
import type { AuthResult, BadFrameEvent, BrokerOptions, BrokerStats, ConnResult, PacketEvent } from "./types";

interface StoredMsg {
  id: string;
  frame: string;
  body: Body;
  /** kept across sessions: delivered through a persistent subscription or P2P */
  keep: boolean;
}

interface Retained {
  dt: unknown;
  cl: string;
}

class ClientRecord {
  /** channel → persistent */
  readonly subs = new Map<string, boolean>();
  /** unacknowledged q1 pushes by server id, oldest first */
  readonly pending = new Map<string, StoredMsg>();
  session: Session | null = null;
  /** token issued by the last successful auth */
  issuedToken: string | null = null;
  /** ids of the client's latest q1 pubs, oldest first (bounded by RECENT_PUB_IDS) */
  private readonly recentIds = new Set<string>();
  constructor(readonly id: string) {}

  // SPEC "QoS 1": a client that gets no pubAck may resend with the same id. The id is remembered
  // across the client's sessions, so a resend after a lost pubAck is acked again but not
  // delivered twice.
  /** true when `id` was already published by this client; else remembers it */
  seenPub(id: string): boolean {
    if (this.recentIds.has(id)) return true;
    this.recentIds.add(id);
    if (this.recentIds.size > RECENT_PUB_IDS) this.recentIds.delete(this.recentIds.values().next().value as string);
    return false;
  }
}

/** q1 pub ids remembered per client to drop resends (a device's in-flight window is at most a few). */
const RECENT_PUB_IDS = 256;

class Session {
  readonly framer: Framer;
  record: ClientRecord | null = null;
  out: string[] = [];
  outChars = 0;
  lastSeen: number;
  timer: NodeJS.Timeout | null = null;
  ended = false;
  closed = false;
  /** raw bytes injected by a test left a frame open: the broker's own frames wait (injectRaw) */
  rawOpen = false;
  /** ids of stored q1 messages still to resend after conn, paced by the socket's drain */
  redeliver: string[] | null = null;
  redeliverAt = 0;
  readonly label: string;

  constructor(
    readonly socket: net.Socket,
    private readonly broker: Broker,
    maxFrame: number,
  ) {
    this.lastSeen = Date.now();
    this.label = `${socket.remoteAddress}:${socket.remotePort}`;
    this.framer = new Framer(maxFrame, this);
  }

  get cl(): string | null {
    return this.record ? this.record.id : null;
  }

  frame(text: string): void {
    this.broker.onFrame(this, text);
  }

  oversize(): void {
    this.broker.onOversize(this);
  }

  backlog(): number {
    return this.outChars + this.socket.writableLength;
  }
}

type Resolved = Required<Omit<BrokerOptions, "validateAuth" | "validateConn" | "log" | "onPacket" | "announce">> & {
  announce: string | false;
};

export class Broker extends EventEmitter {
  readonly host: string;
  port = 0;
  readonly stats: BrokerStats = {
    sockets: 0,
    connects: 0,
    framesIn: 0,
    framesOut: 0,
    msgsIn: 0,
    msgsOut: 0,
    bad: 0,
    oversize: 0,
    dropped: 0,
    slowKicks: 0,
    pendingDropped: 0,
    duplicatePubs: 0,
    timeouts: 0,
    errors: 0,
  };

  private readonly opt: Resolved;
  private readonly validateAuth?: (dt: unknown) => AuthResult;
  private readonly validateConn?: (cl: string, at: string) => ConnResult;
  private readonly logFn?: (line: string) => void;
  private readonly onPacketFn?: (ev: PacketEvent) => void;
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly records = new Map<string, ClientRecord>();
  /** channel → subscribed records (online ones, plus offline ones with a persistent subscription) */
  private readonly channels = new Map<string, Set<ClientRecord>>();
  private readonly retained = new Map<string, Retained>();
  private readonly dirty = new Set<Session>();
  private flushQueued = false;
  private generated = 0;

  constructor(opts: BrokerOptions = {}) {
    super();
    const ts = opts.ts ?? 15;
    this.opt = {
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 8010,
      ts,
      timeoutMs: opts.timeoutMs ?? ts * 1000,
      maxFrame: opts.maxFrame ?? 65536,
      maxClientBuffer: opts.maxClientBuffer ?? 1 << 20,
      maxPending: opts.maxPending ?? 1000,
      maxSubs: opts.maxSubs ?? 256,
      maxRetained: opts.maxRetained ?? 10000,
      maxClients: opts.maxClients ?? 10000,
      token: opts.token ?? "test-token",
      announce: opts.announce === undefined ? "update" : opts.announce,
    };
    this.host = this.opt.host;
    this.validateAuth = opts.validateAuth;
    this.validateConn = opts.validateConn;
    this.logFn = opts.log;
    this.onPacketFn = opts.onPacket;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.opt.port, this.opt.host, () => {
        this.server.off("error", onError);
        this.server.on("error", (err) => this.log(`server error: ${err.message}`));
        const addr = this.server.address() as net.AddressInfo;
        this.port = addr.port;
        this.log(`listening on ${this.host}:${this.port} (ts=${this.opt.ts})`);
        resolve();
      });
    });
  }

  /** Stops listening, drops every socket, clears timers. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of [...this.sessions]) this.drop(s, "broker closing");
      this.server.close(() => resolve());
    });
  }

  /** ids of connected clients */
  clients(): string[] {
    const ids: string[] = [];
    for (const s of this.sessions) if (s.record && !s.ended) ids.push(s.record.id);
    return ids;
  }

  /** Drops a client's socket abruptly (no disconn): an abrupt loss for everyone. Returns false if not connected. */
  kick(cl: string): boolean {
    const rec = this.records.get(cl);
    if (!rec || !rec.session) return false;
    this.drop(rec.session, "kicked");
    return true;
  }

  /**
   * Test hook, for a network that corrupts: writes raw bytes (latin1: one byte per character;
   * anything, not only frames) to a connected client's socket, after the frames already queued
   * for it. Returns false when the client is not connected. Bytes that leave a frame open (no NUL
   * after their last character) hold the broker's own frames for that client (an hbAck, a push)
   * until an injection ends at a frame boundary: a frame injected in pieces reaches the client
   * whole, as the test wrote it, instead of with a heartbeat's ack spliced into it.
   */
  injectRaw(cl: string, bytes: string): boolean {
    const rec = this.records.get(cl);
    const s = rec && rec.session;
    if (!s || s.closed || s.socket.destroyed) return false;
    // (flushSession writes nothing while rawOpen)
    this.flushSession(s);
    s.socket.write(Buffer.from(bytes, "latin1"));
    if (bytes.length) s.rawOpen = bytes.charCodeAt(bytes.length - 1) !== 0;
    this.flushSession(s);
    return true;
  }

  /** stored unacknowledged q1 messages for a client (online or offline) */
  pendingCount(cl: string): number {
    const rec = this.records.get(cl);
    return rec ? rec.pending.size : 0;
  }

  /** characters waiting to be written to a connected client (ours plus the socket's), 0 if offline */
  backlog(cl: string): number {
    const rec = this.records.get(cl);
    return rec && rec.session && !rec.session.closed ? rec.session.backlog() : 0;
  }

  /** the subscriptions a client holds: channel → persistent */
  subscriptions(cl: string): Record<string, boolean> {
    const rec = this.records.get(cl);
    const out: Record<string, boolean> = {};
    if (rec) for (const [cn, pr] of rec.subs) out[cn] = pr;
    return out;
  }

  /** Pushes from the server itself (cl "") to every online subscriber of cn; q0. */
  serverPush(cn: string, dt: unknown): number {
    return this.fanout(cn, { cn, dt, cl: "" }, null);
  }

  // ---- sockets ----

  private accept(socket: net.Socket): void {
    this.stats.sockets++;
    socket.setNoDelay(true);
    const s = new Session(socket, this, this.opt.maxFrame);
    this.sessions.add(s);
    socket.on("data", (chunk: Buffer) => this.onData(s, chunk));
    socket.on("drain", () => this.onDrain(s));
    socket.on("error", (err) => this.log(`${this.who(s)} socket error: ${err.message}`));
    socket.on("close", () => this.onClose(s));
    this.armTimer(s);
  }

  private onData(s: Session, chunk: Buffer): void {
    if (s.closed) return;
    s.framer.push(chunk);
    // Inbound backpressure: a client that does not read its acks stops being read (and so cannot flood).
    if (!s.closed && s.socket.writableNeedDrain && s.backlog() > this.opt.maxClientBuffer / 2) s.socket.pause();
  }

  private onDrain(s: Session): void {
    if (s.closed) return;
    if (s.redeliver) this.continueRedelivery(s);
    if (s.socket.isPaused()) s.socket.resume();
  }

  private onClose(s: Session): void {
    s.closed = true;
    this.endSession(s, "connection lost");
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    this.sessions.delete(s);
    this.dirty.delete(s);
  }

  /** Closes a socket abruptly, ending its session first so that state is consistent at once. */
  private drop(s: Session, reason: string): void {
    this.endSession(s, reason);
    s.out = [];
    s.outChars = 0;
    s.socket.destroy();
  }

  // The idle timer checks lastSeen instead of being reset per packet, so a busy session costs one
  // timer per timeout period. Before conn the deadline counts from the socket's opening.
  private armTimer(s: Session): void {
    const left = s.lastSeen + this.opt.timeoutMs - Date.now();
    s.timer = setTimeout(() => this.onTimer(s), Math.max(0, left));
  }

  private onTimer(s: Session): void {
    s.timer = null;
    if (s.closed) return;
    if (Date.now() - s.lastSeen >= this.opt.timeoutMs) {
      this.stats.timeouts++;
      this.drop(s, s.record ? `no traffic for ${this.opt.timeoutMs} ms` : "no conn in time");
      return;
    }
    this.armTimer(s);
  }

  // ---- frames in ----

  /** @internal called by the session's framer */
  onFrame(s: Session, text: string): void {
    if (s.closed) return;
    const res = decode(text);
    if (!res.ok) {
      this.bad(s, res.reason, text);
      return;
    }
    this.stats.framesIn++;
    const { type, body } = res.packet;
    this.emitPacket("in", s, type, body);
    try {
      this.handle(s, type, body);
    } catch (err) {
      this.stats.errors++;
      this.log(`${this.who(s)} error handling ${type}: ${(err as Error).stack ?? err}`);
      if (type === "pub" && packetId(body.id) !== null) this.send(s, "pubAck", { st: ST_SERVER_ERROR, id: body.id });
    }
  }

  /** @internal */
  onOversize(s: Session): void {
    this.stats.oversize++;
    this.log(`${this.who(s)} frame over ${this.opt.maxFrame} bytes dropped`);
    this.emit("bad", { cl: s.cl, reason: "oversize", text: "" } satisfies BadFrameEvent);
  }

  private bad(s: Session, reason: string, text: string): void {
    this.stats.bad++;
    this.log(`${this.who(s)} bad frame (${reason}): ${JSON.stringify(text.slice(0, 80))}`);
    this.emit("bad", { cl: s.cl, reason, text: text.slice(0, 80) } satisfies BadFrameEvent);
  }

  private handle(s: Session, type: string, body: Body): void {
    const connected = s.record !== null && !s.ended;
    if (type === "auth") return this.onAuth(s, body);
    if (type === "conn") return this.onConn(s, body);
    // SPEC "Session": only a connected session may pub/sub/unsub/hb; the reference server ignores them before.
    if (!connected) return;
    s.lastSeen = Date.now();
    switch (type) {
      case "hb":
        return this.send(s, "hbAck", {});
      case "sub":
        return this.onSub(s, body);
      case "unsub":
        return this.onUnsub(s, body);
      case "pub":
        return this.onPub(s, body);
      case "pushAck":
        return this.onPushAck(s, body);
      case "disconn":
        return this.onDisconn(s);
    }
  }

  // ---- auth / conn / disconn ----

  private onAuth(s: Session, body: Body): void {
    let res: AuthResult;
    try {
      res = this.validateAuth ? this.validateAuth(body.dt) : this.defaultAuth(body.dt);
    } catch (err) {
      this.log(`${this.who(s)} validateAuth threw: ${(err as Error).message}`);
      res = ST_SERVER_ERROR;
    }
    if (res && typeof res === "object" && typeof res.cl === "string" && res.cl && typeof res.at === "string") {
      const rec = this.record(res.cl);
      rec.issuedToken = res.at;
      this.send(s, "authAck", { st: ST_OK, at: res.at, cl: res.cl });
      return;
    }
    const st = typeof res === "number" && res !== ST_OK ? res : ST_FAILED;
    this.send(s, "authAck", { st, mg: st === ST_SERVER_ERROR ? "server error" : "authentication failed" });
  }

  private defaultAuth(dt: unknown): AuthResult {
    const name = dt && typeof dt === "object" ? (dt as Body).client_name : undefined;
    const cl = typeof name === "string" && name.length > 0 && name.length <= 128 ? name : this.generateId();
    return { cl, at: this.opt.token };
  }

  private generateId(): string {
    let id: string;
    do id = `c${++this.generated}-${randomUUID().slice(0, 8)}`;
    while (this.records.has(id));
    return id;
  }

  private onConn(s: Session, body: Body): void {
    const { cl, at } = body;
    let st: number;
    if (typeof cl !== "string" || cl.length === 0 || cl.length > 128 || typeof at !== "string") {
      st = ST_INVALID_PACKET;
    } else if (s.record && !s.ended) {
      // A second conn on an open session: same id is a no-op success, another id is refused.
      st = s.record.id === cl ? ST_OK : ST_NOT_ALLOWED;
      this.send(s, "connAck", st === ST_OK ? { st, ts: this.opt.ts } : { st });
      return;
    } else {
      st = this.checkConn(s, cl, at);
    }
    if (st !== ST_OK) {
      // The reference server sent ts with st 6 too (vectors.json exchange); the socket stays open.
      this.send(s, "connAck", { st, ts: this.opt.ts });
      this.log(`${this.who(s)} conn refused for ${JSON.stringify(cl)} (st ${st})`);
      return;
    }
    this.openSession(s, cl as string);
  }

  private checkConn(s: Session, cl: string, at: string): number {
    if (!this.validateConn) {
      const rec = this.records.get(cl);
      return at === this.opt.token || (rec !== undefined && rec.issuedToken === at) ? ST_OK : ST_INVALID_TOKEN;
    }
    try {
      const r = this.validateConn(cl, at);
      return r === true ? ST_OK : r === false ? ST_INVALID_TOKEN : typeof r === "number" ? r : ST_INVALID_TOKEN;
    } catch (err) {
      this.log(`${this.who(s)} validateConn threw: ${(err as Error).message}`);
      return ST_SERVER_ERROR;
    }
  }

  private openSession(s: Session, cl: string): void {
    const rec = this.record(cl);
    if (rec.session && rec.session !== s) this.drop(rec.session, "taken over by a new connection");
    s.record = rec;
    s.ended = false;
    rec.session = s;
    s.lastSeen = Date.now();
    this.stats.connects++;
    this.send(s, "connAck", { st: ST_OK, ts: this.opt.ts });
    // SPEC "P2P": the server subscribes each client to its own P2P channel when the session opens.
    this.subscribe(rec, "#" + cl, true);
    const ann = this.opt.announce;
    if (ann) {
      this.subscribe(rec, ann, true);
      this.serverPush(ann, { online: cl });
    }
    // SPEC "Retained": pushed for persistent subscriptions on connect.
    for (const [cn, pr] of rec.subs) if (pr) this.pushRetained(s, cn);
    // SPEC "QoS 1": unacknowledged q1 pushes are sent again on the next session.
    if (rec.pending.size > 0) {
      s.redeliver = [...rec.pending.keys()];
      s.redeliverAt = 0;
      this.continueRedelivery(s);
    }
    this.log(`${cl} connected from ${s.label}`);
    this.emit("connect", cl);
  }

  // Stored messages can be far more than maxClientBuffer: resend them half a buffer at a time, going
  // on when the socket drains (messages acked or dropped meanwhile are skipped).
  private continueRedelivery(s: Session): void {
    const ids = s.redeliver;
    const rec = s.record;
    if (!ids || !rec || s.ended || s.closed) {
      s.redeliver = null;
      return;
    }
    const limit = this.opt.maxClientBuffer / 2;
    while (s.redeliverAt < ids.length && s.backlog() < limit) {
      const m = rec.pending.get(ids[s.redeliverAt++]);
      if (m) this.deliver(s, "push", m.body, m.frame, false);
    }
    if (s.redeliverAt >= ids.length) {
      s.redeliver = null;
      return;
    }
    this.flushSession(s);
    if (!s.socket.writableNeedDrain) setImmediate(() => this.continueRedelivery(s));
  }

  private onDisconn(s: Session): void {
    this.endSession(s, "disconn");
    this.flushSession(s);
    s.socket.end();
    s.closed = true;
  }

  /** Ends the session (once): drops its non-persistent state, announces offline. The socket may stay. */
  private endSession(s: Session, reason: string): void {
    const rec = s.record;
    if (s.ended || !rec) {
      s.ended = true;
      return;
    }
    s.ended = true;
    if (rec.session !== s) return;
    rec.session = null;
    for (const [cn, pr] of [...rec.subs]) if (!pr) this.unsubscribe(rec, cn);
    for (const [id, m] of [...rec.pending]) if (!m.keep) rec.pending.delete(id);
    if (this.opt.announce) this.serverPush(this.opt.announce, { offline: rec.id });
    this.log(`${rec.id} disconnected (${reason})`);
    this.emit("disconnect", rec.id, reason);
  }

  // ---- sub / unsub ----

  private onSub(s: Session, body: Body): void {
    const rec = s.record!;
    const cn = body.cn;
    const pr = flag(body.pr);
    let st: number = ST_OK;
    if (!isChannel(cn)) st = ST_INVALID_CHANNEL;
    else if (pr < 0) st = ST_INVALID_PACKET;
    // SPEC "P2P": clients may not sub/unsub `#` or `$` channels (the reference server answers 7).
    else if (cn[0] === "#" || cn[0] === "$") st = ST_NOT_ALLOWED;
    else if (!rec.subs.has(cn) && rec.subs.size >= this.opt.maxSubs) st = ST_FAILED;
    // SPEC "Persistent subscription": to change persistence, unsub then sub; a repeated sub keeps it.
    else if (!rec.subs.has(cn)) this.subscribe(rec, cn, pr === 1);
    this.send(s, "subAck", { st, cn: cn ?? "" });
    if (st === ST_OK) this.pushRetained(s, cn);
  }

  private onUnsub(s: Session, body: Body): void {
    const rec = s.record!;
    const cn = body.cn;
    let st: number = ST_OK;
    if (!isChannel(cn)) st = ST_INVALID_CHANNEL;
    else if (cn[0] === "#" || cn[0] === "$") st = ST_NOT_ALLOWED;
    else this.unsubscribe(rec, cn);
    this.send(s, "unsubAck", { st, cn: cn ?? "" });
  }

  private subscribe(rec: ClientRecord, cn: string, persistent: boolean): void {
    rec.subs.set(cn, persistent);
    let set = this.channels.get(cn);
    if (!set) this.channels.set(cn, (set = new Set()));
    set.add(rec);
  }

  private unsubscribe(rec: ClientRecord, cn: string): void {
    rec.subs.delete(cn);
    const set = this.channels.get(cn);
    if (!set) return;
    set.delete(rec);
    if (set.size === 0) this.channels.delete(cn);
  }

  // ---- pub / push ----

  private onPub(s: Session, body: Body): void {
    const rec = s.record!;
    const { cn, id } = body;
    const hasId = packetId(id) !== null;
    const q = flag(body.q);
    const rt = flag(body.rt);
    let st = ST_OK;
    if (!isChannel(cn)) st = ST_INVALID_CHANNEL;
    else if (q < 0 || rt < 0 || !("dt" in body)) st = ST_INVALID_PACKET;
    // SPEC "pub": id is required when q=1 or the channel starts with `$`; without one there is nothing to ack.
    else if ((q === 1 || cn[0] === "$") && !hasId) st = ST_INVALID_PACKET;
    if (st !== ST_OK) {
      this.stats.bad++;
      this.log(`${rec.id} invalid pub (st ${st}): ${JSON.stringify(body).slice(0, 80)}`);
      if (hasId) this.send(s, "pubAck", { st, id });
      return;
    }
    this.stats.msgsIn++;
    if (cn[0] === "$") return this.onControl(s, cn, id, body.dt);
    if (q === 1 && rec.seenPub(String(id))) {
      this.stats.duplicatePubs++;
      this.send(s, "pubAck", { st: ST_OK, id });
      return;
    }
    if (cn[0] === "#") return this.onP2P(s, cn, q, id, body.dt);
    if (rt === 1) this.retain(cn, body.dt, rec.id);
    if (q === 1) this.send(s, "pubAck", { st: ST_OK, id });
    if (q === 1) this.fanoutQ1(cn, body.dt, rec.id);
    else this.fanout(cn, { cn, dt: body.dt, cl: rec.id }, null);
  }

  // SPEC "P2P": `#<id>` addresses one client; an absent target answers pubAck st 8 (q=1).
  private onP2P(s: Session, cn: string, q: number, id: unknown, dt: unknown): void {
    const target = this.records.get(cn.slice(1));
    const ts = target && target.session;
    if (!target || !ts || ts.ended) {
      if (q === 1) this.send(s, "pubAck", { st: ST_CLIENT_OFFLINE, id });
      return;
    }
    const from = s.record!.id;
    if (q === 1) {
      this.send(s, "pubAck", { st: ST_OK, id });
      this.storeAndPush(target, this.q1Body(cn, dt, from), true);
    } else {
      this.deliver(ts, "push", { cn, dt, cl: from }, null, true);
    }
  }

  // SPEC "Control channels": a `$` pub is a request to the server, answered by pubAck with dt.
  // Unknown control channels answer st 0 (FAILED).
  private onControl(s: Session, cn: string, id: unknown, _dt: unknown): void {
    const rec = s.record!;
    if (cn === "$mySubscriptions") {
      const channels: Record<string, string> = {};
      for (const [c, pr] of rec.subs) channels[c] = pr ? "persistent" : "temporary";
      this.send(s, "pubAck", { st: ST_OK, id, dt: { channels } });
      return;
    }
    this.send(s, "pubAck", { st: ST_FAILED, id });
  }

  private q1Body(cn: string, dt: unknown, from: string): Body {
    return { cn, dt, cl: from, id: randomUUID(), q: 1 };
  }

  /** q0 push to every online subscriber; one encoded frame shared by all. Returns recipients. */
  private fanout(cn: string, body: Body, frame: string | null): number {
    const set = this.channels.get(cn);
    if (!set) return 0;
    let n = 0;
    for (const r of set) {
      const ss = r.session;
      if (!ss || ss.ended) continue;
      if (frame === null) frame = encode("push", body);
      if (this.deliver(ss, "push", body, frame, true)) n++;
    }
    return n;
  }

  /** q1: one server id per message; stored for every subscriber that must get it, pushed to the online ones. */
  private fanoutQ1(cn: string, dt: unknown, from: string): void {
    const set = this.channels.get(cn);
    if (!set) return;
    const body = this.q1Body(cn, dt, from);
    const frame = encode("push", body);
    for (const r of [...set]) {
      const online = r.session !== null && !r.session.ended;
      const persistent = r.subs.get(cn) === true;
      // SPEC "Persistent subscription": q1 messages are stored for an offline persistent subscriber.
      if (!online && !persistent) continue;
      this.store(r, { id: body.id, frame, body, keep: persistent });
      if (online) this.deliver(r.session!, "push", body, frame, false);
    }
  }

  private storeAndPush(r: ClientRecord, body: Body, keep: boolean): void {
    const frame = encode("push", body);
    this.store(r, { id: body.id, frame, body, keep });
    if (r.session && !r.session.ended) this.deliver(r.session, "push", body, frame, false);
  }

  private store(r: ClientRecord, m: StoredMsg): void {
    if (r.pending.size >= this.opt.maxPending) {
      const oldest = r.pending.keys().next().value as string;
      r.pending.delete(oldest);
      this.stats.pendingDropped++;
      this.log(`${r.id}: over ${this.opt.maxPending} stored q1 messages, oldest dropped`);
    }
    r.pending.set(m.id, m);
  }

  private onPushAck(s: Session, body: Body): void {
    const id = packetId(body.id);
    if (id === null) this.stats.bad++;
    else s.record!.pending.delete(id);
  }

  private retain(cn: string, dt: unknown, from: string): void {
    this.retained.delete(cn);
    this.retained.set(cn, { dt, cl: from });
    if (this.retained.size > this.opt.maxRetained) this.retained.delete(this.retained.keys().next().value as string);
  }

  // SPEC "Retained": pushed with rt:1 and no id, never for `$` or `#` channels.
  private pushRetained(s: Session, cn: string): void {
    const r = this.retained.get(cn);
    if (!r) return;
    this.deliver(s, "push", { cn, dt: r.dt, cl: r.cl, rt: 1 }, null, false);
  }

  // ---- frames out: one choke point ----

  private send(s: Session, type: string, body: Body): void {
    this.deliver(s, type, body, null, false);
  }

  /**
   * Queues one frame for a session; frames are written together after the current input is handled.
   * `droppable` (q0 pushes) are dropped past half of maxClientBuffer; anything else past all of it
   * disconnects the slow client. Returns whether the frame was queued.
   */
  private deliver(s: Session, type: string, body: Body, frame: string | null, droppable: boolean): boolean {
    if (s.closed) return false;
    if (frame === null) frame = encode(type, body);
    const backlog = s.backlog() + frame.length;
    if (droppable && backlog > this.opt.maxClientBuffer / 2) {
      this.stats.dropped++;
      return false;
    }
    if (backlog > this.opt.maxClientBuffer) {
      this.stats.slowKicks++;
      this.log(`${this.who(s)} outbound backlog over ${this.opt.maxClientBuffer}: disconnected`);
      this.drop(s, "too slow");
      return false;
    }
    s.out.push(frame);
    s.outChars += frame.length;
    this.stats.framesOut++;
    if (type === "push") this.stats.msgsOut++;
    this.emitPacket("out", s, type, body);
    this.dirty.add(s);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushAll());
    }
    return true;
  }

  private flushAll(): void {
    this.flushQueued = false;
    for (const s of this.dirty) this.flushSession(s);
    this.dirty.clear();
  }

  private flushSession(s: Session): void {
    if (s.out.length === 0 || s.closed || s.socket.destroyed || s.rawOpen) return;
    const data = s.out.length === 1 ? s.out[0] : s.out.join("");
    s.out = [];
    s.outChars = 0;
    s.socket.write(data);
  }

  // ---- helpers ----

  private record(cl: string): ClientRecord {
    let rec = this.records.get(cl);
    if (rec) return rec;
    if (this.records.size >= this.opt.maxClients) this.evictOfflineRecord();
    rec = new ClientRecord(cl);
    this.records.set(cl, rec);
    return rec;
  }

  private evictOfflineRecord(): void {
    for (const r of this.records.values()) {
      if (r.session) continue;
      for (const cn of [...r.subs.keys()]) this.unsubscribe(r, cn);
      this.records.delete(r.id);
      this.log(`client record ${r.id} forgotten (over ${this.opt.maxClients} records)`);
      return;
    }
  }

  private emitPacket(dir: "in" | "out", s: Session, type: string, body: Body): void {
    if (!this.onPacketFn && this.listenerCount("packet") === 0) return;
    const ev: PacketEvent = { dir, cl: s.cl, type, body };
    try {
      if (this.onPacketFn) this.onPacketFn(ev);
      this.emit("packet", ev);
    } catch (err) {
      this.log(`packet hook threw: ${(err as Error).message}`);
    }
  }

  private who(s: Session): string {
    return s.record ? `${s.record.id} (${s.label})` : s.label;
  }

  private log(line: string): void {
    if (!this.logFn) return;
    try {
      this.logFn(line);
    } catch {
      // a throwing logger must not take the broker down
    }
  }
}
