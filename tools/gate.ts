// The Espruino compatibility gate: does a bundle run on the board, not just in Node?
// 1. it parses as ECMAScript 5 (acorn, ecmaVersion 5);
// 2. every free identifier, require()d module and member of a built-in exists in Espruino 2v29
//    for this board (../shared/espruino/api.json), and method calls on other objects name a
//    method the board has or one the bundle itself defines;
// 3. the known traps of ../shared/espruino/README.md: Object.create with two arguments,
//    Array.prototype.x / Function.prototype.x read as properties, Symbol/Map/Set/Reflect/...;
// 4. what V8 cannot imitate (../shared/espruino/LINUX.md, measured on Espruino 2v29): assignment to
//    .length, regex syntax Espruino lacks, a multi-character indexOf on a constant string used as a
//    membership test, the result of .write() used for flow control, labels, a function called
//    before its declaration, split with a limit, toFixed, JSON.stringify with indent or replacer,
//    `arguments` in a function nested in one that reads its own;
// 5. the size budget of boards/<board>.json.
// A violation inside a transpiler helper names the helper and the TypeScript line that made
// the transpiler emit it (through the readable twin's source map).
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { LEAST_UPPER_BOUND, TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { relative } from "node:path";
import { BoardApi, BoardJson, ROOT, boardApi } from "./api";

export interface Violation {
  rule:
    | "es5"
    | "global"
    | "module"
    | "member"
    | "method"
    | "object-create"
    | "prototype-read"
    | "length-assign"
    | "regex"
    | "indexof"
    | "write-result"
    | "label"
    | "hoisting"
    | "split-limit"
    | "to-fixed"
    | "stringify-args"
    | "string-after-skip"
    | "var-hoisting"
    | "nested-arguments"
    | "size"
    | "mangle"
    | "pretokenise";
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** the transpiler helper the violation sits in, if any */
  helper?: string;
  /** where in the TypeScript sources it comes from (through the source map) */
  origin?: string;
}

export interface GateOptions {
  /** source map of `code` (the readable twin's) to point at the TypeScript line */
  map?: string;
  file?: string;
  budget?: number;
  /** property names defined by a companion file loaded with this one (a driver's bus) */
  defined?: string[];
}

/** Globals Node or newer JavaScript have and the board does not, with what to do instead. */
const TRAPS: Record<string, string> = {
  Symbol: "no Symbol on Espruino: no iterator protocol (for..of over non-arrays, spread of non-arrays)",
  Map: "no Map on Espruino: use a plain object keyed by string",
  Set: "no Set on Espruino: use a plain object or an array",
  WeakMap: "no WeakMap on Espruino",
  WeakSet: "no WeakSet on Espruino",
  Reflect: "no Reflect on Espruino",
  Proxy: "no Proxy on Espruino",
  Buffer: "no Buffer on Espruino: socket data are strings",
};

type Node = acorn.Node & Record<string, any>;

/** The JMQT 1.0 body keys (../shared/jmqt/SPEC.md, docs/protocol.md): they go on the wire as they are. */
export const WIRE_KEYS = ["cn", "dt", "st", "ts", "at", "cl", "pr", "mg", "id", "rt", "q"];
/** The option keys Espruino's net.connect reads (libs/network: jswrap_net.c, socketserver.c, network.c,
 *  network_linux.c, network_esp8266.c): the client is its own options object (client.ts), so no
 *  mangled name may be one of these. */
export const NET_OPTION_KEYS = ["host", "port", "protocol", "recvBufferSize", "reuseAddr", "multicastGroup", "multicastIp", "ca", "key", "cert"];
/** The fifteen packet type names, the root key of every frame. */
export const PACKET_TYPES = [
  "auth", "authAck", "conn", "connAck", "hb", "hbAck", "sub", "subAck",
  "unsub", "unsubAck", "pub", "pubAck", "push", "pushAck", "disconn",
];

/**
 * The property mangler's contract (rule `mangle`): private names end in `_` and all of them are
 * shortened, so none survives in the minified bundle; no name the mangler produced is a wire key,
 * a packet type or an Espruino API name (`reserved`), and none of those was itself mangled.
 */
export function checkMangled(code: string, mangled: Record<string, string>, reserved: string[], opts: { file?: string } = {}): Violation[] {
  const out: Violation[] = [];
  const file = opts.file ? relative(ROOT, opts.file) : undefined;
  const keep = new Set(reserved);
  for (const k of Object.keys(mangled)) {
    if (keep.has(k)) out.push({ rule: "mangle", file, message: `${k} is a wire key or an Espruino API name and was mangled to ${mangled[k]}` });
    if (keep.has(mangled[k])) out.push({ rule: "mangle", file, message: `${k} was mangled to ${mangled[k]}, which is a wire key or an Espruino API name` });
  }
  let ast: Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: 5, locations: true, sourceType: "script" }) as Node;
  } catch (e) {
    return out;
  }
  const seen = new Set<string>();
  const bad = (name: unknown, n: Node) => {
    if (typeof name !== "string" || !/[A-Za-z0-9$]_$/.test(name) || seen.has(name)) return;
    seen.add(name);
    out.push({ rule: "mangle", file, line: n.loc!.start.line, column: n.loc!.start.column, message: `${name} survived the property mangler: a private name ends in \`_\` only where the build can shorten it (not in a string key or a computed name)` });
  };
  visit(ast, (n) => {
    if (n.type === "Identifier") bad(n.name, n);
    else if (n.type === "MemberExpression" && n.computed && n.property.type === "Literal") bad(n.property.value, n);
    else if (n.type === "Property" && n.key.type === "Literal") bad(n.key.value, n);
  });
  return out;
}

