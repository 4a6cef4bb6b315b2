// Pure JMQT 1.0 packet codec (SPEC "Wire format", "The fifteen packet types"; docs/protocol.md):
// no I/O, no state. decode() returns a small type code and leaves the packet body in a reusable
// holder, so a decoded packet costs only what JSON.parse made. The field rules are a table in
// code (sessionFields: one line per packet type) rather than in data, so it stays in flash; push's
// and the acks' rules are written out (in decode, in badField), the hot path lexing no check().

/** Packet type codes (the order of SPEC's table). */
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

/** Packet type names, indexed by the T_* codes (Node side and tests: the board's code names them as literals). */
export const TYPES = [
  "auth", "authAck", "conn", "connAck", "hb", "hbAck", "sub", "subAck",
  "unsub", "unsubAck", "pub", "pubAck", "push", "pushAck", "disconn",
] as const;

/** A packet type's wire name (SPEC "The fifteen packet types"). */
export type PacketName = (typeof TYPES)[number];

/** How a required field is checked (check(), called by sessionFields). */
const enum Rule {
  /** a non-empty string */
  Channel,
  /** a non-empty string; a number id becomes its string */
  Id,
  /** pub: as Id when present; required for q=1 or a `$` channel */
  PubId,
  /** present, any value */
  Present,
  /** a string */
  Text,
  /** a 0/1 flag: "0"/"1"/true/false/absent accepted, normalised to 0/1 */
  Flag,
  /** a status number ("1" accepted) */
  Status,
  /** ts: a number when present ("15" accepted), required and > 0 when st is 1 */
  Seconds,
  /** authAck: at a string and cl non-empty when st is 1 */
  Credentials,
}

/**
 * The fields each packet type but push requires (SPEC "The fifteen packet types"; push: in
 * decode), checked in order: returns the first bad key, "" when all pass. Normalises flags, ids
 * and numbers in place. The acks of QoS 1 pubs (and pushAck, its twin) are checked here, written
 * out: one comes for every QoS 1 reading, and Espruino lexes a called function's whole text (two
 * check() calls were 140 of a pubAck's 360 flash reads). The other types, which a device gets
 * when a session or a subscription is set up (or never), are in sessionFields, which the build
 * keeps in flash until it runs (tools/cold.ts), with check().
 */
function badField(t: number, b: any): string {
  var v: any;
  if (t == T_PUBACK || t == T_PUSHACK) {
    v = b.st;
    b.st = v = typeof v == "number" || (typeof v == "string" && +v + "" === v) ? +v : NaN;
    if (!isFinite(v)) return "st";
    v = b.id;
    if (typeof v == "number" && isFinite(v)) b.id = v = "" + v;
    return typeof v != "string" || !v ? "id" : "";
  }
  return t == T_HBACK || t == T_HB || t == T_DISCONN ? "" : sessionFields(t, b);
}

/** badField's rules for the packet types other than the acks of pubs and pushes and hb, hbAck, disconn. */
function sessionFields(t: number, b: any): string {
  // one field rule on b[key] (b: the body being checked): key when it fails, "" when it passes.
  // A local function: it exists only while sessionFields runs, where a top-level one would cost
  // the board 7 blocks for good.
  var check = function (key: string, rule: Rule): string {
    var v = b[key];
    if (rule == Rule.Credentials) return b.st != 1 ? "" : typeof b.at != "string" ? "at" : typeof b.cl != "string" || !b.cl ? "cl" : "";
    if (rule == Rule.Present) return v === undefined ? key : "";
    if (rule == Rule.PubId) {
      if (v == null) return b.q || b.cn.charAt(0) == "$" ? key : "";
      rule = Rule.Id;
    }
    if (rule == Rule.Id && typeof v == "number" && isFinite(v)) b[key] = v = "" + v;
    if (rule == Rule.Id || rule == Rule.Channel) return typeof v != "string" || !v ? key : "";
    if (rule == Rule.Text) return typeof v != "string" ? key : "";
    if (rule == Rule.Flag) {
      b[key] = v = v == null || v === 0 || v === "0" || v === false ? 0 : v === 1 || v === "1" || v === true ? 1 : -1;
      return v < 0 ? key : "";
    }
    // Rule.Status, Rule.Seconds: a string is accepted only when it is the number's own spelling
    // ("1", not " 1 " or "01"), so that both engines agree (Espruino's +" 1 " is NaN)
    if (v !== undefined || rule == Rule.Status) b[key] = v = typeof v == "number" || (typeof v == "string" && +v + "" === v) ? +v : NaN;
    return (!isFinite(v) ? rule == Rule.Status || b.st == 1 : rule == Rule.Seconds && b.st == 1 && v <= 0) ? key : "";
  };
  switch (t) {
    case T_AUTH: return check("dt", Rule.Present);
    case T_AUTHACK: return check("st", Rule.Status) || check("", Rule.Credentials);
    case T_CONN: return check("at", Rule.Text) || check("cl", Rule.Text);
    case T_CONNACK: return check("st", Rule.Status) || check("ts", Rule.Seconds);
    case T_SUB: return check("cn", Rule.Channel) || check("pr", Rule.Flag);
    case T_SUBACK:
    case T_UNSUBACK: return check("cn", Rule.Channel) || check("st", Rule.Status);
    case T_UNSUB: return check("cn", Rule.Channel);
    case T_PUB:
      return check("cn", Rule.Channel) || check("dt", Rule.Present) || check("q", Rule.Flag) ||
        check("rt", Rule.Flag) || check("id", Rule.PubId);
  }
  return "";
}

