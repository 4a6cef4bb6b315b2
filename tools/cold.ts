// Code that runs seldom stays in flash until it runs (docs/memory.md "Cold code").
//
// On the board every function object costs RAM for as long as it exists (4 blocks + 1 per
// parameter, measured), whether or not it runs again. Some run only when a config is applied (run,
// at boot and on the `config` command), for the commands that change something (changeCommand:
// set, toggle, pulse, and the rare ones of manageCommand: ota, reboot, config),
// for `status` (statusReport), when a session or subscription is set up (onSessionPacket:
// connAck, authAck, subAck, unsubAck; sessionFields: their field rules; pendingAck holds and
// takes back the callbacks of sub and unsub, subscribable checks their channel), once per
// connection (hello sends auth or conn; down ends a session), at each change of the session's
// state (setState), for a frame with escapes or the bytes 0xD1/0xD2 (parseable,
// backslashes), for a packet with bytes from 0x80 up (rawBytes) and for the packet types other
// than push (typeCode), as timer callbacks (later: a delayed job; wifiRetry: the next WiFi
// join), to drive an output (out: set, toggle, pulse, the safe state), once per connection as
// net.connect's callback (onSocketConnect), and off the path of a command: a frame other than a
// push (otherFrame: a bad one, the acks of the device's own QoS 1 pubs and heartbeats, the
// session's acks; badField, their field checks; onPubAck; safe, which runs the callbacks of pubs,
// subs and stop), a push not in the shape a broker sends (pushFields, the full check), a QoS 1 pub
// (windowed: into the in-flight window), a drain that something waited for (drained; resume, also
// for each new session), the end of a skipped frame, one over maxFrame or input to hold
// (frameAside), and a frame with brackets or of more than maxParse characters (tooHeavy, the
// parse-cost check: a command has neither). The build takes them out of the program and appends
// each to the same file, `.bootcde`, in a comment of its own:
//
//   <the program>\n/*(function(e){..})*/\n/*(function(e,t,n){..})*/...
//
// and each call to one of them (from the program or from another of them) becomes
// `coldFunction(<where its text starts, back from the end of the file>, <its length>)(...)`: the
// board evaluates that text straight from Storage (`require("Storage").read(".bootcde", offset,
// length)` is a string in flash, so the function's code stays there), calls the function, and once
// the call returns the function is garbage. One function per comment, so that a call creates only
// the function it runs. One file, so an OTA update or a rollback changes the program and its cold
// functions at once. validateConfig stays in the program: evaluated for each validation, the
// `config` command needed about 32 free blocks more (485 against 452, measured on espruino-esp8266),
// more than the e2e device had to spare.
//
// The source stays as it is written (direct calls, tested on Node): only the build moves the text.
// Before terser, the readable ES5 twin's cold declarations move into one function `__jmqtCold`
// that returns them in an array, so that terser minifies and mangles everything together
// (top-level names are shared: a cold function's calls to the rest of the program name the same
// globals); after terser, each element's text is cut out and becomes a comment.
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** The functions that run seldom: when a config is applied, for a management or status command, once per connection or session, for a subscription, at a change of state, to start or stop the client. */
export const COLD_FUNCTIONS = ["run", "changeCommand", "manageCommand", "statusReport", "onSessionPacket", "hello", "down", "setState", "pendingAck", "subscribable", "sessionFields", "parseable", "backslashes", "rawBytes", "typeCode", "badField", "resume", "windowed", "safe", "tooHeavy", "onPubAck", "drained", "pushFields", "frameAside", "otherFrame", "start", "stop", "sub", "unsub", "later", "wifiRetry", "out", "onSocketConnect"];

/** The name of the function that holds them between the two steps (kept by terser: top_retain). */
export const COLD_HOLDER = "__jmqtCold";

type Node = acorn.Node & Record<string, any>;

/** The names a function declares for its own scope: its parameters, vars and function declarations. */
function declaredIn(fn: Node): Set<string> {
  const out = new Set<string>(fn.params.map((p: Node) => p.name));
  walk.recursive(fn.body, null, {
    Function(node: Node) {
      if (node.type === "FunctionDeclaration" && node.id) out.add(node.id.name);
    },
    VariableDeclarator(node: Node, _s: any, c: any) {
      out.add(node.id.name);
      if (node.init) c(node.init, null);
    },
    CatchClause(node: Node, _s: any, c: any) {
      out.add(node.param.name);
      c(node.body, null);
    },
  });
  return out;
}