interface Scope {
  names: Set<string>;
  modules: Map<string, string>;
  parent: Scope | null;
}

const HELPER_NAME = /^_{1,2}[a-zA-Z_]+$/;

export function checkBundle(code: string, board: BoardJson, opts: GateOptions = {}): Violation[] {
  const api = boardApi(board);
  const out: Violation[] = [];
  const file = opts.file ? relative(ROOT, opts.file) : undefined;
  if (opts.budget !== undefined) {
    const bytes = Buffer.byteLength(code);
    if (bytes > opts.budget) {
      out.push({ rule: "size", file, message: `bundle is ${bytes} bytes, over the ${board.id} budget of ${opts.budget} bytes (boards/${board.id}.json budget.bundleBytes)` });
    }
  }
  let ast: Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: 5, locations: true, sourceType: "script" }) as Node;
  } catch (e: any) {
    out.push({ rule: "es5", file, line: e.loc?.line, column: e.loc?.column, message: `not ECMAScript 5: ${e.message}` });
    return out;
  }
  const defined = definedPropertyNames(ast);
  for (const d of opts.defined || []) defined.add(d);
  const found: { v: Violation; node: Node; fn: string | null }[] = [];
  const report = (rule: Violation["rule"], node: Node, message: string, fn: string | null) => {
    found.push({ v: { rule, message, file, line: node.loc!.start.line, column: node.loc!.start.column }, node, fn });
  };
  walkProgram(ast, api, defined, report);
  checkNestedArguments(ast, report);
  const trace = opts.map ? new TraceMap(opts.map) : null;
  const calls = helperCallSites(ast);
  for (const { v, node, fn } of found) {
    if (fn && HELPER_NAME.test(fn)) {
      v.helper = fn;
      const sites = helperOrigins(trace, calls, fn);
      v.message = `transpiler helper ${fn} would crash on the board: ${v.message}` + (sites.length ? `; emitted for ${sites.slice(0, 3).join("; ")}` : "");
      v.origin = sites[0];
    } else if (trace) {
      v.origin = origin(trace, node) || undefined;
    }
    out.push(v);
  }
  return out;
}

export function formatViolations(vs: Violation[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const v of vs) {
    // once per rule and message (the minified twin repeats the readable one's), but each
    // TypeScript line of its own when a rule's message is the same everywhere
    const key = v.rule + "|" + (v.helper || "") + "|" + v.message.replace(/; emitted for.*/, "");
    const at = v.origin && !v.helper ? key + "|" + v.origin : key;
    if (seen.has(at) || (!v.origin && seen.has(key))) continue;
    seen.add(at);
    seen.add(key);
    const where = v.origin || (v.file ? `${v.file}${v.line ? ":" + v.line + ":" + v.column : ""}` : "");
    lines.push(`  [${v.rule}] ${where}: ${v.message}`);
  }
  return lines.join("\n");
}

/** "firmware/x.ts:12: `the line`" for a node of the readable twin. */
function origin(trace: TraceMap | null, node: Node): string | null {
  if (!trace) return null;
  const { line, column } = node.loc!.start;
  let pos = originalPositionFor(trace, { line, column });
  if (!pos.source) pos = originalPositionFor(trace, { line, column, bias: LEAST_UPPER_BOUND });
  for (let back = 1; !pos.source && back <= 5 && line - back > 0; back++) {
    pos = originalPositionFor(trace, { line: line - back, column: 0, bias: LEAST_UPPER_BOUND });
  }
  if (!pos.source || !pos.line) return null;
  const idx = trace.resolvedSources.indexOf(pos.source);
  const text = idx >= 0 && trace.sourcesContent?.[idx] ? trace.sourcesContent[idx]!.split("\n")[pos.line - 1]?.trim() : "";
  const src = pos.source.replace(/^.*?(firmware\/|test\/|tools\/)/, "$1");
  return `${src}:${pos.line}` + (text ? `: \`${text.slice(0, 100)}\`` : "");
}

/** The property names `code` defines (object literal keys, assigned members), for GateOptions.defined. */
export function definedNames(code: string): string[] {
  return [...definedPropertyNames(acorn.parse(code, { ecmaVersion: 5, sourceType: "script" }) as Node)];
}