/** decode() results below zero */
export const E_JSON = -1;
export const E_SHAPE = -2;
export const E_TYPE = -3;
export const E_FIELD = -4;

/** Reused by every decode(): the packet body (normalised), and why the last frame failed. */
export interface Decoded {
  /** absent (deleted) between frames and after a frame that failed */
  body_?: any;
  /** absent after a frame that decoded: a property costs a block even when it holds undefined */
  reason_?: string;
}

export function newDecoded(): Decoded {
  return { reason_: "" };
}

/**
 * One packet as it goes on the wire: `{"<type>":<body>}` and its NUL terminator. Callers name the
 * type as a literal (it stays in flash): a switch from T_* codes to names, inlined here by the
 * build, was lexed twice per frame (measured on espruino-esp8266: encode of a reply 0.47 ms with
 * it, 0.21 ms without).
 */
export function encode(name: PacketName, body: any): string {
  var j = JSON.stringify(body);
  // rawBytes only when there is an escape to put back; it stays in flash until then (tools/cold.ts):
  // inlined here by the build, its text was lexed with every packet (13 of a ping's flash reads)
  return '{"' + name + '":' + (j.indexOf("\\u00") < 0 ? j : rawBytes(j)) + "}\0";
}

/** How many backslashes stand right before position i of s: an odd count escapes s[i]. */
function backslashes(s: string, i: number): number {
  var n = 0;
  while (i > n && s.charAt(i - n - 1) == "\\") n++;
  return n;
}

// The wire is UTF-8 (SPEC "Wire format") and the board's strings hold its bytes as they came.
// Espruino's JSON.stringify writes every byte >= 0x7F as an escape of its own (`é`, bytes C3 A9,
// becomes "\u00c3\u00a9"), which a peer reads as two Latin-1 characters; those escapes of bytes
// >= 0x80 are put back as the bytes themselves. (V8's JSON.stringify leaves them raw already.)
export function rawBytes(j: string): string {
  var i = j.indexOf("\\u00");
  var out = "";
  var from = 0;
  var h: number;
  // (Espruino's indexOf also "finds" a needle that only starts at the end of the string, and a
  // search from past the end starts at the last place: only a whole match counts, see decode)
  while (i >= 0 && i + 4 <= j.length) {
    h = parseInt(j.substr(i + 4, 2), 16);
    if (h >= 0x80 && backslashes(j, i) % 2 == 0) {
      out += j.substring(from, i) + String.fromCharCode(h);
      from = i + 6;
    }
    i = j.indexOf("\\u00", i + 1);
  }
  return from ? out + j.substring(from) : j;
}

