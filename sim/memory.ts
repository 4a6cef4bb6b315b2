// An ESTIMATE of the JsVar blocks a program holds on Espruino, computed from the values the
// program can reach in its vm realm. V8 does not store values the way Espruino does, so this is a
// model with Espruino's costing rules, calibrated against the real Espruino 2v29 interpreter
// (../shared/espruino/bin, booted from Storage, process.memory() after GC): the corpus
// test/sim/memory-corpus, its recorded answers.json and test/sim/memory.test.ts. Rules measured there:
//   object/array header            1 block (empty {} / [] included)
//   property, variable, element    1 block with a name of up to 4 chars; a longer name continues in
//                                  blocks of 8 (12-byte blocks) / 9 (13-byte) chars
//   value stored in it             0 for undefined and small ints (-1024..1023 with 12-byte blocks,
//                                  -4096..4095 with 13); 1 for other numbers, true/false/null and
//                                  ''; a string: 1 block of 8 chars, then blocks of 8 / 9 chars
//   function                       3 blocks (function, code, name) + 1 per parameter, + 1 for the
//                                  link to its scope when made inside another function; an empty
//                                  body: 1 + parameters. Its body text costs RAM (ceil(len/16))
//                                  only when the code is not run from Storage or made after boot
//   scope kept by a closure        1 block + its variables as properties (V8 inspector [[Scopes]]:
//                                  only the variables some closure uses are seen)
//   scope of a function            all parameters, vars and function declarations of every
//                                  function it was made in (acorn parse of the script, through the
//                                  inspector's Debugger source); a named function expression
//                                  keeps its name in a scope of its own (+1 + name)
//   prototype                      'prototype' (2) + object, once it has methods or instances;
//                                  'constructor' (2) once instantiated; an instance's __proto__ 2
//   built-ins                      first use keeps some in RAM (MEMORY_MODEL.builtinUse,
//                                  arrayClassBlocks); a baseline for the empty program (baseBlocks)
// Values that existed before the program booted (the built-ins) cost nothing, like Espruino's
// built-ins that live in flash; properties the program adds to them do count.
import * as acorn from "acorn";
import * as inspector from "node:inspector";
import * as vm from "node:vm";

/** A board's block layout (process.env.BOARD of the realm picks it). */
export interface MemoryLayout {
  /** characters of a name held in its first block */
  inlineNameChars: number;
  /** characters in the first block of a string value */
  strFirstChars: number;
  /** characters per further block of a string or a long name */
  strCharsPerBlock: number;
  /** integers in -intInline..intInline-1 are stored in their property block */
  intInline: number;
  /** blocks the interpreter holds with an empty program booted from Storage */
  baseBlocks: number;
}