/** Every property name the bundle defines itself: object literal keys and assigned members. */
function definedPropertyNames(ast: Node): Set<string> {
  const names = new Set<string>();
  visit(ast, (n) => {
    if (n.type === "Property" && !n.computed) names.add(n.key.type === "Identifier" ? n.key.name : String(n.key.value));
    if (n.type === "AssignmentExpression" && n.left.type === "MemberExpression" && !n.left.computed) names.add(n.left.property.name);
    if (n.type === "CallExpression" && isDefineProperty(n) && n.arguments[1]?.type === "Literal") names.add(String(n.arguments[1].value));
  });
  return names;
}

function isDefineProperty(n: Node): boolean {
  const c = n.callee;
  return c.type === "MemberExpression" && !c.computed && c.object.type === "Identifier" && c.object.name === "Object" && c.property.name === "defineProperty";
}

/** helper name → the call expressions that use it, with the function each call sits in */
function helperCallSites(ast: Node): Map<string, { node: Node; inFn: string | null }[]> {
  const sites = new Map<string, { node: Node; inFn: string | null }[]>();
  const walk = (n: any, inFn: string | null, parent: any): void => {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") {
      let name = n.id ? n.id.name : null;
      if (!name && parent && parent.type === "VariableDeclarator") name = parent.id.name;
      inFn = inFn && HELPER_NAME.test(inFn) ? inFn : name || inFn;
    }
    if (n.type === "CallExpression" && n.callee.type === "Identifier" && HELPER_NAME.test(n.callee.name)) {
      if (!sites.has(n.callee.name)) sites.set(n.callee.name, []);
      sites.get(n.callee.name)!.push({ node: n, inFn });
    }
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const v = n[key];
      if (Array.isArray(v)) for (const c of v) walk(c, inFn, n);
      else if (v && typeof v.type === "string") walk(v, inFn, n);
    }
  };
  walk(ast, null, null);
  return sites;
}

/** The places in the sources that made the transpiler emit `helper`, following helper → helper calls. */
function helperOrigins(trace: TraceMap | null, calls: Map<string, { node: Node; inFn: string | null }[]>, helper: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const queue = [helper];
  while (queue.length && out.length < 3) {
    const h = queue.shift()!;
    if (seen.has(h)) continue;
    seen.add(h);
    for (const site of calls.get(h) || []) {
      if (site.inFn && HELPER_NAME.test(site.inFn)) queue.push(site.inFn);
      else {
        const o = origin(trace, site.node);
        if (o && !out.includes(o)) out.push(o);
      }
    }
  }
  return out;
}

function visit(node: any, fn: (n: Node) => void): void {
  if (!node || typeof node.type !== "string") return;
  fn(node);
  for (const key of Object.keys(node)) {
    if (key === "loc") continue;
    const v = node[key];
    if (Array.isArray(v)) for (const c of v) visit(c, fn);
    else if (v && typeof v.type === "string") visit(v, fn);
  }
}

/** Names a function scope declares: params, vars and function declarations (hoisted), not nested functions'. */
export function declaredIn(fnBody: Node, params: Node[]): Set<string> {
  const names = new Set<string>(params.map((p) => p.name));
  const collect = (n: any): void => {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "FunctionDeclaration") {
      names.add(n.id.name);
      return;
    }
    if (n.type === "FunctionExpression") return;
    if (n.type === "VariableDeclarator") names.add(n.id.name);
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const v = n[key];
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v.type === "string") collect(v);
    }
  };
  collect(fnBody);
  return names;
}

function resolve(scope: Scope | null, name: string): Scope | null {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return s;
  return null;
}

function moduleOf(scope: Scope | null, name: string): string | undefined {
  for (let s = scope; s; s = s.parent) {
    if (s.names.has(name)) return s.modules.get(name);
  }
  return undefined;
}

function requireTarget(n: Node, scope: Scope | null): string | null {
  if (n && n.type === "CallExpression" && n.callee.type === "Identifier" && n.callee.name === "require" && !resolve(scope, "require")) {
    const a = n.arguments[0];
    return a && a.type === "Literal" && typeof a.value === "string" ? a.value : null;
  }
  return null;
}

