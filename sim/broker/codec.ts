// Pure decode/encode of JMQT 1.0 packets (SPEC "Wire format", "The fifteen packet types").
// No I/O: the server feeds it frames from the framer and writes what encode() returns.

export const ST_FAILED = 0;
export const ST_OK = 1;
export const ST_SERVER_ERROR = 5;
export const ST_INVALID_TOKEN = 6;
export const ST_NOT_ALLOWED = 7;
export const ST_CLIENT_OFFLINE = 8;
export const ST_INVALID_PACKET = 10;
export const ST_INVALID_CHANNEL = 11;

/** Packet types a client may send. Anything else is an unknown type and is dropped. */
export const CLIENT_TYPES = ["auth", "conn", "hb", "sub", "unsub", "pub", "pushAck", "disconn"] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export type Body = Record<string, any>;

export interface Packet {
  type: string;
  body: Body;
}

export type DecodeResult = { ok: true; packet: Packet } | { ok: false; reason: string };

const CLIENT_TYPE_SET: ReadonlySet<string> = new Set(CLIENT_TYPES);

function isPlainObject(v: unknown): v is Body {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * One frame's text → a packet. SPEC: a packet is a JSON object with exactly one key, the
 * type, whose value is an object. Returns a reason instead of throwing.
 */
export function decode(text: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!isPlainObject(value)) return { ok: false, reason: "not an object" };
  const keys = Object.keys(value);
  if (keys.length !== 1) return { ok: false, reason: `${keys.length} root keys` };
  const type = keys[0];
  if (!CLIENT_TYPE_SET.has(type)) return { ok: false, reason: `unknown type ${JSON.stringify(type).slice(0, 40)}` };
  const body = value[type];
  if (!isPlainObject(body)) return { ok: false, reason: `${type} body is not an object` };
  return { ok: true, packet: { type, body } };
}

// The reference server (Python json.dumps) escapes every non-ASCII character as \uXXXX; doing
// the same keeps frames pure ASCII, which suits Espruino's byte strings.
const NON_ASCII = /[\u0080-\uffff]/g;
function escapeNonAscii(ch: string): string {
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

/** A packet → its wire frame, NUL included. */
export function encode(type: string, body: Body): string {
  let text = JSON.stringify({ [type]: body });
  NON_ASCII.lastIndex = 0;
  if (NON_ASCII.test(text)) text = text.replace(NON_ASCII, escapeNonAscii);
  return text + "\0";
}

/** A channel name a client may use: a non-empty string. */
export function isChannel(cn: unknown): cn is string {
  return typeof cn === "string" && cn.length > 0;
}

/** JMQT flags are 0/1; the spec itself once writes rt as the string "1". */
export function flag(v: unknown): 0 | 1 | -1 {
  if (v === undefined || v === null || v === 0 || v === "0" || v === false) return 0;
  if (v === 1 || v === "1" || v === true) return 1;
  return -1;
}

/** A packet id: the spec says strings; numbers are accepted and turned into strings. */
export function packetId(v: unknown): string | null {
  if (typeof v === "string" && v.length > 0 && v.length <= 128) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}
