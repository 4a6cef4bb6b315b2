// The bundle as Espruino's lexer can read it fastest: pretokenised by the `espruino` tool (its
// "Pretokenise code before upload" option, plugins/pretokenise.js), each reserved word and
// multi-character operator one byte (jslex.h: `function` is 0xA6, `===` 0x8B, ...). Espruino lexes a
// function's whole text at every call (docs/memory.md "Time"), so fewer bytes and no keyword
// matching make every call cheaper. Measured on espruino-esp8266 with the esp8266 bundle: a ping
// 811 -> 682 flash reads, handleFrame of a ping push 2.19 -> 1.82 ms, the bundle 25,559 -> 21,687
// bytes in Storage (-15 %), the same RAM.
//
// Only words and operators: the tool can also store strings and integers raw (0xD1..0xD5), which
// measured slower here (a q1 ping 942 -> 1107 reads), so the check below refuses those bytes.
//
// The tool's tokeniser is not exact: it writes `a+ +b` as `a++b` (two '+' with nothing between, read
// back as '++'). So every build is checked: the pretokenised text, read back token by token,
// must be the minified bundle's token stream (checkPretokenised).
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { tokenizer } from "acorn";

/** Espruino 2v29's pretokenised reserved words and operators, from 0x8A (src/jslex.h,
 *  _LEX_TOKENS_START .. _LEX_R_LIST_END; the tool's plugins/pretokenise.js has the same list) */
export const TOKEN_TEXT: readonly string[] = [
  "==", "===", "!=", "!==", "<=", "<<", "<<=", ">=", ">>", ">>>", ">>=", ">>>=", "+=", "-=", "++", "--",
  "*=", "/=", "%=", "&=", "&&", "|=", "||", "^=", "=>",
  "if", "else", "do", "while", "for", "break", "continue", "function", "return", "var", "let", "const",
  "this", "throw", "try", "catch", "finally", "true", "false", "null", "undefined", "new", "in",
  "instanceof", "switch", "case", "default", "delete", "typeof", "void", "debugger", "class", "extends",
  "super", "static", "of",
];
export const FIRST_TOKEN = 0x8a;
/** LEX_RAW_STRING8 .. LEX_RAW_INT16: the raw strings and integers this build does not use */
const RAW_FIRST = 0xd1;
const RAW_LAST = 0xd5;

// The tool, run in a child process: its init() sets globals (Espruino, acorn, $) that must not leak
// into the build's or the tests' process, and prints what it loads (so answers go to stderr,
// between @@ marks). `body` runs once the tool is ready, with `arg` as the variable arg.
const ESPRUINO_TOOL = require.resolve("espruino");
function inTool(body: string, arg: unknown): { status: number | null; stderr: string; answer?: any } {
  const code = `const fs = require("fs"); const arg = JSON.parse(process.argv[1]);
require(${JSON.stringify(ESPRUINO_TOOL)}).init(function () { ${body} });`;
  const r = spawnSync(process.execPath, ["-e", code, JSON.stringify(arg)], { encoding: "utf8", timeout: 60000 });
  const m = /@@(.*)@@/.exec(r.stderr || "");
  return { status: r.status, stderr: r.stderr || "", answer: m ? JSON.parse(m[1]) : undefined };
}