function walkProgram(
  ast: Node,
  api: BoardApi,
  defined: Set<string>,
  report: (rule: Violation["rule"], node: Node, message: string, fn: string | null) => void,
): void {
  const board = api;
  const parents = parentMap(ast);
  const constStrings = constantStrings(ast);
  const walk = (n: any, scope: Scope, fn: string | null, parent: Node | null): void => {
    if (!n || typeof n.type !== "string") return;
    switch (n.type) {
      case "Program":
      case "BlockStatement":
        checkHoisting(n.body, fn);
        checkStringAfterSkip(n.body, fn);
        break;
      case "SwitchCase":
        checkHoisting(n.consequent, fn);
        checkStringAfterSkip(n.consequent, fn);
        break;
      case "Literal":
        if (n.regex) checkRegex(n, n.regex.pattern, n.regex.flags, fn);
        return;
      case "NewExpression":
        checkRegExpCall(n, scope, fn);
        break;
      case "UpdateExpression":
        if (isLengthMember(n.argument)) report("length-assign", n, LENGTH_HINT, fn);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression": {
        const names = declaredIn(n.body, n.params);
        names.add("arguments");
        if (n.type === "FunctionExpression" && n.id) names.add(n.id.name);
        const inner: Scope = { names, modules: new Map(), parent: scope };
        let name = n.id ? n.id.name : null;
        if (!name && parent && parent.type === "VariableDeclarator") name = parent.id.name;
        const inFn = fn && HELPER_NAME.test(fn) ? fn : name || fn;
        checkVarHoisting(n, inFn);
        walk(n.body, inner, inFn, n);
        return;
      }
      case "CatchClause": {
        const inner: Scope = { names: new Set([n.param.name]), modules: new Map(), parent: scope };
        walk(n.body, inner, fn, n);
        return;
      }
      case "VariableDeclarator": {
        const mod = requireTarget(n.init, scope);
        if (mod) scope.modules.set(n.id.name, mod);
        walk(n.init, scope, fn, n);
        return;
      }
      case "AssignmentExpression": {
        if (isLengthMember(n.left)) report("length-assign", n, LENGTH_HINT, fn);
        if (n.left.type === "Identifier") {
          const mod = requireTarget(n.right, scope);
          const s = resolve(scope, n.left.name);
          if (mod && s) s.modules.set(n.left.name, mod);
        }
        if (n.left.type === "MemberExpression") {
          walkMember(n.left, scope, fn, true);
        } else walk(n.left, scope, fn, n);
        walk(n.right, scope, fn, n);
        return;
      }
      case "LabeledStatement":
        report("label", n, `label ${n.label.name}: labelled statements and labelled break/continue fail on Espruino; use a flag variable or move the loop into a function and return`, fn);
        walk(n.body, scope, fn, n);
        return;
      case "BreakStatement":
      case "ContinueStatement":
        if (n.label) report("label", n, `${n.type === "BreakStatement" ? "break" : "continue"} ${n.label.name}: labelled break/continue fail on Espruino; use a flag variable or return from a function`, fn);
        return;
      case "Property":
        if (n.computed) walk(n.key, scope, fn, n);
        walk(n.value, scope, fn, n);
        return;
      case "MemberExpression":
        walkMember(n, scope, fn, false);
        return;
      case "CallExpression": {
        const mod = requireTarget(n, scope);
        if (n.callee.type === "Identifier" && n.callee.name === "require" && !resolve(scope, "require")) {
          if (!mod) report("module", n, "require() of a computed name: the board only has built-in modules", fn);
          else if (!board.modules.has(mod)) report("module", n, `require("${mod}"): no such built-in module on this board`, fn);
        }
        const c = n.callee;
        checkRegExpCall(n, scope, fn);
        if (c.type === "MemberExpression" && !c.computed) {
          const recv = c.object;
          checkCallTraps(n, c.property.name, recv, scope, fn);
          if (recv.type === "Identifier" && recv.name === "Object" && !resolve(scope, "Object") && c.property.name === "create" && n.arguments.length > 1) {
            report("object-create", n, "Object.create with a second argument throws on Espruino (propertiesObject is not supported yet)", fn);
          }
          const known = knownReceiver(recv, scope);
          const m = c.property.name;
          if (known === null && !board.members.has(m) && !defined.has(m) && !anyStatic(board, m)) {
            report("method", c.property, `.${m}() is not a method of any Espruino built-in, and the bundle does not define it`, fn);
          }
        }
        walk(n.callee, scope, fn, n);
        for (const a of n.arguments) walk(a, scope, fn, n);
        return;
      }
      case "Identifier": {
        if (!resolve(scope, n.name) && !board.globals.has(n.name)) {
          const hint = TRAPS[n.name];
          report("global", n, hint ? `${n.name}: ${hint}` : `global ${n.name} does not exist on Espruino 2v29 for this board`, fn);
        }
        return;
      }
    }
    for (const key of Object.keys(n)) {
      if (key === "loc" || key === "type" || key === "start" || key === "end") continue;
      const v = n[key];
      if (Array.isArray(v)) for (const c of v) walk(c, scope, fn, n);
      else if (v && typeof v.type === "string") walk(v, scope, fn, n);
    }
  };

  /** the built-in (class, library or module) an expression names, "" for "not a built-in", null for unknown */
  const knownReceiver = (recv: Node, scope: Scope): string | null => {
    if (recv.type === "Identifier") {
      const s = resolve(scope, recv.name);
      if (s) return moduleOf(scope, recv.name) ?? null;
      return board.statics.has(recv.name) ? recv.name : "";
    }
    const mod = requireTarget(recv, scope);
    if (mod) return mod;
    return null;
  };

  const walkMember = (n: Node, scope: Scope, fn: string | null, isAssignTarget: boolean): void => {
    if (!n.computed) {
      const name = n.property.name;
      const obj = n.object;
      const known = knownReceiver(obj, scope);
      if (known) {
        const statics = board.statics.get(known);
        if (name === "prototype") {
          // fine by itself; the read of a member of it is checked below
        } else if ((!statics || !statics.has(name)) && !board.objectMembers.has(name)) {
          report("member", n.property, `${known}.${name} does not exist on Espruino 2v29 for this board`, fn);
        }
      }
      if (
        !isAssignTarget &&
        obj.type === "MemberExpression" &&
        !obj.computed &&
        obj.property.name === "prototype" &&
        obj.object.type === "Identifier" &&
        (obj.object.name === "Array" || obj.object.name === "Function") &&
        !resolve(scope, obj.object.name)
      ) {
        report("prototype-read", n, `${obj.object.name}.prototype.${name} read as a property is undefined on Espruino; call it on an instance ([].${name}, f.${name})`, fn);
      }
    }
    walk(n.object, scope, fn, n);
    if (n.computed) walk(n.property, scope, fn, n);
  };

  /** a regex literal, or the constant pattern of new RegExp("...") / RegExp("...") */
  const checkRegex = (n: Node, pattern: string, flags: string, fn: string | null): void => {
    const bad = unsupportedRegex(pattern);
    if (flags.indexOf("m") >= 0) bad.push("the m flag (no multiline mode: split the text into lines first)");
    if (bad.length) report("regex", n, `regex /${pattern.slice(0, 60)}/${flags} uses syntax Espruino lacks (it silently never matches, or throws): ${bad.join("; ")}`, fn);
  };
  const checkRegExpCall = (n: Node, scope: Scope, fn: string | null): void => {
    const c = n.callee;
    if (c.type !== "Identifier" || c.name !== "RegExp" || resolve(scope, "RegExp")) return;
    const [p, f] = n.arguments;
    if (!isStringLiteral(p)) return;
    checkRegex(n, p.value, isStringLiteral(f) ? f.value : "", fn);
  };

  /** the traps of a method call: indexOf membership, write() result, split limit, toFixed, JSON.stringify */
  const checkCallTraps = (n: Node, m: string, recv: Node, scope: Scope, fn: string | null): void => {
    const args: Node[] = n.arguments;
    // indexOf as a membership test on a constant string. Espruino reports a needle whose start
    // matches the end of the haystack as found (",up,down,none,".indexOf(",sideways,") is 13, not -1).
    // Scope: the receiver is a string literal, or a variable bound once in the whole bundle to a
    // string literal (or a ?: of two); the needle is anything but a one-character string literal
    // (a single character cannot half-match); and the result is compared (< 0, >= 0, == -1, === 0,
    // ...) or taken under ~ or !. A position used as a number (NAMES.indexOf(k) followed by its
    // own checks, in the JMQT codec) and searches in arbitrary strings are not flagged.
    if (m === "indexOf" && isConstString(recv, scope) && !(isStringLiteral(args[0]) && args[0].value.length <= 1) && isComparison(n)) {
      report("indexof", n, "a multi-character indexOf on a constant string used as a membership test: Espruino finds a needle that only starts at the end of the string; look it up as a key of an object ({up: 1, down: 1}[x]) or compare with === for each value", fn);
    }
    // socket.write() returns false every time on Espruino (a drain event follows): its result says
    // nothing about a full buffer. require("Storage").write() does return whether it wrote.
    if (m === "write" && knownReceiver(recv, scope) !== "Storage" && valueUsed(n)) {
      report("write-result", n, "the result of .write() used for flow control: socket.write() returns false every time on Espruino; queue on your own and resume on the 'drain' event, or ignore the result", fn);
    }
    if (m === "split" && args.length > 1) {
      report("split-limit", n, "split with a limit: Espruino ignores the limit and returns every piece; split, then .slice(0, n) the array (or use indexOf/substr for the first piece)", fn);
    }
    if (m === "toFixed") {
      report("to-fixed", n, ".toFixed() rounds differently on Espruino; round with Math.round(x * 100) / 100 and build the string yourself", fn);
    }
    if (m === "stringify" && recv.type === "Identifier" && recv.name === "JSON" && !resolve(scope, "JSON") && args.length > 1) {
      report("stringify-args", n, "JSON.stringify with a replacer or an indent: call it with one argument on the board (filter the object first)", fn);
    }
  };

  const isConstString = (recv: Node, scope: Scope): boolean => {
    if (isStringLiteral(recv)) return true;
    return recv.type === "Identifier" && constStrings.has(recv.name) && !!resolve(scope, recv.name);
  };

  /** is the value of expression `n` used (a condition, an operand, assigned, returned, passed)? */
  const valueUsed = (n: Node): boolean => {
    const p = parents.get(n);
    if (!p) return false;
    switch (p.type) {
      case "ExpressionStatement":
        return false;
      case "SequenceExpression":
        return p.expressions[p.expressions.length - 1] === n ? valueUsed(p) : false;
      case "LogicalExpression":
        return p.left === n || valueUsed(p);
      case "ConditionalExpression":
        return p.test === n || valueUsed(p);
      case "UnaryExpression":
        return p.operator !== "void";
      case "ForStatement":
        return p.test === n;
      default:
        return true;
    }
  };

  const isComparison = (n: Node): boolean => {
    const p = parents.get(n);
    if (!p) return false;
    if (p.type === "BinaryExpression") return COMPARISONS.has(p.operator);
    return p.type === "UnaryExpression" && (p.operator === "~" || p.operator === "!");
  };

  /**
   * Espruino 2v29 does not hoist `var` either: a name declared with `var` in a function is the
   * function's own only once that `var` statement has run. Before it (and when it never runs: in a
   * branch not taken, after a return) the name is the enclosing scope's, so an assignment changes
   * an outer variable (measured: `function f() { u = 5; return; var u; }` sets the outer u). Terser
   * writes such code: it moves the `var` of a callback's locals behind its last `return`, and the
   * DHT driver's temperature went into the variable holding its start pulse length. Flags every use
   * of a var-declared name of this function, outside nested functions, that no `var` of it comes
   * before in the same or an enclosing statement list (a `for (var ...)` counts for its loop and
   * what follows). Parameters, function declarations and catch parameters are the function's from
   * the start.
   */
  const checkVarHoisting = (f: Node, fn: string | null): void => {
    const decls = new Map<string, Node[]>();
    const own = new Set<string>(f.params.map((p: Node) => p.name));
    if (f.id) own.add(f.id.name);
    own.add("arguments");
    const refs: Node[] = [];
    // what a var statement is in: the list it is an item of, and the item (a for loop holding it in its init)
    const anchorOf = (v: Node): { item: Node; list: Node } => {
      let item = v;
      const p = parents.get(v)!;
      if ((p.type === "ForStatement" && p.init === v) || (p.type === "ForInStatement" && p.left === v)) item = p;
      const list = parents.get(item)!;
      return { item, list: list.type === "BlockStatement" || list.type === "SwitchCase" || list.type === "Program" ? list : item };
    };
    const within = (x: Node, outer: Node): boolean => {
      for (let q: Node | undefined = x; q; q = parents.get(q)) if (q === outer) return true;
      return false;
    };
    const look = (x: any, shadow: Set<string>): void => {
      if (!x || typeof x.type !== "string") return;
      switch (x.type) {
        case "FunctionDeclaration":
          own.add(x.id.name);
          return;
        case "FunctionExpression":
          return;
        case "VariableDeclaration":
          for (const d of x.declarations) {
            if (x.kind === "var") decls.set(d.id.name, [...(decls.get(d.id.name) || []), x]);
            look(d.init, shadow);
          }
          return;
        case "CatchClause":
          look(x.body, new Set([...shadow, x.param.name]));
          return;
        case "Identifier":
          if (!shadow.has(x.name)) refs.push(x);
          return;
        case "MemberExpression":
          look(x.object, shadow);
          if (x.computed) look(x.property, shadow);
          return;
        case "Property":
          if (x.computed) look(x.key, shadow);
          look(x.value, shadow);
          return;
        case "LabeledStatement":
          look(x.body, shadow);
          return;
        case "BreakStatement":
        case "ContinueStatement":
          return;
      }
      for (const key of Object.keys(x)) {
        if (key === "loc") continue;
        const v = x[key];
        if (Array.isArray(v)) v.forEach((c) => look(c, shadow));
        else if (v && typeof v.type === "string") look(v, shadow);
      }
    };
    look(f.body, new Set());
    const flagged = new Set<string>();
    for (const r of refs) {
      const vs = decls.get(r.name);
      if (!vs || own.has(r.name) || flagged.has(r.name)) continue;
      const covered = vs.some((v) => {
        const a = anchorOf(v);
        return r.start > v.start && within(r, a.list) && (a.list !== a.item || within(r, a.item));
      });
      if (covered) continue;
      flagged.add(r.name);
      report("var-hoisting", r, `${r.name} is used where its \`var ${r.name}\` has not run (before it, after a return, or outside the branch that declares it): Espruino does not hoist var, so there ${r.name} is an outer variable; declare it at the top of the function`, fn);
    }
  };

  /**
   * Espruino 2v29 reads a string literal that starts a statement as "" when the statement before
   * it ends with a block that was skipped at run time: an `if` whose last branch is a block (a
   * false condition, or the else block of a true one) or a `try`/`catch` whose catch did not run.
   * After `try { t = f(); } catch (e) { t = "x"; }`, `"number" == typeof t ? a() : b()` calls b()
   * on the board (measured; terser writes `typeof t === "number"` that way). A skipped branch that
   * ends with ";" (`if (c) return 1;`) and a try with a finally are fine (measured too).
   */
  const checkStringAfterSkip = (stmts: Node[], fn: string | null): void => {
    for (let i = 1; i < stmts.length; i++) {
      const st = stmts[i];
      const prev = stmts[i - 1];
      if (st.type !== "ExpressionStatement") continue;
      if (!endsInSkippableBlock(prev)) continue;
      // the leftmost operand, unless parenthesized (a statement that starts with "(" is fine)
      let x: Node = st.expression;
      for (;;) {
        const next = x.type === "BinaryExpression" || x.type === "LogicalExpression" ? x.left
          : x.type === "ConditionalExpression" ? x.test
          : x.type === "SequenceExpression" ? x.expressions[0]
          : x.type === "MemberExpression" ? x.object
          : x.type === "CallExpression" ? x.callee
          : null;
        if (!next) break;
        x = next;
      }
      if (isStringLiteral(x) && x.start === st.start) {
        const what = prev.type === "IfStatement" ? "an if" : "a try/catch";
        report("string-after-skip", st, `a statement that starts with a string literal right after ${what}: Espruino reads the literal as "" when the if's last branch or the catch did not run; put another statement between them, e.g. move the try/catch into a function that returns its fallback (the minifier turns \`typeof t === "number"\` into \`"number"==typeof t\`, so rewriting the test alone does not help)`, fn);
      }
    }
  };

  /**
   * Espruino does not hoist function declarations: a statement of a block that runs before the
   * block's `function f() {}` statement cannot use f. Flags the uses of f in the statements before
   * the declaration, outside nested function bodies (those run later; an immediately called
   * function expression runs now and is looked into). `typeof f` is fine.
   */
  const checkHoisting = (stmts: Node[], fn: string | null): void => {
    const declAt = new Map<string, number>();
    stmts.forEach((st, i) => {
      if (st.type === "FunctionDeclaration" && !declAt.has(st.id.name)) declAt.set(st.id.name, i);
    });
    if (!declAt.size) return;
    stmts.forEach((st, i) => {
      const early = (name: string) => (declAt.get(name) ?? -1) > i;
      const look = (x: any, shadow: Set<string>): void => {
        if (!x || typeof x.type !== "string") return;
        switch (x.type) {
          case "FunctionDeclaration":
            return;
          case "FunctionExpression":
            return;
          case "CallExpression":
            if (x.callee.type === "FunctionExpression") {
              const inner = new Set([...shadow, ...declaredIn(x.callee.body, x.callee.params)]);
              look(x.callee.body, inner);
              x.arguments.forEach((a: Node) => look(a, shadow));
              return;
            }
            break;
          case "Identifier":
            if (early(x.name) && !shadow.has(x.name)) {
              report("hoisting", x, `${x.name} is used before its declaration \`function ${x.name}\`: Espruino does not hoist function declarations (ReferenceError); move the declaration above its first use`, fn);
            }
            return;
          case "MemberExpression":
            look(x.object, shadow);
            if (x.computed) look(x.property, shadow);
            return;
          case "Property":
            if (x.computed) look(x.key, shadow);
            look(x.value, shadow);
            return;
          case "UnaryExpression":
            if (x.operator === "typeof" && x.argument.type === "Identifier") return;
            break;
          case "VariableDeclarator":
            look(x.init, shadow);
            return;
          case "LabeledStatement":
            look(x.body, shadow);
            return;
          case "BreakStatement":
          case "ContinueStatement":
            return;
          case "CatchClause":
            look(x.body, new Set([...shadow, x.param.name]));
            return;
        }
        for (const key of Object.keys(x)) {
          if (key === "loc") continue;
          const v = x[key];
          if (Array.isArray(v)) for (const c of v) look(c, shadow);
          else if (v && typeof v.type === "string") look(v, shadow);
        }
      };
      if (st.type !== "FunctionDeclaration") look(st, new Set());
    });
  };

  const top: Scope = { names: declaredIn(ast, []), modules: new Map(), parent: null };
  walk(ast, top, null, null);
}