// The other way: a peer may escape any character as \uXXXX, and Espruino's JSON.parse keeps only
// the low byte of one above 0xFF (\u20AC becomes 0xAC). So before parsing, every escape of a
// character >= 0x80 becomes its UTF-8 bytes (a surrogate pair one 4-byte sequence), the form the
// rest of the firmware holds text in.
export function utf8Escapes(f: string): string {
  var i = f.indexOf("\\u");
  var out = "";
  var from = 0;
  var c: number;
  var d: number;
  var e: number;
  // the 4 hex digits at s[i..i+3] as a number, or -1 when they are not 4 hex digits (a local
  // function: created only when a frame has an escape, instead of 5 blocks for good)
  var hex4 = function (s: string, i: number): number {
    var h = s.substr(i, 4);
    var v = parseInt(h, 16);
    return h.length == 4 && ("000" + v.toString(16)).slice(-4) == h.toLowerCase() ? v : -1;
  };
  while (i >= 0 && i + 2 <= f.length) {
    c = hex4(f, i + 2);
    e = i + 6;
    if (c >= 0x80 && backslashes(f, i) % 2 == 0) {
      if (c >= 0xd800 && c < 0xdc00 && f.substr(e, 2) == "\\u" && (d = hex4(f, e + 2)) >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        e += 6;
      }
      out += f.substring(from, i) + (
        c < 0x800 ? String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 63))
        : c < 0x10000 ? String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
        : String.fromCharCode(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)));
      from = e;
    }
    i = f.indexOf("\\u", e - 5);
  }
  return from ? out + f.substring(from) : f;
}

// Espruino's JSON.parse runs its JavaScript lexer, which reads the bytes 0xD1 and 0xD2 as
// pretokenised strings (LEX_RAW_STRING8/16: a length follows, then the bytes) wherever they
// stand; outside a JSON string it then reads that many bytes past the frame. Measured on the
// interpreter: JSON.parse("\xD28") crashes it (SIGSEGV), so any client could take a device down
// with one frame. Each such byte becomes the escape \u00D1 / \u00D2 (with the backslash that
// escaped it, if any): inside a string that parses back to the same byte (\u00XX keeps its low
// byte), outside one it is a plain syntax error. UTF-8 text (Cyrillic lead bytes are D0..D3)
// comes out of the parse unchanged.
export function rawTokens(f: string): string {
  var d1 = f.indexOf("\xd1");
  var d2 = f.indexOf("\xd2");
  var out = "";
  var from = 0;
  var i: number;
  while (d1 >= 0 || d2 >= 0) {
    i = d2 < 0 || (d1 >= 0 && d1 < d2) ? d1 : d2;
    out += f.substring(from, backslashes(f, i) % 2 ? i - 1 : i) + (i == d1 ? "\\u00d1" : "\\u00d2");
    from = i + 1;
    if (i == d1) d1 = f.indexOf("\xd1", from);
    else d2 = f.indexOf("\xd2", from);
  }
  return from ? out + f.substring(from) : f;
}

/**
 * A frame with an escape or a 0xD1/0xD2 byte, made safe for Espruino's JSON.parse (utf8Escapes,
 * then rawTokens: an escape may become such a byte). Out of decode, which runs for every frame:
 * Espruino lexes a function's whole text at each call, and these two inlined there were 1,300 of
 * its 1,780 characters (measured on espruino-esp8266: decode of a ping 1.10 ms with them, 0.78 ms
 * without, for 5 blocks).
 */
function parseable(f: string): string {
  return rawTokens(f.indexOf("\\u") < 0 ? f : utf8Escapes(f));
}

/**
 * A push's fields (SPEC "push"), checked in order: the first bad key, "" when all pass; flags
 * ("0"/"1"/true/false/absent) normalised to 0/1, a number id to its string, an absent cl to "".
 * For a push that is not in the shape a broker sends (decode checks that one itself).
 */
export function pushFields(body: any): string {
  var v: any;
  if (typeof body.cn != "string" || !body.cn) return "cn";
  if (body.dt === undefined) return "dt";
  if ((body.q = (v = body.q) == null || v === 0 || v === "0" || v === false ? 0 : v === 1 || v === "1" || v === true ? 1 : -1) < 0) return "q";
  if ((body.rt = (v = body.rt) == null || v === 0 || v === "0" || v === false ? 0 : v === 1 || v === "1" || v === true ? 1 : -1) < 0) return "rt";
  if (body.cl != null && typeof body.cl != "string") return "cl";
  if (body.cl == null) body.cl = "";
  v = body.id;
  if (v == null) return body.q && !body.rt ? "id" : "";
  if (typeof v == "number" && isFinite(v)) body.id = v = "" + v;
  return typeof v != "string" || !v ? "id" : "";
}

