// The Espruino compatibility gate: does a bundle run on the board, not just in Node?
// 1. it parses as ECMAScript 5 (acorn, ecmaVersion 5);
// 2. every free identifier, require()d module and member of a built-in exists in Espruino 2v29
//    for this board (../shared/espruino/api.json), and method calls on other objects name a
//    method the board has or one the bundle itself defines;
// 3. the known traps of ../shared/espruino/README.md: Object.create with two arguments,
//    Array.prototype.x / Function.prototype.x read as properties, Symbol/Map/Set/Reflect/...;
// 4. the size budget of boards/<board>.json.
// A violation inside a transpiler helper names the helper and the TypeScript line that made
// the transpiler emit it (through the readable twin's source map).
import * as acorn from "acorn";
import { LEAST_UPPER_BOUND, TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { relative } from "node:path";
import { BoardApi, BoardJson, ROOT, boardApi } from "./api";

export interface Violation {
  rule: "es5" | "global" | "module" | "member" | "method" | "object-create" | "prototype-read" | "size";
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
  const found: { v: Violation; node: Node; fn: string | null }[] = [];
  const report = (rule: Violation["rule"], node: Node, message: string, fn: string | null) => {
    found.push({ v: { rule, message, file, line: node.loc!.start.line, column: node.loc!.start.column }, node, fn });
  };
  walkProgram(ast, api, defined, report);
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
    const key = v.rule + "|" + (v.helper || "") + "|" + v.message.replace(/; emitted for.*/, "");
    if (seen.has(key)) continue;
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
function declaredIn(fnBody: Node, params: Node[]): Set<string> {
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
  const walk = (n: any, scope: Scope, fn: string | null, parent: Node | null): void => {
    if (!n || typeof n.type !== "string") return;
    switch (n.type) {
      case "FunctionDeclaration":
      case "FunctionExpression": {
        const names = declaredIn(n.body, n.params);
        names.add("arguments");
        if (n.type === "FunctionExpression" && n.id) names.add(n.id.name);
        const inner: Scope = { names, modules: new Map(), parent: scope };
        let name = n.id ? n.id.name : null;
        if (!name && parent && parent.type === "VariableDeclarator") name = parent.id.name;
        walk(n.body, inner, fn && HELPER_NAME.test(fn) ? fn : name || fn, n);
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
        walk(n.body, scope, fn, n);
        return;
      case "BreakStatement":
      case "ContinueStatement":
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
        if (c.type === "MemberExpression" && !c.computed) {
          const recv = c.object;
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

  const top: Scope = { names: declaredIn(ast, []), modules: new Map(), parent: null };
  walk(ast, top, null, null);
}

function anyStatic(api: BoardApi, name: string): boolean {
  for (const s of api.statics.values()) if (s.has(name)) return true;
  return false;
}
