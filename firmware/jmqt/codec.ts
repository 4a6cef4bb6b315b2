// Pure JMQT 1.0 packet codec (SPEC "Wire format", "The fifteen packet types"): no I/O, no state.
// decode() returns a small type code and leaves the packet body in a reusable holder, so a
// decoded packet costs only what JSON.parse made.

export const T_AUTH = 0;
export const T_AUTHACK = 1;
export const T_CONN = 2;
export const T_CONNACK = 3;
export const T_HB = 4;
export const T_HBACK = 5;
export const T_SUB = 6;
export const T_SUBACK = 7;
export const T_UNSUB = 8;
export const T_UNSUBACK = 9;
export const T_PUB = 10;
export const T_PUBACK = 11;
export const T_PUSH = 12;
export const T_PUSHACK = 13;
export const T_DISCONN = 14;

/** Packet type names, indexed by the T_* codes. */
export const TYPES = [
  "auth", "authAck", "conn", "connAck", "hb", "hbAck", "sub", "subAck",
  "unsub", "unsubAck", "pub", "pubAck", "push", "pushAck", "disconn",
];

/** decode() results below zero */
export const E_JSON = -1;
export const E_SHAPE = -2;
export const E_TYPE = -3;
export const E_FIELD = -4;

/** Reused by every decode(): `b` the packet body (normalised), `e` why the last frame failed. */
export interface Decoded {
  b: any;
  e: string;
}

export function newDecoded(): Decoded {
  return { b: null, e: "" };
}

/** One packet as it goes on the wire: `{"<type>":<body>}` and its NUL terminator. */
export function encode(t: number, body: any): string {
  return '{"' + TYPES[t] + '":' + JSON.stringify(body) + "}\0";
}

// For JSON.parse results only (no functions there); avoids a typeof-"object" test, which the
// ES5 lowering turns into a Symbol-aware helper.
function isObj(v: any): boolean {
  return v instanceof Object && !Array.isArray(v);
}

// 0/1 flags: the reference server and the spec also write them as strings ("1").
function flag(v: any): number {
  if (v === undefined || v === null || v === 0 || v === "0" || v === false) return 0;
  if (v === 1 || v === "1" || v === true) return 1;
  return -1;
}

function status(v: any): number {
  var n = typeof v == "string" && v.length ? +v : v;
  return typeof n == "number" && isFinite(n) ? n : NaN;
}

function isStr(v: any): boolean {
  return typeof v == "string";
}

// Normalise `id` to a non-empty string; false when missing or not a string/number.
function normId(b: any): boolean {
  var v = b.id;
  if (typeof v == "number" && isFinite(v)) b.id = v = "" + v;
  return typeof v == "string" && v.length > 0;
}

// The required fields of each type (SPEC table); normalises st/q/rt/pr/id in place.
// Returns "" when valid, else the name of the offending field.
function check(t: number, b: any): string {
  var st: number;
  if (t == T_AUTH) return b.dt === undefined ? "dt" : "";
  if (t == T_CONN) return !isStr(b.at) ? "at" : !isStr(b.cl) ? "cl" : "";
  if (t == T_HB || t == T_HBACK || t == T_DISCONN) return "";
  if (t == T_SUB || t == T_UNSUB || t == T_PUB || t == T_PUSH || t == T_SUBACK || t == T_UNSUBACK) {
    if (!isStr(b.cn) || !b.cn.length) return "cn";
  }
  if (t == T_SUB) return (b.pr = flag(b.pr)) < 0 ? "pr" : "";
  if (t == T_UNSUB) return "";
  if (t == T_PUB || t == T_PUSH) {
    if (b.dt === undefined) return "dt";
    if ((b.q = flag(b.q)) < 0) return "q";
    if ((b.rt = flag(b.rt)) < 0) return "rt";
    if (t == T_PUSH) {
      if (b.cl === undefined || b.cl === null) b.cl = "";
      else if (!isStr(b.cl)) return "cl";
    }
    if (b.id !== undefined && b.id !== null) {
      if (!normId(b)) return "id";
    } else if (t == T_PUB ? b.q || b.cn.charAt(0) == "$" : b.q && !b.rt) return "id";
    return "";
  }
  st = b.st = status(b.st);
  if (st !== st) return "st";
  if (t == T_AUTHACK) return st != 1 ? "" : !isStr(b.at) ? "at" : !isStr(b.cl) || !b.cl.length ? "cl" : "";
  if (t == T_CONNACK) {
    if (b.ts !== undefined) b.ts = status(b.ts);
    return st == 1 && !(b.ts > 0) ? "ts" : "";
  }
  if (t == T_SUBACK || t == T_UNSUBACK) return "";
  return normId(b) ? "" : "id";
}

/**
 * Decode one frame. Returns the T_* code (body in out.b) or an E_* code below zero with the
 * reason in out.e. Never throws.
 */
export function decode(frame: string, out: Decoded): number {
  var root: any;
  var k: string | undefined;
  var n = 0;
  var key: string;
  var t: number;
  var bad: string;
  out.b = null;
  try {
    root = JSON.parse(frame);
  } catch (e) {
    out.e = "not JSON";
    return E_JSON;
  }
  if (!isObj(root)) {
    out.e = "root not an object";
    return E_SHAPE;
  }
  for (key in root) {
    if (++n > 1) break;
    k = key;
  }
  if (n != 1) {
    out.e = n ? "more than one root key" : "empty root";
    return E_SHAPE;
  }
  t = TYPES.indexOf(k as string);
  if (t < 0) {
    out.e = "unknown type";
    return E_TYPE;
  }
  if (!isObj(root[k as string])) {
    out.e = TYPES[t] + ": body not an object";
    return E_SHAPE;
  }
  bad = check(t, root[k as string]);
  if (bad) {
    out.e = TYPES[t] + ": bad " + bad;
    return E_FIELD;
  }
  out.b = root[k as string];
  out.e = "";
  return t;
}