/** The T_* code of a packet name other than push (see decode), or -1. */
function typeCode(name: string): number {
  switch (name) {
    case "pubAck": return T_PUBACK;
    case "hbAck": return T_HBACK;
    case "subAck": return T_SUBACK;
    case "unsubAck": return T_UNSUBACK;
    case "connAck": return T_CONNACK;
    case "authAck": return T_AUTHACK;
    case "auth": return T_AUTH;
    case "conn": return T_CONN;
    case "hb": return T_HB;
    case "sub": return T_SUB;
    case "unsub": return T_UNSUB;
    case "pub": return T_PUB;
    case "pushAck": return T_PUSHACK;
    case "disconn": return T_DISCONN;
  }
  return -1;
}

/**
 * Decode one frame. Returns the T_* code (body in out.body_) or an E_* code below zero with the
 * reason in out.reason_. Never throws.
 */
export function decode(frame: string, out: Decoded): number {
  var root: any;
  var body: any;
  var name: string;
  var keys: string[];
  var t: number;
  var bad = "";
  var i: number;
  var v: any;
  // absent between frames: a property costs a block even when it holds undefined (null one more)
  delete out.body_;
  // JSON.parse on Espruino lets a "__proto__" key set the object's prototype.
  // Espruino's indexOf counts a needle that runs off the end of the string as found, and clamps a
  // search from past the end to the last places, so a match is checked to be whole: a frame
  // ending in a backslash made utf8Escapes' indexOf("\\u") loop find the same place for ever
  // (measured on the interpreter: the device hung).
  i = frame.indexOf('"__proto__"');
  if (i >= 0 && i + 11 <= frame.length) {
    out.reason_ = "__proto__ key";
    return E_SHAPE;
  }
  try {
    root = JSON.parse(frame.indexOf("\\u") < 0 && frame.indexOf("\xd1") < 0 && frame.indexOf("\xd2") < 0 ? frame : /*@__NOINLINE__*/ parseable(frame));
  } catch (e) {
    out.reason_ = "not JSON";
    return E_JSON;
  }
  // a JSON object, not null, an array or a primitive (here and for the body below: written out
  // rather than a helper, which would cost 4 blocks for good)
  if (root == null || typeof root != "object" || Array.isArray(root)) {
    out.reason_ = "not an object";
    return E_SHAPE;
  }
  // its one key: Object.keys (native) rather than a for-in loop, whose body Espruino lexes at each
  // pass and once more when it ends
  keys = Object.keys(root);
  if (keys.length != 1) {
    out.reason_ = "not one key";
    return E_SHAPE;
  }
  name = keys[0];
  // the T_* code of the name: push, which every command is, here; the rest in typeCode, which
  // stays in flash until a frame needs it (tools/cold.ts): Espruino lexes a function's whole text
  // at each call, and the twelve other cases were 15 of a push's flash reads, pubAck's and
  // hbAck's (a QoS 1 reading's ack, a heartbeat's) 6 more (measured on espruino-esp8266)
  t = name == "push" ? T_PUSH : /*@__NOINLINE__*/ typeCode(name);
  if (t < 0) {
    out.reason_ = "unknown type";
    return E_TYPE;
  }
  body = root[name];
  if (body == null || typeof body != "object" || Array.isArray(body)) {
    out.reason_ = name + ": not an object";
    return E_SHAPE;
  }
  // push, the hot path (every command, every subscribed reading): the shapes a broker sends (q
  // absent and no id, or q 1 with a string id; rt absent or 1; cl a string) pass this one test,
  // which normalises an absent q and rt to 0; any other push is checked by pushFields, which
  // accepts these too and stays in flash until a push needs it (tools/cold.ts). Espruino lexes a
  // called function's whole text: the full check written here was about 200 characters more,
  // some 75 µs of a ping's 1.1 ms on espruino-esp8266.
  if (t != T_PUSH) bad = /*@__NOINLINE__*/ badField(t, body);
  else if (
    !(typeof (v = body.cn) == "string" && v && body.dt !== undefined && typeof body.cl == "string" &&
      ((v = body.q) == null ? ((body.q = 0), body.id == null) : v === 1 && typeof (v = body.id) == "string" && v) &&
      ((v = body.rt) == null ? !(body.rt = 0) : v === 1))
  )
    bad = /*@__NOINLINE__*/ pushFields(body);
  if (bad) {
    out.reason_ = name + ": bad " + bad;
    return E_FIELD;
  }
  out.body_ = body;
  delete out.reason_;
  return t;
}
