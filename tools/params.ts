// Parameters as locals: the resident functions that are off the per-frame path declare no
// parameters on the board; they take their arguments from `arguments` into local vars
// (docs/memory.md "Parameters as locals").
//
// Espruino keeps each declared parameter of a function as a child of the function object, one
// block for as long as the function exists (measured with E.getSizeOf on espruino-esp8266:
// `function(){}` 3 blocks, `function(a,b,c){}` 6). A function that declares none still gets its
// arguments: Espruino adds every argument of a call to the call's scope, named or not
// (jsparse.c, jspeFunctionCall), and `arguments` makes an array of them once per call
// (jswrap_functions.c). Locals exist only while the call runs, so the blocks go from "for good" to
// "while running". The price is time per call: about 6 µs for three arguments (measured, 5.4 µs a
// call with parameters, 11.4 µs with `arguments`), and a few flash reads for the longer text. So
// the functions a command or a frame goes through keep their parameters (PER_FRAME_FUNCTIONS),
// the rest lose them: config, readings, ticks, state changes, pin edges, acks of readings.
//
// The source stays as written; only the build rewrites the minified program:
//   function f(t,n,i){BODY}  →  function f(){var t=arguments,n=t[1],i=t[2];t=t[0];BODY}
//   function f(t){BODY}      →  function f(){var t=arguments[0];BODY}
// for each top-level function declaration and each function that is a property of a top-level
// object literal (hal's `io`), unless it names `arguments` itself (the cold-code loader) or keeps
// its parameters for a reason of its own (KEEP_PARAMETERS: `hal.sys`, whose scope the sensor
// drivers' closures keep). The sensor drivers' innermost functions lose theirs (leafParametersAsLocals).
// The cold functions are not in the program (tools/cold.ts): they exist only while they run.
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/**
 * The functions every command, frame or drain goes through: they keep their parameters (for the
 * time per call, issue 12). By source name; `object.property` for a method of an object literal.
 * (tooHeavy, for a frame with brackets or of more than maxParse characters, and resume, for a drain
 * while a pub or sub waits, are cold now: tools/cold.ts.)
 */
export const PER_FRAME_FUNCTIONS = [
  "onSocketData",
  "feedChunk",
  "handleFrame",
  "decode",
  "onPushPacket",
  "ackPush",
  "onPush",
  "send",
  "put",
  "encode",
  "clientPub",
];

/**
 * The functions that keep their parameters: the per-frame ones, and `hal.sys`, in whose call the
 * sensor drivers are evaluated (Sys.EvalFile), so that their closures keep its scope: with its
 * arguments as locals, that scope holds the arguments array and the locals too, and each configured
 * sensor type cost 21 blocks more (measured with `npm run bench -- drivers` on espruino-esp8266:
 * bme280 214 → 235, ds18b20 148 → 169, dht22 160 → 181), for 1 saved at idle. (And a driver
 * function's own `arguments` would then be hal.sys's: tools/gate.ts checkNestedArguments.)
 */
export const KEEP_PARAMETERS = [...PER_FRAME_FUNCTIONS, "hal.sys"];

type Node = acorn.Node & Record<string, any>;

export interface ParamsResult {
  code: string;
  /** the functions rewritten, by their names in `code` (`hal.io` as `e.io`) */
  functions: string[];
  /** the parameters they declared: the blocks saved on the board */
  parameters: number;
}

/** The declaration that takes the arguments into locals named as the parameters were. */
function localsFromArguments(params: string[]): string {
  if (params.length === 1) return `var ${params[0]}=arguments[0];`;
  const [first, ...rest] = params;
  return `var ${first}=arguments,` + rest.map((p, i) => `${p}=${first}[${i + 1}]`).join(",") + `;${first}=${first}[0];`;
}

/** A program's resident functions, by name (`object.property` for a function of a top-level object literal). */
export function residentFunctions(code: string): [string, Node][] {
  const ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script" }) as Node;
  const found: [string, Node][] = [];
  for (const s of ast.body as Node[]) {
    if (s.type === "FunctionDeclaration") found.push([s.id.name, s]);
    if (s.type !== "VariableDeclaration") continue;
    for (const d of s.declarations as Node[]) {
      if (!d.init || d.init.type !== "ObjectExpression") continue;
      for (const p of d.init.properties as Node[]) {
        const key = p.key.type === "Identifier" ? p.key.name : String(p.key.value);
        if (p.value.type === "FunctionExpression" && p.kind === "init") found.push([d.id.name + "." + key, p.value]);
      }
    }
  }
  return found;
}

/**
 * Rewrites the program's resident functions (top-level declarations, and functions that are
 * properties of top-level object literals) to declare no parameters, except those named in
 * `keep` (their names in `code`: a function's name, or `object.property`).
 */
export function parametersAsLocals(code: string, keep: Set<string>): ParamsResult {
  return rewrite(code, residentFunctions(code).filter(([name]) => !keep.has(name)));
}

/**
 * Rewrites the innermost functions of a sensor driver file (tools/build.ts buildDriver): once a
 * sensor is configured its driver's methods stay alive with the factory's closures, and none is on
 * the per-frame path (a reading runs once per period). Only functions that make no function
 * themselves: a function whose scope a closure keeps would keep its arguments array and locals
 * there too (measured on hal.sys: 21 blocks more per sensor type), and a closure's `arguments`
 * would be the outer function's on Espruino (tools/gate.ts checkNestedArguments).
 */
export function leafParametersAsLocals(code: string): ParamsResult {
  const ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script" }) as Node;
  const found: [string, Node][] = [];
  const isFn = (n: Node) => n.type === "FunctionExpression" || n.type === "FunctionDeclaration";
  walk.fullAncestor(ast, (n: Node, _state: unknown, ancestors: Node[]) => {
    if (!isFn(n)) return;
    // a setter must declare its one parameter
    const parent = ancestors[ancestors.length - 2];
    if (parent && parent.type === "Property" && parent.kind !== "init") return;
    let makesFunctions = false;
    walk.full(n.body, (x: Node) => {
      if (isFn(x)) makesFunctions = true;
    });
    const outerNamesArguments = ancestors.slice(0, -1).some((a) => isFn(a) && /\barguments\b/.test(code.slice(a.body.start, a.body.end)));
    if (!makesFunctions && !outerNamesArguments) found.push([n.id ? n.id.name : "@" + n.start, n]);
  });
  return rewrite(code, found);
}

function rewrite(code: string, found: [string, Node][]): ParamsResult {
  const edits: { from: number; to: number; text: string }[] = [];
  const functions: string[] = [];
  let parameters = 0;
  for (const [name, fn] of found) {
    if (fn.params.length === 0) continue;
    if (/\barguments\b/.test(code.slice(fn.body.start, fn.body.end))) continue;
    const params = fn.params.map((p: Node) => {
      if (p.type !== "Identifier") throw new Error(`parameters as locals: ${name} has a parameter that is not a name`);
      return p.name as string;
    });
    edits.push({ from: fn.params[0].start, to: fn.params[params.length - 1].end, text: "" });
    edits.push({ from: fn.body.start + 1, to: fn.body.start + 1, text: localsFromArguments(params) });
    functions.push(name);
    parameters += params.length;
  }
  edits.sort((a, b) => b.from - a.from);
  let out = code;
  for (const e of edits) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return { code: out, functions, parameters };
}