/**
 * The readable ES5 program (SWC's output) with the cold function declarations moved into
 * `function __jmqtCold(){return [function run(..){..}, ...]}` at its end, and every call
 * to them (also from one another) made `coldFunction(<placeholder>, <placeholder>)(...)`.
 * Throws when a cold function is missing or referred to other than as a call.
 */
export function moveCold(code: string): { code: string; calls: number; names: string[] } {
  const ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script" }) as Node;
  if (new RegExp("\\b" + COLD_LOADER + "\\b").test(code)) throw new Error(`cold code: the bundle already names ${COLD_LOADER}`);
  const names = COLD_FUNCTIONS.filter((n) => ast.body.some((s: Node) => s.type === "FunctionDeclaration" && s.id.name === n));
  if (!names.length) throw new Error(`cold code: none of ${COLD_FUNCTIONS.join(", ")} is a top-level function of the bundle`);
  const decls: Node[] = names.map((n) => ast.body.find((s: Node) => s.type === "FunctionDeclaration" && s.id.name === n));
  const cold = new Set(names);
  const calls: Node[] = [];
  walk.fullAncestor(ast, (node: Node, _s: any, ancestors: Node[]) => {
    if (node.type !== "Identifier" || !cold.has(node.name)) return;
    const parent = ancestors[ancestors.length - 2];
    if (parent.type === "FunctionDeclaration" && parent.id === node) return;
    if (parent.type === "MemberExpression" && parent.property === node && !parent.computed) return;
    if (parent.type === "Property" && parent.key === node) return;
    // a local of the same name is another variable (SWC's names are the source's)
    for (const a of ancestors) if (a !== ast && (a.type === "FunctionDeclaration" || a.type === "FunctionExpression") && declaredIn(a).has(node.name)) return;
    // a callback that is kept only until it has run once: `setTimeout(coldFunction(..), ms)` or
    // `net.connect(opts, coldFunction(..))` evaluates it when the timer is set or the connection
    // opened, and it is garbage once it has run (the socket's `#onconnect` deleted by it)
    const call = parent.type === "CallExpression" ? parent : null;
    const onceCallback =
      call &&
      ((call.callee.type === "Identifier" && call.callee.name === "setTimeout" && call.arguments[0] === node) ||
        (call.callee.type === "MemberExpression" && !call.callee.computed && call.callee.property.name === "connect" && call.arguments[1] === node));
    if (!onceCallback && (!call || call.callee !== node))
      throw new Error(`cold code: ${node.name} is used other than called or as a setTimeout or connect callback (at ${node.start}): it must stay a function of the program`);
    calls.push(node);
  });
  // a call inside a cold declaration goes with its moved text, the others stay in the program
  const within = (c: Node, d: Node) => c.start >= d.start && c.end <= d.end;
  const outside = calls.filter((c) => !decls.some((d) => within(c, d)));
  if (!outside.length) throw new Error("cold code: nothing outside calls " + COLD_FUNCTIONS.join(", "));
  const loaderCall = (c: Node) => {
    const i = names.indexOf(c.name);
    return { start: c.start, end: c.end, text: `${COLD_LOADER}(${placeholder(i, 0)}, ${placeholder(i, 1)})` };
  };
  // edits from the end, so that each one's positions still hold
  const apply = (text: string, base: number, edits: { start: number; end: number; text: string }[]) => {
    for (const e of edits.slice().sort((a, b) => b.start - a.start)) text = text.slice(0, e.start - base) + e.text + text.slice(e.end - base);
    return text;
  };
  const held = decls.map((d) => apply(code.slice(d.start, d.end), d.start, calls.filter((c) => within(c, d)).map(loaderCall)));
  let out = apply(code, 0, [...decls.map((d) => ({ start: d.start, end: d.end, text: "" })), ...outside.map(loaderCall)]);
  out += LOADER;
  out += `\nfunction ${COLD_HOLDER}() {\nreturn [\n${held.join(",\n")}\n];\n}\n`;
  return { code: out, calls: calls.length, names };
}

/** The name of the function that evaluates one cold function (mangled like the program's). */
export const COLD_LOADER = "coldFunction";

// coldFunction(back, length): the function whose text is `length` bytes from `back` bytes before
// the end of .bootcde. Espruino's eval runs in the calling function's scope, and the functions it
// makes keep that scope: evaluated where a parameter or variable is named like a global the cold
// code names (minified names are short: measured, sys's parameter `r` hid the global `r`), the code
// reads the wrong one ("Function sys not found"). So this function declares none: `arguments`.
// (It is the build's, like the move: the source calls the cold functions as it calls any other.)
const LOADER = `
function ${COLD_LOADER}() {
  return (0, eval)(require("Storage").read(".bootcde", require("Storage").read(".bootcde").length - arguments[0], arguments[1]));
}
`;