/** Calibration constants (fitted to the interpreter, see test/sim/memory.test.ts). */
export const MEMORY_MODEL = {
  /** blocks of a function with a body beyond its parameters: function, code reference, name */
  fnBlocks: 3,
  /** blocks of a function with an empty body beyond its parameters */
  emptyFnBlocks: 1,
  /** the link from a function made inside another function to that function's scope */
  scopeLinkBlocks: 1,
  /** characters of (stripped) function body per block when the code is in RAM */
  codeCharsPerBlock: 16,
  /** the first member access on an array (push, length, [i]= ...) makes Espruino keep its Array
   *  class in RAM: counted once when the program holds an array */
  arrayClassBlocks: 8,
  /** what Espruino keeps in RAM once the program's functions use a built-in (measured: first
   *  reference to Math, Date or E 2 blocks; a string-only method 8; require("net") 5,
   *  require("Storage") 6). Found in the source of the program's functions (code at the top level
   *  of .bootcde is not seen) and counted once per built-in. */
  builtinUse: [
    { re: /\bMath\./, blocks: 2 },
    { re: /\bDate\.|\bnew Date\b/, blocks: 2 },
    { re: /(^|[^\w$.])E\./, blocks: 2 },
    { re: /\.(charCodeAt|charAt|substr|substring|split|toUpperCase|toLowerCase|trim)\(/, blocks: 8 },
    { re: /\brequire\(\s*["']net["']\s*\)/, blocks: 5 },
    { re: /\brequire\(\s*["']Storage["']\s*\)/, blocks: 6 },
  ] as { re: RegExp; blocks: number }[],
  /** ESP8266: 12-byte blocks */
  esp8266: { inlineNameChars: 4, strFirstChars: 8, strCharsPerBlock: 8, intInline: 1024, baseBlocks: 52 } as MemoryLayout,
  /** ESP32: 13-byte blocks */
  esp32: { inlineNameChars: 4, strFirstChars: 8, strCharsPerBlock: 9, intInline: 4096, baseBlocks: 51 } as MemoryLayout,
  /** per timer / watch / socket the interpreter keeps (besides callbacks, walked as values):
   *  measured: setTimeout 5, with an argument 8, setInterval 7 (the sim cannot tell them apart) */
  timerBlocks: 5,
  watchBlocks: 4,
  socketBlocks: 8,
};

let session: inspector.Session | null = null;
function post(method: string, params: object): any {
  if (!session) {
    session = new inspector.Session();
    session.connect();
  }
  let res: any;
  let err: any;
  session.post(method, params, (e, r) => {
    err = e;
    res = r;
  });
  if (err) throw err;
  return res;
}

export function stripCode(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'\\])\/\/[^\n]*/g, "$1").replace(/\s+/g, " ");
}

const GRAB = "__simGrab";
const HOST_OBJECT_PROTO = Object.prototype;
const HOST_FUNCTION_PROTO = Function.prototype;

// A value of the Node side (the sim's own hooks) is never part of the program's memory.
function isHostValue(v: object): boolean {
  for (let p = Object.getPrototypeOf(v); p; p = Object.getPrototypeOf(p)) {
    if (p === HOST_OBJECT_PROTO || p === HOST_FUNCTION_PROTO) return true;
  }
  return false;
}

// The closure scope of sim/realm.ts's prelude (built-in machinery, like Espruino's C code).
function isPreludeScope(vars: { name: string }[]): boolean {
  let h = false;
  let info = false;
  for (const v of vars) {
    if (v.name === "H") h = true;
    else if (v.name === "RealDate") info = true;
  }
  return h && info;
}

interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}
interface FnNode {
  start: number;
  end: number;
  names: Set<string>;
  parent: FnNode | null;
  /** a named function expression: Espruino keeps its name in a scope of its own */
  selfName?: string;
}
interface ScriptInfo {
  lineStarts: number[];
  fns: FnNode[];
}

// Scripts by id: their functions, each with the names its scope declares (Debugger source).
const scripts = new Map<string, ScriptInfo | null>();
function scriptInfo(id: string): ScriptInfo | null {
  if (scripts.has(id)) return scripts.get(id)!;
  let info: ScriptInfo | null = null;
  try {
    post("Debugger.enable", {});
    const src: string = post("Debugger.getScriptSource", { scriptId: id }).scriptSource;
    info = parseScript(src);
  } catch {
    info = null;
  } finally {
    try {
      post("Debugger.disable", {});
    } catch {
      /* ignore */
    }
  }
  scripts.set(id, info);
  return info;
}

function parseScript(src: string): ScriptInfo | null {
  let ast: any;
  try {
    ast = acorn.parse(src, { ecmaVersion: 2020, sourceType: "script", allowReturnOutsideFunction: true, allowHashBang: true });
  } catch {
    return null;
  }
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const fns: FnNode[] = [];
  const declare = (fn: FnNode | null, pat: any) => {
    if (!fn || !pat) return;
    if (pat.type === "Identifier") fn.names.add(pat.name);
    else if (pat.type === "AssignmentPattern") declare(fn, pat.left);
    else if (pat.type === "RestElement") declare(fn, pat.argument);
    else if (pat.type === "ArrayPattern") for (const e of pat.elements) declare(fn, e);
    else if (pat.type === "ObjectPattern") for (const p of pat.properties) declare(fn, p.type === "RestElement" ? p.argument : p.value);
  };
  const walk = (node: any, fn: FnNode | null) => {
    if (!node || typeof node.type !== "string") return;
    let inner = fn;
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") {
      if (node.type === "FunctionDeclaration" && node.id) declare(fn, node.id);
      inner = { start: node.start, end: node.end, names: new Set(), parent: fn };
      if (node.type === "FunctionExpression" && node.id) inner.selfName = node.id.name;
      fns.push(inner);
      for (const p of node.params) declare(inner, p);
    } else if (node.type === "VariableDeclaration") {
      for (const d of node.declarations) declare(fn, d.id);
    }
    for (const k of Object.keys(node)) {
      if (k === "type" || k === "start" || k === "end") continue;
      const c = node[k];
      if (Array.isArray(c)) for (const x of c) walk(x, inner);
      else if (c && typeof c.type === "string") walk(c, inner);
    }
  };
  walk(ast, null);
  return { lineStarts, fns };
}

// The scopes (innermost first) of the functions that the function at `loc` was made in.
type Ancestors = { key: string; names: Set<string> }[] & { selfName?: string };
const ancestorCache = new Map<string, Ancestors | null>();
function ancestorScopes(loc: Location): Ancestors | null {
  const ck = loc.scriptId + ":" + loc.lineNumber + ":" + loc.columnNumber;
  if (ancestorCache.has(ck)) return ancestorCache.get(ck)!;
  let out: Ancestors | null = null;
  const info = scriptInfo(loc.scriptId);
  if (info) {
    const off = (info.lineStarts[loc.lineNumber] || 0) + loc.columnNumber;
    let best: FnNode | null = null;
    for (const f of info.fns) if (f.start <= off && off < f.end && (!best || f.start >= best.start)) best = f;
    if (best) {
      out = [];
      if (best.selfName) out.selfName = best.selfName;
      for (let p = best.parent; p; p = p.parent) out.push({ key: loc.scriptId + ":" + p.start, names: p.names });
    }
  }
  ancestorCache.set(ck, out);
  return out;
}

export class MemoryEstimator {
  private builtinKeys = new WeakMap<object, Set<string>>();
  private loadedFns = new WeakSet<object>();
  private scopeSeen = new Set<string>();
  private ids = new WeakMap<object, number>();
  private nextId = 1;
  private visited = new Set<object>();
  /** when true, functions that existed at boot end keep their code in flash */
  fromStorage = true;
  /** treat every function as loaded at boot (no boot scan was made) */
  allLoaded = false;
  /** scan closure scopes through the inspector (off: only values reachable from globals/roots) */
  scanClosures = true;

  private layout: MemoryLayout;
  private instantiated = new Set<object>();
  /** set by scopesOf: the function has a (program) scope besides the global one */
  private hadScope = false;
  private arrayClassSeen = false;
  private builtinsUsed: boolean[] = [];
  private lastLocation: Location | null = null;
  private lastAll: { key: string; names: string[] }[] = [];
  private declSeen = new Set<string>();
  private inPrelude = false;

  constructor(
    private context: vm.Context,
    private global: any,
  ) {
    let board = "";
    try {
      board = String(global.process.env.BOARD);
    } catch {
      board = "";
    }
    this.layout = board === "ESP32" ? MEMORY_MODEL.esp32 : MEMORY_MODEL.esp8266;
  }

  private stringBlocks(len: number): number {
    const L = this.layout;
    return len <= L.strFirstChars ? 1 : 1 + Math.ceil((len - L.strFirstChars) / L.strCharsPerBlock);
  }

  private nameBlocks(name: string): number {
    const L = this.layout;
    const extra = name.length - L.inlineNameChars;
    return 1 + (extra > 0 ? Math.ceil(extra / L.strCharsPerBlock) : 0);
  }

  /** Records every value reachable from the realm's globals as built-in (cost 0). */
  snapshotBuiltins(): void {
    // the built-in modules (native on the board) are built-ins too, not only what globals reach
    const mods: any[] = [];
    for (const m of ["net", "Storage", "Wifi", "ESP8266", "ESP32", "http", "dgram", "tls", "crypto", "neopixel", "Flash"]) {
      try {
        mods.push(this.global.require(m));
      } catch {
        /* not on this board */
      }
    }
    for (const o of this.reach([this.global].concat(mods))) {
      const keys = new Set<string>();
      for (const k of Object.getOwnPropertyNames(o)) keys.add(k);
      this.builtinKeys.set(o, keys);
    }
  }

  /** Records the functions that exist once boot code ran: their code stays in flash (Storage). */
  markLoaded(extraRoots: any[]): void {
    for (const o of this.reach([this.global].concat(extraRoots), true)) if (typeof o === "function") this.loadedFns.add(o);
  }

  /** Estimated blocks of everything reachable from the globals and `extraRoots`, plus fixed costs. */
  estimate(extraRoots: any[], fixedBlocks: number): number {
    this.resetWalk();
    let total = this.layout.baseBlocks + fixedBlocks + this.valueCost(this.global);
    for (const r of extraRoots) total += this.valueCost(r);
    MEMORY_MODEL.builtinUse.forEach((u, i) => {
      if (this.builtinsUsed[i]) total += u.blocks;
    });
    return total;
  }

  /** E.getSizeOf(v): blocks of one value and what it alone reaches (built-ins excluded). */
  sizeOf(v: any): number {
    this.resetWalk();
    return (typeof v === "object" && v !== null) || typeof v === "function" ? this.valueCost(v) : this.inlineCost(v) || 1;
  }

  private resetWalk(): void {
    this.visited = new Set();
    this.scopeSeen = new Set();
    this.instantiated = new Set();
    this.arrayClassSeen = false;
    this.builtinsUsed = MEMORY_MODEL.builtinUse.map(() => false);
    this.declSeen = new Set();
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (!id) {
      id = this.nextId++;
      this.ids.set(o, id);
    }
    return id;
  }

  private inlineCost(v: any): number {
    if (v === undefined) return 0;
    if (v === null || typeof v === "boolean") return 1;
    if (typeof v === "number") return (v | 0) === v && v >= -this.layout.intInline && v < this.layout.intInline ? 0 : 1;
    if (typeof v === "string") return this.stringBlocks(v.length);
    return 1;
  }

  // Cost of a value held somewhere (the holder pays its own name block).
  private valueCost(v: any): number {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return this.inlineCost(v);
    if (this.visited.has(v)) return 0;
    this.visited.add(v);
    if (isHostValue(v)) return 0;
    const builtin = this.builtinKeys.get(v);
    let cost = builtin ? 0 : 1;
    if (typeof v === "function" && !builtin) cost += this.functionCost(v);
    if (ArrayBuffer.isView(v)) return cost + Math.ceil(v.byteLength / 12);
    if (v instanceof (this.global.ArrayBuffer as any)) return cost + Math.ceil((v as ArrayBuffer).byteLength / 12);
    const isArr = Array.isArray(v);
    if (typeof v === "object" && !builtin && !isArr) cost += this.instanceCost(v);
    if (isArr && !builtin && !this.arrayClassSeen) {
      this.arrayClassSeen = true;
      cost += MEMORY_MODEL.arrayClassBlocks;
    }
    for (const k of Object.getOwnPropertyNames(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (!d || !("value" in d)) continue;
      if (typeof v === "function" && (k === "length" || k === "name" || k === "arguments" || k === "caller")) continue;
      if (isArr && k === "length") continue;
      if (typeof v === "function" && k === "prototype" && !builtin) {
        // Espruino makes a function's prototype when it gets methods or instances
        const p = d.value;
        if (!p || typeof p !== "object" || (Object.getOwnPropertyNames(p).every((n) => n === "constructor") && !this.instantiated.has(p))) continue;
      }
      if (k === "constructor" && !builtin && typeof d.value === "function" && d.value.prototype === v) {
        // 'constructor' is only added when the first instance is made (counted there)
        continue;
      }
      if (builtin && builtin.has(k)) {
        const bv = d.value;
        if (bv !== null && (typeof bv === "object" || typeof bv === "function")) cost += this.valueCost(bv);
        continue;
      }
      cost += (isArr && /^\d+$/.test(k) ? 1 : this.nameBlocks(k)) + this.valueCost(d.value);
    }
    return cost;
  }

  // An object made by `new F()` of a program's F: its __proto__ link, F's prototype (once) with its
  // 'prototype' name and the 'constructor' Espruino adds at the first instance.
  private instanceCost(o: object): number {
    const proto = Object.getPrototypeOf(o);
    if (!proto || this.builtinKeys.has(proto) || isHostValue(proto) && !this.global.Object.prototype.isPrototypeOf(proto)) return 0;
    let cost = this.nameBlocks("__proto__");
    if (!this.instantiated.has(proto)) {
      this.instantiated.add(proto);
      cost += this.nameBlocks("constructor");
      if (!this.visited.has(proto)) cost += this.nameBlocks("prototype") + this.valueCost(proto);
    }
    return cost;
  }

  // Blocks of a function beyond its header block.
  private functionCost(fn: Function): number {
    let src = "";
    try {
      src = Function.prototype.toString.call(fn);
    } catch {
      src = "";
    }
    const open = src.indexOf("{");
    const empty = open >= 0 && /^\{\s*\}$/.test(stripCode(src.slice(open)).trim());
    let cost = (empty ? MEMORY_MODEL.emptyFnBlocks : MEMORY_MODEL.fnBlocks) - 1 + fn.length;
    if (!(this.fromStorage && (this.allLoaded || this.loadedFns.has(fn)))) {
      const body = open;
      if (body >= 0 && !/\{\s*\[native code\]\s*\}$/.test(src)) cost += Math.ceil(stripCode(src.slice(body)).length / MEMORY_MODEL.codeCharsPerBlock);
    }
    this.inPrelude = false;
    if (this.scanClosures && !empty) cost += this.closureCost(fn);
    // (a helper the realm's prelude made is the built-in's own code, not the program's)
    if (!this.inPrelude && !this.builtinsUsed.every(Boolean))
      MEMORY_MODEL.builtinUse.forEach((u, i) => {
        if (!this.builtinsUsed[i] && u.re.test(src)) this.builtinsUsed[i] = true;
      });
    return cost;
  }

  // The scopes `fn` keeps: Espruino keeps the whole scope of every function it was made in (all
  // its parameters, vars and function declarations, found by parsing the script), V8 only the
  // variables some closure uses ([[Scopes]], which give their values). Each scope counted once.
  private closureCost(fn: Function): number {
    const scopes = this.scopesOf(fn, this.scopeSeen);
    // a function the realm's prelude made (a built-in's helper) keeps no program scope
    const anc = this.lastLocation && !this.inPrelude ? ancestorScopes(this.lastLocation) : null;
    let cost = this.hadScope || (anc && anc.length) ? MEMORY_MODEL.scopeLinkBlocks : 0;
    const v8 = this.lastAll;
    for (const scope of scopes) {
      cost += 1;
      for (const v of scope.vars) cost += this.nameBlocks(v.name) + this.valueCost(v.value);
    }
    if (!anc) return cost;
    if (anc.selfName) cost += 1 + this.nameBlocks(anc.selfName);
    let j = 0;
    for (const a of anc) {
      const m = j < v8.length && v8[j].names.every((n) => a.names.has(n)) ? v8[j++] : null;
      const key = m ? "v8:" + m.key : "ast:" + a.key;
      if (this.declSeen.has(key)) continue;
      this.declSeen.add(key);
      if (!m) cost += 1;
      for (const n of a.names) if (!m || m.names.indexOf(n) < 0) cost += this.nameBlocks(n);
    }
    return cost;
  }

  // The closure scopes of fn not yet in `seen`. A scope is identified by its variable names,
  // primitive values and the identity of its first object value (one fetch), so a scope shared by
  // many functions (a bundle's module scope) is read once per walk.
  private scopesOf(fn: Function, seen: Set<string>): { type: string; vars: { name: string; value: any }[] }[] {
    const out: { type: string; vars: { name: string; value: any }[] }[] = [];
    this.hadScope = false;
    this.lastLocation = null;
    this.lastAll = [];
    this.inPrelude = false;
    const g = globalThis as any;
    g[GRAB] = fn;
    let fnObj: any;
    try {
      fnObj = post("Runtime.evaluate", { expression: "globalThis." + GRAB, objectGroup: "sim" }).result;
    } finally {
      delete g[GRAB];
    }
    try {
      if (!fnObj || !fnObj.objectId) return out;
      const props = post("Runtime.getProperties", { objectId: fnObj.objectId, ownProperties: true });
      const loc = (props.internalProperties || []).find((p: any) => p.name === "[[FunctionLocation]]");
      if (loc && loc.value && loc.value.value) this.lastLocation = loc.value.value;
      const scopes = (props.internalProperties || []).find((p: any) => p.name === "[[Scopes]]");
      if (!scopes) return out;
      const list = post("Runtime.getProperties", { objectId: scopes.value.objectId, ownProperties: true });
      for (const sc of list.result) {
        if (!/^\d+$/.test(sc.name) || !sc.value) continue;
        const type = String(sc.value.description || "");
        if (type === "Global") continue;
        const vars = post("Runtime.getProperties", { objectId: sc.value.objectId, ownProperties: true }).result.filter((v: any) => v.value);
        if (isPreludeScope(vars)) {
          this.inPrelude = true;
          continue;
        }
        this.hadScope = true;
        const keyParts: string[] = [type];
        let firstObj: any = null;
        for (const v of vars) {
          keyParts.push(v.name, v.value.objectId ? "#" : String(v.value.value));
          if (v.value.objectId && !firstObj) firstObj = v.value;
        }
        if (firstObj) keyParts.push("@" + this.idOf(this.fromRemote(firstObj)));
        const key = keyParts.join("\u0001");
        this.lastAll.push({ key, names: vars.map((v: any) => String(v.name)) });
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ type, vars: vars.map((v: any) => ({ name: v.name, value: this.fromRemote(v.value) })) });
      }
      return out;
    } finally {
      post("Runtime.releaseObjectGroup", { objectGroup: "sim" });
    }
  }

  private fromRemote(r: any): any {
    if (!r.objectId) {
      if (r.type === "number" && r.unserializableValue) return Number(r.unserializableValue);
      return r.value;
    }
    const realmGlobal = this.global;
    post("Runtime.callFunctionOn", {
      objectId: r.objectId,
      functionDeclaration: "function(){ Object.defineProperty(globalThis, '" + GRAB + "', { value: this, configurable: true, writable: true }); }",
      objectGroup: "sim",
    });
    // the function runs in the context the remote object was fetched through (host or realm)
    const host = globalThis as any;
    const holder = Object.prototype.hasOwnProperty.call(host, GRAB) ? host : realmGlobal;
    const v = holder[GRAB];
    delete holder[GRAB];
    return v;
  }

  // Every object reachable from roots (properties only; with `closures`, also closure scopes).
  private reach(roots: any[], closures = false): object[] {
    const seen = new Set<object>();
    const scopeSeen = new Set<string>();
    const stack: any[] = roots.slice();
    while (stack.length) {
      const v = stack.pop();
      if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) continue;
      seen.add(v);
      if (isHostValue(v)) continue;
      for (const k of Object.getOwnPropertyNames(v)) {
        const d = Object.getOwnPropertyDescriptor(v, k);
        if (d && "value" in d) stack.push(d.value);
      }
      const p = Object.getPrototypeOf(v);
      if (p) stack.push(p);
      if (closures && typeof v === "function" && !this.builtinKeys.has(v)) {
        for (const sc of this.scopesOf(v, scopeSeen)) for (const e of sc.vars) stack.push(e.value);
      }
    }
    return Array.from(seen);
  }
}