function anyStatic(api: BoardApi, name: string): boolean {
  for (const s of api.statics.values()) if (s.has(name)) return true;
  return false;
}

const LENGTH_HINT = "assignment to .length throws on Espruino (TypeError: Assignment to a constant); empty or cut an array with a.splice(n), and build a new string instead of cutting one";

const COMPARISONS = new Set(["<", "<=", ">", ">=", "==", "!=", "===", "!=="]);

/** an if whose last branch is a block (`if (c) {..}`, `if (c) x; else {..}`), or a try/catch without finally */
function endsInSkippableBlock(s: Node): boolean {
  if (s.type === "IfStatement") {
    const last = s.alternate || s.consequent;
    return last.type === "BlockStatement" || endsInSkippableBlock(last);
  }
  return s.type === "TryStatement" && !!s.handler && !s.finalizer;
}

function isStringLiteral(n: Node | undefined): n is Node & { value: string } {
  return !!n && n.type === "Literal" && typeof n.value === "string";
}

/** x.length or x["length"] */
function isLengthMember(n: Node): boolean {
  if (n.type !== "MemberExpression") return false;
  return n.computed ? isStringLiteral(n.property) && n.property.value === "length" : n.property.name === "length";
}

function parentMap(ast: Node): Map<Node, Node> {
  const parents = new Map<Node, Node>();
  const walk = (n: any): void => {
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const v = n[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === "string") (parents.set(c, n), walk(c));
      } else if (v && typeof v.type === "string") (parents.set(v, n), walk(v));
    }
  };
  walk(ast);
  return parents;
}