/** Pretokenises each [source file, destination file] with the `espruino` tool. */
export function pretokeniseFiles(jobs: [string, string][]): void {
  for (const [, dst] of jobs) rmSync(dst, { force: true });
  const r = inTool(
    `Espruino.Config.PRETOKENISE = 1; // "Auto": with no board version given, words and operators only
  for (const [src, dst] of arg) fs.writeFileSync(dst, Espruino.Plugins.Pretokenise.tokenise(fs.readFileSync(src, "latin1")), "latin1");`,
    jobs,
  );
  for (const [src, dst] of jobs)
    if (!existsSync(dst)) throw new Error(`the espruino tool did not pretokenise ${src} (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
}

/** True when the text holds a byte >= 0x80: the build's bundles are ASCII (terser's ascii_only), so
 *  such a byte is a token. */
export function isPretokenised(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return true;
  return false;
}

/** Plain JavaScript for V8 from a pretokenised ASCII bundle: each token byte becomes its text with a
 *  space on each side (always safe between two tokens; the tool's own untokenise() is not, it makes
 *  `""+` followed by `++` into `""+++`). Raw strings and integers are written out too. */
export function detokenise(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 0x80) continue;
    out += text.slice(from, i);
    if (ch === RAW_FIRST || ch === RAW_FIRST + 1) {
      const wide = ch === RAW_FIRST + 1;
      const len = text.charCodeAt(i + 1) | (wide ? text.charCodeAt(i + 2) << 8 : 0);
      const start = i + (wide ? 3 : 2);
      out += " " + JSON.stringify(text.slice(start, start + len)) + " ";
      i = start + len - 1;
    } else if (ch === RAW_FIRST + 2) out += " 0 ";
    else if (ch === RAW_FIRST + 3) out += " " + ((text.charCodeAt(++i) << 24) >> 24) + " ";
    else if (ch === RAW_LAST) {
      out += " " + (((text.charCodeAt(i + 1) | (text.charCodeAt(i + 2) << 8)) << 16) >> 16) + " ";
      i += 2;
    } else if (ch >= FIRST_TOKEN && ch < FIRST_TOKEN + TOKEN_TEXT.length) out += " " + TOKEN_TEXT[ch - FIRST_TOKEN] + " ";
    else throw new Error(`pretokenised text: byte 0x${ch.toString(16)} at ${i} is no Espruino token`);
    from = i + 1;
  }
  return out + text.slice(from);
}

interface Lexed {
  token: string;
  at: number;
}

function lex(code: string): Lexed[] {
  const out: Lexed[] = [];
  for (const t of tokenizer(code, { ecmaVersion: 5 }) as Iterable<any>)
    out.push({ token: t.type.label + ":" + (t.value !== undefined ? String(t.value) : code.slice(t.start, t.end)), at: t.start });
  return out;
}

/** undefined when the pretokenised text reads as the same tokens as the plain bundle, else where it
 *  does not (with the plain text around it). */
export function checkPretokenised(plain: string, tokenised: string): string | undefined {
  for (let i = 0; i < tokenised.length; i++) {
    const ch = tokenised.charCodeAt(i);
    if (ch >= RAW_FIRST && ch <= RAW_LAST) return `raw string/integer byte 0x${ch.toString(16)} at ${i} (measured slower: words and operators only)`;
  }
  if (isPretokenised(plain)) return "the plain bundle is not ASCII";
  let back: Lexed[];
  try {
    back = lex(detokenise(tokenised));
  } catch (e) {
    return "pretokenised text does not lex: " + (e as Error).message;
  }
  const want = lex(plain);
  const n = Math.min(want.length, back.length);
  for (let i = 0; i < n; i++)
    if (want[i].token !== back[i].token)
      return `token ${i} reads as ${back[i].token} instead of ${want[i].token}, at ...${plain.slice(Math.max(0, want[i].at - 30), want[i].at + 20)}...`;
  if (want.length !== back.length) return `${back.length} tokens instead of ${want.length}`;
  return undefined;
}

/** The tool's own reading of each token byte (its untokenise()), to check TOKEN_TEXT against it. */
export function toolTokenTable(): string[] {
  const r = inTool(
    `const out = [];
  for (let c = arg[0]; c < arg[1]; c++) out.push(Espruino.Plugins.Pretokenise.untokenise(String.fromCharCode(c)));
  process.stderr.write("@@" + JSON.stringify(out) + "@@");`,
    [FIRST_TOKEN, FIRST_TOKEN + TOKEN_TEXT.length],
  );
  if (r.answer === undefined) throw new Error("the espruino tool did not answer: " + r.stderr);
  return r.answer;
}