/** The 5-digit stand-in for cold function i's distance from the end of the file (k 0) or its length (k 1). */
function placeholder(i: number, k: number): string {
  // five digits wide (the widest figure a comment holds), distinct for up to 729 functions
  // (99900 + 10k + i made the 11th function's offset the first one's length), and without a 0,
  // so that terser cannot write one shorter (91000 as 91e3)
  var digits = "";
  if (i >= 729) throw new Error("cold code: more than 729 cold functions");
  for (var j = 0; j < 3; j++, i = Math.floor(i / 9)) digits = String(1 + (i % 9)) + digits;
  return "9" + (k + 1) + digits;
}

/**
 * The minified program, split: the program without `__jmqtCold` and the comments that follow it,
 * one per cold function, `\n/*(function(..){..})*\/`; in both, each call's two stand-ins are now
 * where that function's text starts, counted back from the end of the file, and its length. The
 * file to store is program + tail.
 */
export function splitCold(min: string, moved: { calls: number; names: string[] }): { program: string; tail: string; functions: string[] } {
  const calls = moved.calls;
  const ast = acorn.parse(min, { ecmaVersion: 5, sourceType: "script" }) as Node;
  const holder = ast.body.find((s: Node) => s.type === "FunctionDeclaration" && s.id.name === COLD_HOLDER);
  if (!holder) throw new Error(`cold code: terser left no function ${COLD_HOLDER}`);
  const ret = holder.body.body.length === 1 && holder.body.body[0];
  const list = ret && ret.type === "ReturnStatement" && ret.argument && ret.argument.type === "ArrayExpression" ? ret.argument.elements : null;
  if (!list || list.length !== moved.names.length || list.some((e: Node) => e.type !== "FunctionExpression"))
    throw new Error(`cold code: terser made ${COLD_HOLDER} something other than return [function, ...]`);
  const texts = list.map((e: Node) => "(" + min.slice(e.start, e.end) + ")");
  let program = min.slice(0, holder.start) + min.slice(holder.end);
  if (program.indexOf(COLD_HOLDER) >= 0) throw new Error(`cold code: the program still names ${COLD_HOLDER}`);
  let tail = texts.map((t: string) => "\n/*" + t + "*/").join("");
  if (texts.some((t: string) => t.indexOf("*/") >= 0)) throw new Error("cold code: a function's text holds */, which would end its comment early");
  // the loader reads its own `arguments`, and a cold function is evaluated in the loader's scope:
  // Espruino would give it the loader's (tools/gate.ts checkNestedArguments)
  const naming = moved.names.filter((_, i) => /\barguments\b/.test(texts[i]));
  if (naming.length) throw new Error(`cold code: ${naming.join(", ")} names arguments, which in a function the loader evaluates is the loader's on Espruino: give it parameters`);
  if (tail.length >= 100000) throw new Error("cold code: over 99999 bytes");
  // where each text starts, back from the end of the file (the tail ends the file)
  let at = 0;
  const back = texts.map((t: string) => {
    at += 3;
    const x = tail.length - at;
    at += t.length + 2;
    return x;
  });
  let n = 0;
  // in the comments a figure keeps the stand-in's width (the positions above count it); in the
  // program, which ends before them, it is written as it is
  const fill = (s: string, keepWidth: boolean) => {
    moved.names.forEach((_, i) => {
      for (const [k, v] of [[0, back[i]], [1, texts[i].length]]) {
        const p = placeholder(i, k);
        n += s.split(p).length - 1;
        s = s.split(p).join(keepWidth ? String(v).padStart(p.length, " ") : String(v));
      }
    });
    return s;
  };
  program = fill(program, false);
  const filled = texts.map((t: string) => fill(t, true));
  tail = filled.map((t: string) => "\n/*" + t + "*/").join("");
  if (n !== 2 * calls) throw new Error(`cold code: ${calls} calls to it were written, ${n / 2} found in the minified program`);
  acorn.parse(program, { ecmaVersion: 5, sourceType: "script" });
  return { program, tail, functions: filled };
}

/** A stored bundle read back: the program and the cold functions' texts in the comments that end it. */
export function readCold(stored: string): { program: string; functions: string[] } {
  const at = stored.indexOf("\n/*(function(");
  if (at < 0) return { program: stored, functions: [] };
  const pieces = stored.slice(at).split("\n/*").slice(1);
  if (pieces.some((p) => !p.endsWith("*/"))) throw new Error("cold code: a comment at the end of the bundle is not closed where the next begins");
  return { program: stored.slice(0, at), functions: pieces.map((p) => p.slice(0, -2)) };
}