/**
 * Names bound exactly once in the whole bundle, by `var x = "literal"` (or a ?: of two string
 * literals), and never assigned, declared or taken as a parameter anywhere else. Counting by name
 * over the whole bundle is conservative: a name reused in another scope is not a constant.
 */
function constantStrings(ast: Node): Set<string> {
  const bindings = new Map<string, number>();
  const constant = new Set<string>();
  const bind = (name: string) => bindings.set(name, (bindings.get(name) || 0) + 1);
  const isConst = (init: Node | null): boolean =>
    !!init && (isStringLiteral(init) || (init.type === "ConditionalExpression" && isStringLiteral(init.consequent) && isStringLiteral(init.alternate)));
  visit(ast, (n) => {
    if (n.type === "VariableDeclarator") {
      bind(n.id.name);
      if (isConst(n.init)) constant.add(n.id.name);
    } else if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") {
      if (n.id) bind(n.id.name);
      for (const p of n.params) bind(p.name);
    } else if (n.type === "CatchClause") bind(n.param.name);
    else if (n.type === "AssignmentExpression" && n.left.type === "Identifier") bind(n.left.name);
    else if (n.type === "UpdateExpression" && n.argument.type === "Identifier") bind(n.argument.name);
  });
  for (const name of [...constant]) if (bindings.get(name) !== 1) constant.delete(name);
  return constant;
}

