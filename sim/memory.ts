// An ESTIMATE of the JsVar blocks a program holds on Espruino, computed from the values the
// program can reach in its vm realm. V8 does not store values the way Espruino does, so this is a
// model with Espruino's costing rules (shared/espruino/README.md "Memory"), calibrated against the
// figures measured there (see test/sim/memory.test.ts and the README section of the simulator):
//   object/array/function header   1 block
//   property or array element      1 block, +1 per 12 chars of name beyond 4 chars
//   value stored in the property   0 for int32/bool/null/undefined; 1 for other numbers;
//                                  ceil(len/12) (min 1) for strings; objects counted once
//   function                       1 + fnBlocks + 1 per parameter; plus its body text, at
//                                  ceil(len/16) after stripping comments and runs of blanks, when
//                                  the code is in RAM (not run from Storage, or created after boot)
//   closure scope                  1 block + its variables as properties (found through the V8
//                                  inspector's [[Scopes]], so module state held in a bundle's IIFE
//                                  counts too)
// Values that existed before the program booted (the built-ins) cost nothing, like Espruino's
// built-ins that live in flash; properties the program adds to them do count.
import * as inspector from "node:inspector";
import * as vm from "node:vm";

/** Calibration constants (fitted to shared/espruino/README.md, see memory.test.ts). */
export const MEMORY_MODEL = {
  /** blocks the interpreter holds with no program (root, timer/watch lists, hidden names) */
  baseBlocks: 24,
  /** blocks of a function beyond its header and parameters: the reference to its code */
  fnBlocks: 1,
  /** characters of (stripped) function body per block when the code is in RAM: 16 fits the
   *  README's 603-vs-367 blocks (60 functions from a string vs from Storage) */
  codeCharsPerBlock: 16,
  /** characters per string block */
  strCharsPerBlock: 12,
  /** characters of a property name held in its own block */
  inlineNameChars: 4,
  /** per timer / watch / socket the interpreter keeps (besides callbacks, walked as values) */
  timerBlocks: 4,
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

function blocksForString(len: number): number {
  return Math.max(1, Math.ceil(len / MEMORY_MODEL.strCharsPerBlock));
}

function nameBlocks(name: string): number {
  const extra = name.length - MEMORY_MODEL.inlineNameChars;
  return 1 + (extra > 0 ? Math.ceil(extra / 12) : 0);
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

  constructor(
    private context: vm.Context,
    private global: any,
  ) {}

  /** Records every value reachable from the realm's globals as built-in (cost 0). */
  snapshotBuiltins(): void {
    for (const o of this.reach([this.global])) {
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
    let total = MEMORY_MODEL.baseBlocks + fixedBlocks + this.valueCost(this.global);
    for (const r of extraRoots) total += this.valueCost(r);
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
    if (v === null || v === undefined || typeof v === "boolean") return 0;
    if (typeof v === "number") return (v | 0) === v ? 0 : 1;
    if (typeof v === "string") return blocksForString(v.length);
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
    for (const k of Object.getOwnPropertyNames(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (!d || !("value" in d)) continue;
      if (typeof v === "function" && (k === "length" || k === "name" || k === "arguments" || k === "caller")) continue;
      if (isArr && k === "length") continue;
      if (typeof v === "function" && k === "prototype" && !builtin) {
        const p = d.value;
        if (p && Object.getOwnPropertyNames(p).length <= 1) continue;
      }
      if (builtin && builtin.has(k)) {
        const bv = d.value;
        if (bv !== null && (typeof bv === "object" || typeof bv === "function")) cost += this.valueCost(bv);
        continue;
      }
      cost += (isArr && /^\d+$/.test(k) ? 1 : nameBlocks(k)) + this.valueCost(d.value);
    }
    return cost;
  }

  private functionCost(fn: Function): number {
    let cost = MEMORY_MODEL.fnBlocks + fn.length;
    if (!(this.fromStorage && (this.allLoaded || this.loadedFns.has(fn)))) {
      let src = "";
      try {
        src = Function.prototype.toString.call(fn);
      } catch {
        src = "";
      }
      const body = src.indexOf("{");
      if (body >= 0 && !/\{\s*\[native code\]\s*\}$/.test(src)) cost += Math.ceil(stripCode(src.slice(body)).length / MEMORY_MODEL.codeCharsPerBlock);
    }
    if (this.scanClosures) cost += this.closureCost(fn);
    return cost;
  }

  // Variables of the closure scopes of `fn` (V8 inspector [[Scopes]]), each scope counted once.
  private closureCost(fn: Function): number {
    let cost = 0;
    for (const scope of this.scopesOf(fn, this.scopeSeen)) {
      cost += 1;
      for (const v of scope.vars) cost += nameBlocks(v.name) + this.valueCost(v.value);
    }
    return cost;
  }

  // The closure scopes of fn not yet in `seen`. A scope is identified by its variable names,
  // primitive values and the identity of its first object value (one fetch), so a scope shared by
  // many functions (a bundle's module scope) is read once per walk.
  private scopesOf(fn: Function, seen: Set<string>): { type: string; vars: { name: string; value: any }[] }[] {
    const out: { type: string; vars: { name: string; value: any }[] }[] = [];
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
      const scopes = (props.internalProperties || []).find((p: any) => p.name === "[[Scopes]]");
      if (!scopes) return out;
      const list = post("Runtime.getProperties", { objectId: scopes.value.objectId, ownProperties: true });
      for (const sc of list.result) {
        if (!/^\d+$/.test(sc.name) || !sc.value) continue;
        const type = String(sc.value.description || "");
        if (type === "Global") continue;
        const vars = post("Runtime.getProperties", { objectId: sc.value.objectId, ownProperties: true }).result.filter((v: any) => v.value);
        if (isPreludeScope(vars)) continue;
        const keyParts: string[] = [type];
        let firstObj: any = null;
        for (const v of vars) {
          keyParts.push(v.name, v.value.objectId ? "#" : String(v.value.value));
          if (v.value.objectId && !firstObj) firstObj = v.value;
        }
        if (firstObj) keyParts.push("@" + this.idOf(this.fromRemote(firstObj)));
        const key = keyParts.join("\u0001");
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
