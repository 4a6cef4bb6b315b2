// Builds the Espruino-like global world inside a fresh `vm` realm.
// The realm's own Object/Array/JSON are used; what Espruino 2v29 lacks is deleted, what it adds
// (pins, E, Storage, net, Wifi...) is defined by a prelude that runs inside the realm and calls the
// host only through one captured hooks object (never reachable from the program's globals).
import * as vm from "node:vm";
import { type BoardApi, boardApi, loadBoard } from "../tools/api";

/** The standard built-ins whose statics and prototype members are pruned to Espruino's. */
const PRUNED_STATIC = ["Object", "Array", "Number", "String", "Date", "Promise", "JSON", "Math"];
const PRUNED_PROTO = ["Object", "Array", "String", "Number", "Promise", "Date"];

/** Host functions the prelude calls; `this`-free, arguments are realm values. */
export interface Hooks {
  [name: string]: (...args: any[]) => any;
}

/** Realm functions the host calls back (returned by the prelude). */
export interface RealmApi {
  /** calls each listener; an exception in one goes to onErr and the others still run */
  emit(obj: any, event: string, arg: any, arg2: any, onErr: (e: any) => void): void;
  hasListeners(obj: any, event: string): boolean;
  mk(json: string): any;
  newSocket(): any;
  modules: Record<string, any>;
  E: any;
  process: any;
  wifi: any;
}

/**
 * Espruino 2v29 behaviours that V8 can imitate (measured on shared/espruino/bin/espruino-large;
 * see test/fidelity/). Each is on unless switched off, so that code which passes in the sim meets
 * the same traps it meets on a board.
 */
export interface Quirks {
  /** "abc".indexOf("cd") is 2: a needle whose start matches the end of the string counts as found */
  indexOfTail: boolean;
  /** Math.round halves away from zero: Math.round(-1.5) is -2 */
  mathRound: boolean;
  /** JSON.stringify escapes every byte >= 0x7F as \u00XX, prints undefined as "null" and functions in arrays as undefined; JSON.parse is Espruino's lenient parser */
  json: boolean;
  /** Number(" 15 ") is NaN (whitespace around a number is not skipped); split ignores its limit */
  numbers: boolean;
  /** setWatch throws for an edge other than rising/falling/both (or 1/-1/0); clearTimeout(undefined) throws */
  strictArgs: boolean;
  /** a new timer (or watch) gets the highest id in use + 1, so freed ids come back */
  timerIds: boolean;
  /** emit() queues: listeners run after the current code returns; emit returns undefined */
  emitQueued: boolean;
  /** listeners are stored as enumerable "#onxxx" arrays (seen by for-in, Object.keys, JSON.stringify) */
  listenersEnumerable: boolean;
  /** socket.write() returns false every time and a "drain" event follows (board) */
  writeFalse: boolean;
}

export const FAITHFUL: Quirks = {
  indexOfTail: true, mathRound: true, json: true, numbers: true, strictArgs: true, timerIds: true,
  emitQueued: true, listenersEnumerable: true, writeFalse: true,
};

/** all quirks on, except those switched off in `q` (false: all off) */
export function quirks(q?: Partial<Quirks> | boolean): Quirks {
  if (q === false) return Object.fromEntries(Object.keys(FAITHFUL).map((k) => [k, false])) as unknown as Quirks;
  return { ...FAITHFUL, ...(typeof q === "object" ? q : {}) };
}

export interface RealmInfo {
  /** Espruino behaviours reproduced (default: all) */
  quirks?: Quirks;
  family: "ESP32" | "ESP8266";
  /** pin name -> number */
  pins: Record<string, number>;
  /** NodeMCU aliases (ESP8266): alias -> pin name */
  nodeMcu?: Record<string, string>;
  version: string;
}

/** Creates the context, prunes it to Espruino's set and installs the prelude. */
export function createEspruinoRealm(hooks: Hooks, info: RealmInfo): { context: vm.Context; api: RealmApi } {
  const context = vm.createContext({}, { name: "espruino", codeGeneration: { strings: true, wasm: false } });
  const g: any = vm.runInContext("globalThis", context);
  const realmReflect = vm.runInContext("Reflect", context);
  const construct = realmReflect.construct;
  pruneRealm(g, espruinoApi(info.family));
  const api: RealmApi = vm.runInContext(PRELUDE, context, { filename: "espruino-prelude.js" })(hooks, JSON.stringify({ ...info, quirks: info.quirks || FAITHFUL }), construct);
  return { context, api };
}

const apiByFamily: Record<string, BoardApi> = {};
/** What Espruino 2v29 has on this board (shared/espruino/api.json), read once per family. */
function espruinoApi(family: RealmInfo["family"]): BoardApi {
  return (apiByFamily[family] ||= boardApi(loadBoard(family === "ESP32" ? "esp32" : "esp8266")));
}