/**
 * Espruino 2v29 finds `arguments` as a variable through the scope chain before it makes one for
 * the running function, and saves the one it makes in that function's scope (jswrap_arguments,
 * src/jswrap_functions.c). So in a function nested in one that has read its `arguments`, the name
 * is the outer function's arguments (measured on espruino-esp8266: `function fac() { var b =
 * arguments[0]; return { read: function () { return arguments[0]; } }; }` — `fac(1).read(print)`
 * gives 1; the fidelity corpus `fn.arguments.nested`). V8 cannot imitate it: each function has its
 * own. Flags every function that names `arguments` inside one that names it too. (The build's
 * parameters as locals, tools/params.ts, write `arguments`; the cold functions, evaluated in the
 * loader's scope, which reads its own, must not name it: tools/cold.ts refuses them.)
 */
function checkNestedArguments(ast: Node, report: (rule: Violation["rule"], node: Node, message: string, fn: string | null) => void): void {
  // each function that names `arguments` itself (not in a nested function): its first use, and the
  // functions around it (acorn-walk visits no non-computed member or key names)
  const uses = new Map<Node, { at: Node; outer: Node[] }>();
  walk.fullAncestor(ast, (n: Node, _state: unknown, ancestors: Node[]) => {
    if (n.type !== "Identifier" || n.name !== "arguments") return;
    const fns = ancestors.filter((a) => a.type === "FunctionDeclaration" || a.type === "FunctionExpression");
    const own = fns[fns.length - 1];
    if (own && !uses.has(own)) uses.set(own, { at: n, outer: fns.slice(0, -1) });
  });
  for (const [fn, u] of uses) {
    if (!u.outer.some((f) => uses.has(f))) continue;
    report("nested-arguments", u.at, "`arguments` in a function nested in one that reads its own `arguments`: on Espruino it is the outer function's (found through the scope chain); take the values into a variable of the outer function, or give the inner one parameters", fn.id ? fn.id.name : null);
  }
}

