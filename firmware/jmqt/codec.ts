// Pure JMQT 1.0 packet codec (SPEC "Wire format", "The fifteen packet types"): no I/O, no state.
// decode() returns a small type code and leaves the packet body in a reusable holder, so a
// decoded packet costs only what JSON.parse made. Two functions, driven by two short strings
// (a table in data costs the board RAM; these strings cost a few blocks).

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

/** Packet type names, indexed by the T_* codes (Node side; the board uses NAMES). */
export const TYPES = [
  "auth", "authAck", "conn", "connAck", "hb", "hbAck", "sub", "subAck",
  "unsub", "unsubAck", "pub", "pubAck", "push", "pushAck", "disconn",
];

// The same names, 8 characters per T_* code, padded with blanks; each name is found first in its
// own slot (decode looks a type up with one indexOf).
const NAMES = "auth    authAck conn    connAck hb      hbAck   sub     subAck  unsub   unsubAckpub     pubAck  push    pushAck disconn ";

// The fields each type requires (SPEC table), 6 letters per T_* code, checked in order. A letter
// names a key (KEYS: c cn, d dt, s st, a at, l cl, L cl, q q, r rt, p pr, i id, I id, T ts) and a test:
//   c, i   a non-empty string (i: a number id becomes a string)     a, l  a string
//   d      present              L  a string, absent -> ""
//   q r p  a 0/1 flag ("0"/"1"/true/false/absent accepted, normalised to 0/1)
//   s      a status number ("1" accepted)   T  ts likewise when present, and > 0 when st is 1
//   I      as i when present; required for pub q=1 or a $ channel, for push q=1 not retained
//   A      authAck: at a string and cl non-empty when st is 1
//   auth d, authAck sA, conn al, connAck sT, hb/hbAck/disconn none, sub cp, subAck/unsubAck cs,
//   unsub c, pub cdqrI, pubAck/pushAck si, push cdqrLI
const CHECKS = "d     sA    al    sT                cp    cs    c     cs    cdqrI si    cdqrLIsi";
const LETTERS = "cdsalLqrpiIT";
const KEYS = "cndtstatclclq rtprididts";

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
  return '{"' + NAMES.substr(t * 8, 8).trim() + '":' + rawBytes(JSON.stringify(body)) + "}\0";
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
  while (i >= 0) {
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
  while (i >= 0) {
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

/** The 4 hex digits at s[i..i+3] as a number, or -1 when they are not 4 hex digits. */
function hex4(s: string, i: number): number {
  var h = s.substr(i, 4);
  var v = parseInt(h, 16);
  return h.length == 4 && ("000" + v.toString(16)).slice(-4) == h.toLowerCase() ? v : -1;
}

/**
 * Decode one frame. Returns the T_* code (body in out.b) or an E_* code below zero with the
 * reason in out.e. Never throws.
 */
export function decode(frame: string, out: Decoded): number {
  var r: any;
  var b: any;
  var k = "";
  var n = 0;
  var key: string;
  var t = 0;
  var i: number;
  var ch = "";
  var v: any;
  var bad = "";
  out.b = null;
  // JSON.parse on Espruino lets a "__proto__" key set the object's prototype
  if (frame.indexOf('"__proto__"') >= 0) {
    out.e = "__proto__ key";
    return E_SHAPE;
  }
  try {
    r = JSON.parse(utf8Escapes(frame));
  } catch (e) {
    out.e = "not JSON";
    return E_JSON;
  }
  b = r;
  for (i = 0; i < 2; i++) {
    if (b == null || typeof b == "string" || typeof b == "number" || typeof b == "boolean" || Array.isArray(b)) {
      out.e = i ? k + ": not an object" : "not an object";
      return E_SHAPE;
    }
    if (i) break;
    for (key in r) {
      if (++n > 1) break;
      k = key;
    }
    if (n != 1) {
      out.e = "not one key";
      return E_SHAPE;
    }
    t = k.length < 9 && k.indexOf(" ") < 0 ? NAMES.indexOf(k) : -1;
    if (t < 0 || t % 8 || (k.length < 8 && NAMES.charAt(t + k.length) != " ")) {
      out.e = "unknown type";
      return E_TYPE;
    }
    t /= 8;
    b = r[k];
  }
  for (i = t * 6; i < t * 6 + 6 && !bad && (ch = CHECKS.charAt(i)) > " "; i++) {
    key = ch == "q" ? ch : KEYS.substr(LETTERS.indexOf(ch) * 2, 2);
    v = b[key];
    if (ch == "I" && v == null) {
      if (t == T_PUB ? b.q || b.cn.charAt(0) == "$" : b.q && !b.rt) bad = key;
    } else if (ch == "i" || ch == "I") {
      if (typeof v == "number" && isFinite(v)) b.id = v = "" + v;
      if (typeof v != "string" || !v) bad = key;
    } else if (ch == "c") {
      if (typeof v != "string" || !v) bad = key;
    } else if (ch == "d") {
      if (v === undefined) bad = key;
    } else if (ch == "L" && v == null) b.cl = "";
    else if (ch == "a" || ch == "l" || ch == "L") {
      if (typeof v != "string") bad = key;
    } else if (ch == "q" || ch == "r" || ch == "p") {
      b[key] = v = v == null || v === 0 || v === "0" || v === false ? 0 : v === 1 || v === "1" || v === true ? 1 : -1;
      if (v < 0) bad = key;
    } else if (ch == "s" || ch == "T") {
      // a string is accepted only when it is the number's own spelling ("1", not " 1 " or "01"),
      // so that both engines agree (Espruino's +" 1 " is NaN)
      if (v !== undefined || ch == "s") b[key] = v = typeof v == "number" || (typeof v == "string" && "" + +v === v) ? +v : NaN;
      if (!isFinite(v) ? ch == "s" || b.st == 1 : ch == "T" && b.st == 1 && v <= 0) bad = key;
    } else if (ch == "A" && b.st == 1) bad = typeof b.at != "string" ? "at" : typeof b.cl != "string" || !b.cl ? "cl" : "";
  }
  if (bad) {
    out.e = k + ": bad " + bad;
    return E_FIELD;
  }
  out.b = b;
  out.e = "";
  return t;
}
