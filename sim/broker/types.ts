// Public types of the JMQT broker (see sim/broker/index.ts).

/** What `validateAuth` returns: credentials for `conn`, null/false to refuse (st 0), or a status code. */
export type AuthResult = { cl: string; at: string } | null | false | number;
/** What `validateConn` returns: true (st 1), false (st 6 INVALID TOKEN) or a status code. */
export type ConnResult = boolean | number;

export interface BrokerOptions {
  /** address to listen on (default 127.0.0.1) */
  host?: string;
  /** TCP port (default 8010; 0 = ephemeral, read `broker.port`) */
  port?: number;
  /** seconds announced in connAck: a connected session with no traffic for this long is dropped (default 15) */
  ts?: number;
  /** the idle limit in ms actually enforced (default ts * 1000); for tests that cannot wait seconds */
  timeoutMs?: number;
  /** largest inbound frame in bytes; longer frames are dropped while streaming (default 65536) */
  maxFrame?: number;
  /**
   * outbound backlog per client, in characters (default 1 MiB). Past half of it, q0 pushes to that
   * client are dropped (stats.dropped) and the client's own input is paused until its socket drains;
   * past all of it (acks, q1 pushes), the client is disconnected (stats.slowKicks) and its q1
   * messages stay stored for redelivery.
   */
  maxClientBuffer?: number;
  /** stored unacknowledged q1 messages per client; the oldest is dropped past it (default 1000) */
  maxPending?: number;
  /** subscriptions per client; sub past it answers st 0 (default 256) */
  maxSubs?: number;
  /** channels with a retained message; the least recently set is forgotten past it (default 10000) */
  maxRetained?: number;
  /** client records kept (online and offline, with their persistent subscriptions and stored messages); the oldest offline one is forgotten past it (default 10000) */
  maxClients?: number;
  /** token that `conn` accepts for any client id with the default validator (default "test-token") */
  token?: string;
  /**
   * server announcements: the channel every client is subscribed to (persistently) on conn and on which
   * the server pushes {"online":id} / {"offline":id}; false turns them off (default "update")
   */
  announce?: string | false;
  /** decides `auth`; default: accept any dt, cl = dt.client_name (string) or a generated id, at = token */
  validateAuth?: (dt: unknown) => AuthResult;
  /** decides `conn`; default: at is the token issued by auth for that cl, or the static token */
  validateConn?: (cl: string, at: string) => ConnResult;
  /** one line per notable event (connect, disconnect, bad frame, drops) */
  log?: (line: string) => void;
  /** every packet in and out, with the client id (null before conn) */
  onPacket?: (ev: PacketEvent) => void;
}

export interface PacketEvent {
  dir: "in" | "out";
  /** client id of the session, null before conn */
  cl: string | null;
  type: string;
  body: Record<string, any>;
}

export interface BadFrameEvent {
  cl: string | null;
  reason: string;
  /** the start of the frame text (at most 80 characters), "" for oversize frames */
  text: string;
}

export interface BrokerStats {
  /** TCP connections accepted */
  sockets: number;
  /** sessions opened (connAck st 1) */
  connects: number;
  /** frames received that decoded as packets */
  framesIn: number;
  /** frames written */
  framesOut: number;
  /** pub packets accepted (including control requests) */
  msgsIn: number;
  /** push packets written */
  msgsOut: number;
  /** frames that did not decode (not JSON, not one root key, unknown type, body not an object) and invalid packets */
  bad: number;
  /** frames dropped for exceeding maxFrame */
  oversize: number;
  /** q0 pushes dropped because the subscriber's outbound backlog was over half of maxClientBuffer */
  dropped: number;
  /** clients disconnected because their backlog reached maxClientBuffer */
  slowKicks: number;
  /** stored q1 messages dropped because a client had maxPending already */
  pendingDropped: number;
  /** q1 pubs dropped as resends of an id the client already published (acked, not delivered again) */
  duplicatePubs: number;
  /** sessions dropped for no traffic within the timeout */
  timeouts: number;
  /** exceptions caught while handling a packet */
  errors: number;
}