/**
 * The constructs of a regex pattern that Espruino 2v29 lacks, each with what to write instead.
 * A small parser, not a grep: inside a character class `[...]`, `{`, `(`, `?`, `\b` and `\1`
 * mean other things (or nothing), and an escaped character is never syntax.
 */
export function unsupportedRegex(pattern: string): string[] {
  const found = new Map<string, string>();
  const add = (key: string, text: string) => {
    if (!found.has(key)) found.set(key, text);
  };
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      const next = pattern[i + 1];
      i++;
      if (inClass || next === undefined) continue;
      if (next === "b" || next === "B") add("b", `\\${next} (no word boundaries: test the characters around the match yourself)`);
      else if (next >= "1" && next <= "9") add("backref", `back-reference \\${next} (throws: compare the captured groups in code)`);
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      // measured on Espruino 2v29: /[[]/, /[^[{]/ and /[a-z[]/ throw "Unfinished character set in RegEx"
      else if (ch === "[") add("class-bracket", "an unescaped [ inside a character class (throws \"Unfinished character set in RegEx\": write \\[)");
      continue;
    }
    if (ch === "[") {
      inClass = true; // in JavaScript, [] and [^] end at the first unescaped ]
      continue;
    }
    if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest[0] === ":") add("group", "(?: (no non-capturing groups: use ( ) and ignore the capture)");
      else if (rest[0] === "=" || rest[0] === "!" || rest === "<=" || rest === "<!") add("look", `(?${rest[0] === "<" ? rest : rest[0]} (no lookahead or lookbehind: test the text around the match in code)`);
      else add("group", "(? group syntax Espruino does not parse");
      i++;
      continue;
    }
    if (ch === "*" || ch === "+" || ch === "?") {
      if (pattern[i + 1] === "?") {
        add("lazy", `lazy ${ch}? (no lazy quantifiers: use a negated class such as [^,]* instead)`);
        i++;
      }
      continue;
    }
    if (ch === "{") {
      const q = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (q) {
        add("count", `${q[0]} quantifier (no counted repetition: repeat the atom, or check the length separately)`);
        i += q[0].length - 1;
        if (pattern[i + 1] === "?") i++;
      }
    }
  }
  return [...found.values()];
}