// Deletes what Espruino lacks; runs before the prelude adds Espruino's own names.
function pruneRealm(g: any, esp: BoardApi): void {
  for (const name of PRUNED_STATIC) pruneOwn(g[name], [...(esp.statics.get(name) || []), "length", "name", "prototype"]);
  // toString/valueOf: api.json lists them on Object only, but Espruino's work on every value
  // ("ab".toString() is "ab"), so each prototype keeps its own.
  for (const name of PRUNED_PROTO) {
    pruneOwn(g[name].prototype, [...(esp.instance.get(name) || []), "constructor", "__proto__", "toString", "valueOf"]);
  }
  const keep = esp.globals;
  for (const name of Object.getOwnPropertyNames(g)) {
    if (keep.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(g, name);
    if (d && d.configurable) delete g[name];
  }
}

function pruneOwn(obj: any, keep: string[]): void {
  if (!obj) return;
  const set = new Set(keep);
  for (const name of Object.getOwnPropertyNames(obj)) {
    if (set.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(obj, name);
    if (d && d.configurable) delete obj[name];
  }
}

// Runs inside the realm (plain ES5 + a captured Reflect.construct). Returns the RealmApi.
const PRELUDE = String.raw`(function (H, infoJson, construct) {
"use strict";
var G = globalThis, info = JSON.parse(infoJson), Q = info.quirks, realParse = JSON.parse;
var realUpper = String.prototype.toUpperCase, realLower = String.prototype.toLowerCase;
function def(o, k, v) { Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: false }); }
function glob(k, v) { G[k] = v; }
var realCreate = Object.create;
def(Object, "create", function create(proto, props) {
  if (props !== undefined) throw new Error("propertiesObject is not supported yet");
  // Espruino: an object made from null still inherits Object.prototype (hasOwnProperty, on...)
  return realCreate(proto === null && Q.numbers ? Object.prototype : proto);
});
// Espruino prints numbers with about 12 significant digits (shared/espruino/README.md):
// JSON.stringify(0.1+0.2) is "0.3" and JSON.stringify(1/3) is "0.33333333333".
var realStringify = JSON.stringify;
function espNumber(k, v) {
  if (typeof v !== "number" || !isFinite(v) || v === Math.floor(v)) return v;
  var e = Math.floor(Math.log(Math.abs(v)) / Math.LN10);
  if (e < -280) return v;
  var f = Math.pow(10, 10 - e);
  return Math.round(v * f) / f;
}
// A function in an array prints as undefined on Espruino: marked by the replacer, swapped after.
var FN_MARK = "\u0001fn\u0001";
function espValue(k, v) { return typeof v === "function" && Array.isArray(this) ? FN_MARK : espNumber(k, v); }
function hex2(b) { return (b < 16 ? "0" : "") + realUpper.call(b.toString(16)); }
// V8's JSON text -> Espruino's: strings are bytes, each byte >= 0x7F escaped on its own as
// \u00XX (capitals, like the control characters); a character above 0xFF keeps its low byte.
function espJsonText(out) {
  out = out.replace(/\\(?:\\|u00([0-9a-f]{2}))/g, function (m, h) { return h ? "\\u00" + realUpper.call(h) : m; });
  out = out.replace(/[\u007f-\uffff]/g, function (c) {
    var b = c.charCodeAt(0) & 255;
    if (b >= 0x7f || b < 0x20) return "\\u00" + hex2(b);
    if (b === 0x22) return "\\\"";
    if (b === 0x5c) return "\\\\";
    return String.fromCharCode(b);
  });
  return out.split("\"\\u0001fn\\u0001\"").join("undefined");
}
def(JSON, "stringify", function stringify(v, rep, sp) {
  if (!Q.json) {
    if (rep && typeof rep !== "function") return realStringify(v, rep, sp);
    return realStringify(v, rep ? function (k, x) { return espNumber(k, rep.call(this, k, x)); } : espNumber, sp);
  }
  if (v === undefined) return "null";
  var r = realStringify(v, typeof rep === "function" ? function (k, x) { return espValue.call(this, k, rep.call(this, k, x)); } : espValue, sp);
  return r === undefined ? r : espJsonText(r);
});
// Espruino's JSON.parse runs its JavaScript lexer: single quotes, trailing commas, 01, .5, 0x10,
// raw control characters and \x escapes are accepted, text after the value is ignored, the first
// of duplicate keys wins, \uXXXX keeps its low byte, and the reviver is ignored.
function espParse(text) {
  var s = String(text), i = 0, n = s.length;
  function fail(m) { throw new SyntaxError(m); }
  function ws() {
    for (;;) {
      var c = s.charCodeAt(i);
      if (c === 32 || (c >= 9 && c <= 13)) i++;
      else if (c === 47 && s.charAt(i + 1) === "/") { while (i < n && s.charAt(i) !== "\n") i++; }
      else if (c === 47 && s.charAt(i + 1) === "*") { i += 2; while (i < n && s.substr(i, 2) !== "*/") i++; i += 2; }
      else return;
    }
  }
  // the lexer's name for the next token: EOF, ID:name (ID alone without detail), INT, FLOAT, String:'x', 'c'
  function tok(detail) {
    ws();
    if (i >= n) return "EOF";
    var m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(s.substr(i, 64));
    if (m) return m[0] === "undefined" || m[0] === "true" || m[0] === "false" || m[0] === "null" ? m[0] : detail ? "ID:" + m[0] : "ID";
    var d = /^[0-9.]+/.exec(s.substr(i, 64));
    if (d) return /\./.test(d[0]) ? "FLOAT" : "INT";
    var c = s.charAt(i);
    if (c === "\"" || c === "'") { var at = i, v = str(c); i = at; return "String:'" + v + "'"; }
    return "'" + c + "'";
  }
  function str(q) {
    var out = "";
    i++;
    for (;;) {
      if (i >= n) fail("Unterminated string");
      var c = s.charAt(i++);
      if (c === q) return out;
      if (c !== "\\") { out += c; continue; }
      c = s.charAt(i++);
      if (c === "n") out += "\n"; else if (c === "t") out += "\t"; else if (c === "r") out += "\r";
      else if (c === "b") out += "\b"; else if (c === "f") out += "\f"; else if (c === "v") out += "\v"; else if (c === "0") out += "\u0000";
      else if (c === "x") { out += String.fromCharCode(parseInt(s.substr(i, 2), 16) & 255); i += 2; }
      else if (c === "u") { out += String.fromCharCode(parseInt(s.substr(i, 4), 16) & 255); i += 4; }
      else out += c;
    }
  }
  function value() {
    ws();
    var c = s.charAt(i), k, v, o;
    if (c === "{") {
      i++;
      o = {};
      for (;;) {
        ws();
        c = s.charAt(i);
        if (c === "}") { i++; return o; }
        if (c !== "\"" && c !== "'") fail("Got " + tok(true) + " expected STRING");
        k = str(c);
        ws();
        if (s.charAt(i) !== ":") fail("Got " + tok() + " expected ':'");
        i++;
        v = value();
        if (!Object.prototype.hasOwnProperty.call(o, k)) o[k] = v;
        ws();
        c = s.charAt(i);
        if (c === ",") i++;
        else if (c === "}") { i++; return o; }
        else fail("Got " + tok() + " expected '}'");
      }
    }
    if (c === "[") {
      i++;
      o = [];
      for (;;) {
        ws();
        if (s.charAt(i) === "]") { i++; return o; }
        o.push(value());
        ws();
        c = s.charAt(i);
        if (c === ",") i++;
        else if (c === "]") { i++; return o; }
        else fail("Got " + tok() + " expected ']'");
      }
    }
    if (c === "\"" || c === "'") return str(c);
    // 0xD1/0xD2 outside a string are read as pretokenised strings with a length after them, and the
    // lexer reads past the text: the interpreter crashes (SIGSEGV, measured). The board restarts.
    if (c === "\u00d1" || c === "\u00d2") {
      H.reboot("crash");
      fail("interpreter crashed: raw 0x" + c.charCodeAt(0).toString(16) + " outside a string");
    }
    var m = /^(-?)(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(s.substr(i, 400));
    if (m) { i += m[0].length; v = +m[2]; return m[1] ? -v : v; }
    m = /^(true|false|null)\b/.exec(s.substr(i, 6));
    if (m) { i += m[0].length; return m[1] === "true" ? true : m[1] === "false" ? false : null; }
    fail("Expecting valid value, got " + tok());
  }
  return value();
}
if (Q.json) def(JSON, "parse", function parse(text) { return espParse(text); });
// "abc".indexOf("cd") is 2 on Espruino: the search runs to the end of the string and a needle
// that runs off it counts as found (a needle longer than the string is never found).
var realIndexOf = String.prototype.indexOf;
function espIndexOf(sub, from) {
  var h = String(this), nd = String(sub), L = h.length, m = nd.length;
  if (m > L) return -1;
  var end = L - m + 1, idx = 0;
  if (typeof from === "number" || (typeof from === "string" && from !== "" && from === from.trim() && !isNaN(+from))) {
    idx = +from;
    idx = idx !== idx ? 0 : idx < 0 ? Math.ceil(idx) : Math.floor(idx);
    if (idx < 0) idx = 0;
    if (idx > end) idx = end;
  }
  for (; idx < L; idx++) {
    var j = 0;
    while (j < m && idx + j < L && h.charCodeAt(idx + j) === nd.charCodeAt(j)) j++;
    if (j === m || idx + j === L) return idx;
  }
  return -1;
}
if (Q.indexOfTail) {
  def(String.prototype, "indexOf", function indexOf(sub, from) { return espIndexOf.call(this, sub, from); });
  if (String.prototype.includes) def(String.prototype, "includes", function includes(sub, from) { return espIndexOf.call(this, sub, from) >= 0; });
}
// Math.round(-1.5) is -2: halves round away from zero (through a 64-bit integer: 1e20 overflows).
if (Q.mathRound) def(Math, "round", function round(x) { x = +x; if (!isFinite(x)) return x; if (x >= 9223372036854775807 || x < -9223372036854775807) return -9223372036854775808; return x >= 0 ? Math.floor(x + 0.5) : -Math.floor(0.5 - x); });
if (Q.numbers) {
  // Number(" 15 ") is NaN: Espruino skips whitespace before a number but not after it.
  var RealNumber = Number;
  var toNumber = function (v) { return typeof v === "string" && /\s$/.test(v) ? NaN : RealNumber(v); };
  var Number2 = function Number(v) {
    var x = arguments.length ? toNumber(v) : 0;
    return this instanceof Number2 ? construct(RealNumber, [x]) : x;
  };
  var nOwn = Object.getOwnPropertyNames(RealNumber);
  for (var ni = 0; ni < nOwn.length; ni++) if (nOwn[ni] !== "length" && nOwn[ni] !== "name" && nOwn[ni] !== "prototype") def(Number2, nOwn[ni], RealNumber[nOwn[ni]]);
  Object.defineProperty(Number2, "prototype", { value: RealNumber.prototype });
  def(RealNumber.prototype, "constructor", Number2);
  G.Number = Number2;
  // "a,b,c".split(",", 2) is ["a","b","c"]: the limit is ignored.
  var realSplit = String.prototype.split;
  def(String.prototype, "split", function split(sep) { return realSplit.call(this, sep); });
  // trim removes only space and \t\n\v\f\r (not NBSP); case changes touch only ASCII letters.
  def(String.prototype, "trim", function trim() {
    var s = String(this), a = 0, b = s.length, c;
    while (a < b && ((c = s.charCodeAt(a)) === 32 || (c >= 9 && c <= 13))) a++;
    while (b > a && ((c = s.charCodeAt(b - 1)) === 32 || (c >= 9 && c <= 13))) b--;
    return s.substring(a, b);
  });
  def(String.prototype, "toUpperCase", function toUpperCase() { return String(this).replace(/[a-z]+/g, function (m) { return realUpper.call(m); }); });
  def(String.prototype, "toLowerCase", function toLowerCase() { return String(this).replace(/[A-Z]+/g, function (m) { return realLower.call(m); }); });
  // Array.isArray(arguments) is true
  var realIsArray = Array.isArray;
  def(Array, "isArray", function isArray(a) { return realIsArray(a) || Object.prototype.toString.call(a) === "[object Arguments]"; });
}
function listeners(o, ev) { var l = o["#on" + ev]; return l === undefined ? [] : (typeof l === "function" ? [l] : l); }
// Espruino keeps an object's listeners in an enumerable "#on<event>" array.
function setListeners(o, ev, l) {
  if (Q.listenersEnumerable) o["#on" + ev] = l;
  else if (l.length) def(o, "#on" + ev, l.length === 1 ? l[0] : l);
  else delete o["#on" + ev];
}
// Espruino's on() copies the listeners it finds into a new array (jsvArrayPushAll): an array's
// items, but of one function set as "#on<event>" itself (as net.connect() stores its callback, and
// the JMQT client its socket handlers) the function's own children, its code text first, so that
// function is never called again: an event evaluates its code as a string, at global scope
// (measured on espruino-large: fidelity emit.direct.thenOn).
function codeOf(f) { var s = "" + f; return s.slice(s.indexOf("{") + 1, s.lastIndexOf("}")); }
// a string listener (Espruino's on() takes one) is code evaluated at global scope
function callable(l) { return typeof l === "string" ? function () { (0, eval)(l); } : l; }
def(Object.prototype, "on", function on(ev, fn) {
  var k = "#on" + ev, l = this[k];
  if (Q.listenersEnumerable) { if (l === undefined) this[k] = [fn]; else if (typeof l === "function") this[k] = [codeOf(l), fn]; else l.push(fn); }
  else if (l === undefined) def(this, k, fn); else if (typeof l === "function") def(this, k, [l, fn]); else l.push(fn);
  return this;
});
def(Object.prototype, "addListener", Object.prototype.on);
def(Object.prototype, "prependListener", function prependListener(ev, fn) {
  var l = listeners(this, ev).slice(); l.unshift(fn); setListeners(this, ev, l); return this;
});
def(Object.prototype, "emit", function emit(ev) {
  var l = listeners(this, ev).slice(), a = [].slice.call(arguments, 1), i;
  if (!Q.emitQueued) {
    for (i = 0; i < l.length; i++) callable(l[i]).apply(this, a);
    return l.length > 0;
  }
  // Espruino queues each listener (as they are now): it runs after the current code returns.
  for (i = 0; i < l.length; i++) H.queueEvent(callable(l[i]), this, a);
});
def(Object.prototype, "removeListener", function removeListener(ev, fn) {
  var l = listeners(this, ev), i = l.indexOf(fn);
  if (i >= 0) { l = l.slice(); l.splice(i, 1); setListeners(this, ev, l); }
  return this;
});
def(Object.prototype, "removeAllListeners", function removeAllListeners(ev) {
  if (ev === undefined) { for (var k in this) if (k.charAt(0) === "#" && k.substr(0, 3) === "#on") delete this[k]; var own = Object.getOwnPropertyNames(this); for (var j = 0; j < own.length; j++) if (own[j].substr(0, 3) === "#on") delete this[own[j]]; }
  else delete this["#on" + ev];
  return this;
});
def(Object.prototype, "clone", function clone() { return realParse(realStringify(this)); });
var rnd = H.random;
def(Math, "random", function random() { return rnd(); });
def(Math, "randInt", function randInt(n) { return Math.floor(rnd() * (n === undefined ? 4294967296 : n)); });
def(Math, "clip", function clip(x, a, b) { return x < a ? a : x > b ? b : x; });
def(Math, "wrap", function wrap(x, max) { var r = x % max; return r < 0 ? r + max : r; });
var RealDate = Date, now = H.now;
function Date2(a) {
  if (!(this instanceof Date2)) return new RealDate(now()).toString();
  if (arguments.length === 0) return new RealDate(now());
  return construct(RealDate, [].slice.call(arguments));
}
Date2.prototype = RealDate.prototype;
def(RealDate.prototype, "constructor", Date2);
def(Date2, "now", function now2() { return now(); });
def(Date2, "parse", RealDate.parse);
G.Date = Date2;
function InternalError(m) { if (!(this instanceof InternalError)) return new InternalError(m); this.message = m === undefined ? "" : String(m); }
InternalError.prototype = realCreate(Error.prototype);
def(InternalError.prototype, "constructor", InternalError);
def(InternalError.prototype, "name", "InternalError");
glob("InternalError", InternalError);

function trapReads(proto) {
  var own = Object.getOwnPropertyNames(proto);
  for (var i = 0; i < own.length; i++) {
    var k = own[i];
    if (k === "constructor" || k === "length" || k === "name" || k === "arguments" || k === "caller") continue;
    var d = Object.getOwnPropertyDescriptor(proto, k);
    if (typeof d.value !== "function") continue;
    (function (k, fn) {
      Object.defineProperty(proto, k, {
        configurable: true, enumerable: false,
        get: function () { return this === proto ? undefined : fn; },
        set: function (v) { Object.defineProperty(this, k, { value: v, writable: true, configurable: true, enumerable: false }); }
      });
    })(k, d.value);
  }
}

var pins = info.pins;
function pinNum(p) {
  if (typeof p === "string") p = pins[p];
  if (typeof p !== "number" || H.validPin(p) !== true) throw new Error("Invalid pin!");
  return p;
}
for (var pn in pins) glob(pn, pins[pn]);
function Pin(v) {
  if (typeof v === "number") return H.validPin(v) === true ? v : undefined;
  var s = String(v);
  return Object.prototype.hasOwnProperty.call(pins, s) ? pins[s] : undefined;
}
glob("Pin", Pin);
function digitalRead(p) {
  if (Array.isArray(p)) { var r = 0; for (var i = 0; i < p.length; i++) r = (r << 1) | digitalRead(p[i]); return r; }
  return H.digitalRead(pinNum(p));
}
function digitalWrite(p, v) {
  if (Array.isArray(p)) { for (var i = p.length - 1; i >= 0; i--) { digitalWrite(p[i], v & 1); v = v >> 1; } return; }
  H.digitalWrite(pinNum(p), v ? 1 : 0);
}
glob("digitalRead", digitalRead);
glob("digitalWrite", digitalWrite);
glob("analogRead", function analogRead(p) { return H.analogRead(pinNum(p)); });
glob("analogWrite", function analogWrite(p, v, o) { H.analogWrite(pinNum(p), +v, o && o.freq ? +o.freq : 0); });
glob("pinMode", function pinMode(p, m, auto) { H.pinMode(pinNum(p), m === undefined ? undefined : String(m), !!auto); });
glob("getPinMode", function getPinMode(p) { return H.getPinMode(pinNum(p)); });
glob("digitalPulse", function digitalPulse(p, v, t) { H.digitalPulse(pinNum(p), v ? 1 : 0, Array.isArray(t) ? t.join(",") : String(+t)); });
glob("setWatch", function setWatch(fn, p, o) {
  if (typeof fn !== "function") throw new Error("Function or String not supplied!");
  var opts = typeof o === "object" && o ? o : { repeat: !!o }, ed = opts.edge;
  if (Q.strictArgs && !(ed === undefined || ed === "rising" || ed === "falling" || ed === "both" || ed === 1 || ed === -1 || ed === 0)) {
    throw new TypeError("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
  }
  return H.setWatch(fn, pinNum(p), !!opts.repeat, String(opts.edge === undefined ? "both" : opts.edge), +(opts.debounce || 0));
});
function noUndefined(name, args) {
  if (Q.strictArgs && args.length > 0 && args[0] === undefined) throw new Error(name + "(undefined) not allowed. Use " + name + "() instead");
}
glob("clearWatch", function clearWatch(id) { noUndefined("clearWatch", arguments); H.clearWatch(arguments.length === 0 ? -1 : id); });
var NP = Number.prototype;
def(NP, "read", function read() { return !!digitalRead(+this); });
def(NP, "write", function write(v) { digitalWrite(+this, v); });
def(NP, "set", function set() { digitalWrite(+this, 1); });
def(NP, "reset", function reset() { digitalWrite(+this, 0); });
def(NP, "toggle", function toggle() { var v = H.outputValue(pinNum(+this)) ? 0 : 1; digitalWrite(+this, v); return !!v; });
def(NP, "mode", function mode(m) { G.pinMode(+this, m); });
def(NP, "getMode", function getMode() { return G.getPinMode(+this); });
def(NP, "analog", function analog() { return G.analogRead(+this); });
def(NP, "pwm", function pwm(v, o) { G.analogWrite(+this, v, o); });
def(NP, "pulse", function pulse(v, t) { G.digitalPulse(+this, v, t); });
def(NP, "getInfo", function getInfo() { return H.pinInfo(pinNum(+this)); });
if (info.nodeMcu) { var nm = {}; for (var a in info.nodeMcu) nm[a] = pins[info.nodeMcu[a]]; glob("NodeMCU", nm); }
glob("HIGH", 1);
glob("LOW", 0);
// Buses (sim/hw/buses.ts behind the hooks): software I2C and 1-Wire on any pins, as on the board.
// Bytes cross to the host as comma-separated text; a missing chip throws from the host.
function bytesText(d) { if (typeof d === "number") return String(d & 255); var a = []; for (var i = 0; i < d.length; i++) a.push(d[i] & 255); return a.join(","); }
function textBytes(t) { var a = t ? t.split(",") : [], r = new Uint8Array(a.length); for (var i = 0; i < a.length; i++) r[i] = +a[i]; return r; }
function I2C() { def(this, "_b", ""); }
def(I2C.prototype, "setup", function setup(o) { o = o || {}; this._b = H.i2cSetup(pinNum(o.sda), pinNum(o.scl)); });
def(I2C.prototype, "writeTo", function writeTo(a, d) { if (typeof a === "object" && a) a = a.address; H.i2cWrite(this._b, +a, arguments.length > 2 ? bytesText([].slice.call(arguments, 1)) : bytesText(d)); });
def(I2C.prototype, "readFrom", function readFrom(a, n) { if (typeof a === "object" && a) a = a.address; return textBytes(H.i2cRead(this._b, +a, +n)); });
glob("I2C", I2C);
function OneWire(p) { def(this, "_p", pinNum(p)); }
def(OneWire.prototype, "reset", function reset() { return !!H.owReset(this._p); });
def(OneWire.prototype, "search", function search(c) { var t = H.owSearch(this._p, c === undefined ? 0xf0 : +c); return t ? t.split(",") : []; });
def(OneWire.prototype, "select", function select(rom) { H.owSelect(this._p, String(rom)); });
def(OneWire.prototype, "skip", function skip() { H.owWrite(this._p, "204"); });
def(OneWire.prototype, "write", function write(d, power) { H.owWrite(this._p, bytesText(d)); });
def(OneWire.prototype, "read", function read(n) { if (n === undefined) return textBytes(H.owRead(this._p, 1))[0]; var b = textBytes(H.owRead(this._p, +n)), a = []; for (var i = 0; i < b.length; i++) a.push(b[i]); return a; });
glob("OneWire", OneWire);

function timer(fn, ms, args, rep) {
  if (typeof fn === "string") { var src = fn; fn = function () { (0, eval)(src); }; }
  if (typeof fn !== "function") throw new Error("Function or String not supplied!");
  return H.setTimer(fn, +ms || 0, args, rep);
}
glob("setTimeout", function setTimeout(fn, ms) { return timer(fn, ms, [].slice.call(arguments, 2), false); });
glob("setInterval", function setInterval(fn, ms) { return timer(fn, ms, [].slice.call(arguments, 2), true); });
glob("clearTimeout", function clearTimeout(id) { noUndefined("clearTimeout", arguments); H.clearTimer(arguments.length === 0 ? -1 : id); });
glob("clearInterval", function clearInterval(id) { noUndefined("clearInterval", arguments); H.clearTimer(arguments.length === 0 ? -1 : id); });
glob("changeInterval", function changeInterval(id, ms) { H.changeInterval(id, +ms); });
glob("getTime", function getTime() { return now() / 1000; });
glob("setTime", function setTime(s) { H.setTime(+s); });
glob("getSerial", function getSerial() { return H.serial(); });

function fmt(v) {
  if (typeof v === "string") return v;
  if (typeof v === "function") return String(v);
  if (v === undefined) return "undefined";
  try { var s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
}
function log() { var a = []; for (var i = 0; i < arguments.length; i++) a.push(fmt(arguments[i])); H.log(a.join(" ")); }
var con = { log: log, debug: log, info: log, warn: log, error: log, trace: log };
glob("console", con);
glob("print", log);
glob("global", G);
glob("btoa", function btoa(s) { return H.btoa(String(s)); });
glob("atob", function atob(s) { return H.atob(String(s)); });
glob("reset", function reset() { H.reboot("reset"); });
glob("load", function load() { H.reboot("load"); });
glob("save", function save() { H.log("save() is not simulated"); });
glob("peek8", function () { return 0; });
glob("poke8", function () {});
glob("peek16", function () { return 0; });
glob("poke16", function () {});
glob("peek32", function () { return 0; });
glob("poke32", function () {});
glob("echo", function () {});
glob("shiftOut", function () { throw new Error("shiftOut is not simulated"); });

function mk(json) { return json === undefined ? undefined : realParse(json); }

var E = {};
def(E, "getTemperature", function getTemperature() { return H.temperature(); });
def(E, "kickWatchdog", function kickWatchdog() { H.kickWatchdog(); });
def(E, "enableWatchdog", function enableWatchdog(t, auto) { H.enableWatchdog(+t, auto === undefined ? true : !!auto); });
def(E, "getSizeOf", function getSizeOf(v, depth) { return H.sizeOf(v); });
def(E, "reboot", function reboot() { H.reboot("software"); });
def(E, "getFlags", function getFlags() { return mk(H.getFlags()); });
def(E, "setFlags", function setFlags(f) { H.setFlags(JSON.stringify(f)); });
def(E, "getErrorFlags", function getErrorFlags() { return mk(H.errorFlags()); });
def(E, "toString", function toString() {
  var s = "";
  for (var i = 0; i < arguments.length; i++) {
    var a = arguments[i];
    if (typeof a === "string") s += a;
    else if (typeof a === "number") s += String.fromCharCode(a & 255);
    else if (a && typeof a.length === "number") for (var j = 0; j < a.length; j++) s += String.fromCharCode(a[j] & 255);
  }
  return s;
});
def(E, "toJS", function toJS(v) { return JSON.stringify(v); });
def(E, "CRC32", function CRC32(s) { return H.crc32(typeof s === "string" ? s : E.toString(s)); });
def(E, "hwRand", function hwRand() { return Math.randInt(); });
def(E, "srand", function srand() {});
def(E, "getConsole", function getConsole() { return "Telnet"; });
def(E, "setTimeZone", function setTimeZone() {});
def(E, "lookupNoCase", function lookupNoCase(o, k) { k = String(k).toLowerCase(); for (var n in o) if (n.toLowerCase() === k) return o[n]; });
def(E, "stopEventPropagation", function stopEventPropagation() {});
glob("E", E);

var proc = {};
def(proc, "version", info.version);
def(proc, "env", { VERSION: info.version, BOARD: info.family, MODULES: "net,Wifi,Storage," + info.family });
def(proc, "memory", function memory(gc) { return mk(H.memory()); });
glob("process", proc);

var cache = {};
var Modules = {};
def(Modules, "addCached", function addCached(id, src) { cache[id] = typeof src === "function" ? src : String(src); });
def(Modules, "removeCached", function removeCached(id) { delete cache[id]; });
def(Modules, "removeAllCached", function removeAllCached() { cache = {}; });
def(Modules, "getCached", function getCached() { return Object.keys(cache); });
glob("Modules", Modules);
var builtin = {};
function loadCached(id) {
  var c = cache[id];
  if (typeof c === "object") return c;
  var m = { exports: {} };
  if (typeof c === "function") c.call(m.exports, m, m.exports); else (0, eval)("(function(module,exports){" + c + "\n})")(m, m.exports);
  cache[id] = m.exports;
  return m.exports;
}
glob("require", function require(id) {
  id = String(id);
  if (Object.prototype.hasOwnProperty.call(builtin, id)) return builtin[id];
  if (Object.prototype.hasOwnProperty.call(cache, id)) return loadCached(id);
  throw new Error("Module \"" + id + "\" not found");
});

function Socket() {}
def(Socket.prototype, "write", function write(d) { return H.sockWrite(this, d === undefined ? "" : typeof d === "string" ? d : E.toString(d)); });
def(Socket.prototype, "end", function end(d) { if (d !== undefined) this.write(d); H.sockEnd(this); });
def(Socket.prototype, "available", function available() { return 0; });
def(Socket.prototype, "read", function read() { return ""; });
builtin.net = {};
def(builtin.net, "connect", function connect(o, cb) {
  var s = new Socket();
  if (typeof cb === "function") s.on("connect", cb);
  H.netConnect(s, String(o && o.host), +(o && o.port));
  return s;
});
def(builtin.net, "createServer", function createServer() { throw new Error("net.createServer is not simulated"); });

var wifi = {};
def(wifi, "connect", function connect(ssid, o, cb) {
  if (typeof o === "function") { cb = o; o = {}; }
  H.wifiConnect(String(ssid), String((o && o.password) || ""), typeof cb === "function" ? cb : null);
});
def(wifi, "disconnect", function disconnect(cb) { H.wifiDisconnect(typeof cb === "function" ? cb : null); });
function withCb(name) { return function (cb) { var v = mk(H[name]()); if (typeof cb === "function") { if (name === "wifiIP") cb(null, v); else cb(v); } return v; }; }
def(wifi, "getStatus", withCb("wifiStatus"));
def(wifi, "getDetails", withCb("wifiDetails"));
def(wifi, "getIP", withCb("wifiIP"));
def(wifi, "getAPIP", function getAPIP(cb) { var v = { ip: "0.0.0.0", netmask: "0.0.0.0", gw: "0.0.0.0", mac: "" }; if (typeof cb === "function") cb(null, v); return v; });
def(wifi, "getAPDetails", function getAPDetails(cb) { var v = { status: "disabled" }; if (typeof cb === "function") cb(v); return v; });
def(wifi, "getHostname", function getHostname(cb) { var v = H.hostname(); if (typeof cb === "function") cb(v); return v; });
def(wifi, "setHostname", function setHostname(n, cb) { H.setHostname(String(n)); if (typeof cb === "function") cb(); });
def(wifi, "setConfig", function setConfig() {});
def(wifi, "save", function save() {});
def(wifi, "restore", function restore() {});
def(wifi, "stopAP", function stopAP(cb) { if (typeof cb === "function") cb(); });
def(wifi, "startAP", function startAP() { throw new Error("Wifi.startAP is not simulated"); });
def(wifi, "scan", function scan(cb) { var v = mk(H.wifiScan()); if (typeof cb === "function") G.setTimeout(function () { cb(v); }, 1500); });
def(wifi, "setSNTP", function setSNTP() {});
def(wifi, "setIP", function setIP(s, cb) { if (typeof cb === "function") cb(); });
def(wifi, "getHostByName", function getHostByName(h, cb) { if (typeof cb === "function") cb(/^[0-9.]+$/.test(h) ? h : undefined); });
def(wifi, "ping", function ping(h, cb) { if (typeof cb === "function") cb({ totalCount: 1, totalBytes: 32, totalTime: 5, respTime: 5, seqNo: 1, timeoutCount: 0 }); });
builtin.Wifi = wifi;

var St = {};
def(St, "write", function write(n, d, off, size) {
  if (Q.strictArgs && off === undefined && size === undefined && (d === undefined || String(d) === "")) throw new Error("Can't create zero length file");
  return H.stWrite(String(n), typeof d === "string" ? d : E.toString(d), off === undefined ? -1 : +off, size === undefined ? -1 : +size); });
def(St, "writeJSON", function writeJSON(n, d) { return H.stWrite(String(n), JSON.stringify(d), -1, -1); });
def(St, "read", function read(n, off, len) { return H.stRead(String(n), off === undefined ? 0 : +off, len === undefined ? -1 : +len); });
def(St, "readJSON", function readJSON(n, noEx) {
  var s = H.stRead(String(n), 0, -1);
  if (s === undefined) return undefined;
  if (noEx) { try { return JSON.parse(s); } catch (e) { return undefined; } }
  return JSON.parse(s);
});
def(St, "readArrayBuffer", function readArrayBuffer(n) { var s = H.stRead(String(n), 0, -1); if (s === undefined) return undefined; var u = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u.buffer; });
def(St, "erase", function erase(n) { H.stErase(String(n)); });
def(St, "eraseAll", function eraseAll() { H.stEraseAll(); });
def(St, "list", function list(re, filter) {
  var l = mk(H.stList()), out = [];
  for (var i = 0; i < l.length; i++) if (!re || (typeof re === "string" ? l[i] === re : re.test(l[i]))) out.push(l[i]);
  return out;
});
def(St, "getFree", function getFree() { return H.stFree(); });
def(St, "getStats", function getStats() { return mk(H.stStats()); });
def(St, "compact", function compact() {});
def(St, "optimise", function optimise() {});
def(St, "hash", function hash(re) { return H.crc32(JSON.stringify(St.list(re))); });
def(St, "open", function open() { throw new Error("Storage.open is not simulated"); });
builtin.Storage = St;

var chip = {};
def(chip, "reboot", function reboot() { H.reboot("software"); });
def(chip, "getState", function getState() { return mk(H.chipState()); });
if (info.family === "ESP32") {
  def(chip, "setAtten", function setAtten() {});
  def(chip, "deepSleep", function deepSleep(us) { H.deepSleep(+us / 1000); });
  def(chip, "getWakeupCause", function getWakeupCause() { return 0; });
  def(chip, "enableWifi", function enableWifi() {});
  def(chip, "enableBLE", function enableBLE() {});
  def(chip, "setOTAValid", function setOTAValid() {});
  def(chip, "lightSleep", function lightSleep() {});
} else {
  def(chip, "getResetInfo", function getResetInfo() { return mk(H.resetInfo()); });
  def(chip, "getFreeFlash", function getFreeFlash() { return [{ area: 1048576, length: 3145728 }]; });
  def(chip, "deepSleep", function deepSleep(us) { H.deepSleep(+us / 1000); });
  def(chip, "setCPUFreq", function setCPUFreq() {});
  def(chip, "logDebug", function logDebug() {});
  def(chip, "setLog", function setLog() {});
  def(chip, "printLog", function printLog() {});
  def(chip, "readLog", function readLog() { return ""; });
  def(chip, "dumpSocketInfo", function dumpSocketInfo() {});
  def(chip, "crc32", function crc32(a) { return H.crc32(E.toString(a)); });
  def(chip, "ping", function ping() {});
}
builtin[info.family] = chip;
var stub = ["http", "dgram", "tls", "crypto", "neopixel", "TelnetServer", "Flash"];
for (var si = 0; si < stub.length; si++) (function (n) {
  var o = {};
  builtin[n] = o;
})(stub[si]);

trapReads(Array.prototype);
trapReads(Function.prototype);
return {
  emit: function (o, ev, a, b, onErr) { var l = listeners(o, ev).slice(); for (var i = 0; i < l.length; i++) { try { callable(l[i]).call(o, a, b); } catch (e) { onErr(e); } } },
  hasListeners: function (o, ev) { return listeners(o, ev).length > 0; },
  mk: mk,
  newSocket: function () { return new Socket(); },
  modules: builtin,
  E: E,
  process: proc,
  wifi: wifi
};
})`;
