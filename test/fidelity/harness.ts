// The fidelity corpus (test/fidelity/corpus.json, started from shared/espruino/probe/probe.js)
// run by one ES5 program on either engine: the real Espruino interpreter (a Linux build of 2v29)
// or the simulator's realm. Each check prints one line `@@FID <index> <answer as JSON>`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SimBoard } from "../../sim";

export interface Check {
  name: string;
  /** an ES5 expression; with `async`, a function(report) that calls report(value) once */
  code: string;
  async?: boolean;
}

export type Answers = Record<string, string>;

export interface KnownDifference {
  /** why the simulator answers differently, and why that is accepted */
  reason: string;
  /** "gate" (the build's gate rejects the construct), "v8" (V8 cannot imitate it), "linux" (the Linux build differs from the boards), "sim" (a simulator choice) */
  kind: "gate" | "v8" | "linux" | "sim";
}

const DIR = __dirname;
export const CORPUS_FILE = path.join(DIR, "corpus.json");
export const ANSWERS_FILE = path.join(DIR, "answers.espruino.json");
export const KNOWN_FILE = path.join(DIR, "known-differences.json");

export function loadCorpus(): Check[] {
  return JSON.parse(fs.readFileSync(CORPUS_FILE, "utf8"));
}

/** The program that runs the corpus; the same text on both engines. */
export function program(corpus: Check[]): string {
  return `var FID = ${JSON.stringify(corpus)};
function fidShow(v) { try { var s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return "unprintable: " + e; } }
function fidRun(code) { try { return fidShow(eval(code)); } catch (e) { return "THROWS " + e; } }
function fidOut(i, s) { console.log("@@FID " + i + " " + JSON.stringify(String(s).split("\\n").join("\\\\n"))); }
(function () { for (var i = 0; i < FID.length; i++) if (!FID[i].async) fidOut(i, fidRun(FID[i].code)); })();
(function () {
  var i = 0;
  function next() {
    while (i < FID.length && !FID[i].async) i++;
    if (i >= FID.length) { console.log("@@FIDEND"); return; }
    var k = i++, done = false;
    var guard = setTimeout(function () { if (!done) { done = true; fidOut(k, "no report within 3 s"); next(); } }, 3000);
    try {
      eval("(" + FID[k].code + ")")(function (v) { if (done) return; done = true; clearTimeout(guard); fidOut(k, fidShow(v)); setTimeout(next, 1); });
    } catch (e) { done = true; clearTimeout(guard); fidOut(k, "THROWS " + e); setTimeout(next, 1); }
  }
  setTimeout(next, 10);
})();
`;
}

function collect(corpus: Check[], lines: string[]): { answers: Answers; ended: boolean } {
  const answers: Answers = {};
  let ended = false;
  for (const raw of lines) {
    const line = raw.replace(/\r/g, "");
    if (line.indexOf("@@FIDEND") >= 0) ended = true;
    const m = /@@FID (\d+) (".*")\s*$/.exec(line);
    if (m) answers[corpus[+m[1]].name] = JSON.parse(m[2]);
  }
  return { answers, ended };
}

/** The real interpreter: ESPRUINO_LARGE, or shared/espruino/bin/espruino-large next to this worktree. */
export function findEspruino(): string | null {
  const env = process.env.ESPRUINO_LARGE;
  if (env) return fs.existsSync(env) ? env : null;
  for (const dir of [path.resolve(DIR, "../../../shared/espruino/bin"), path.resolve(DIR, "../../../../shared/espruino/bin")]) {
    const f = path.join(dir, "espruino-large");
    if (fs.existsSync(f)) return f;
  }
  return null;
}

/**
 * Runs the corpus on the interpreter binary in a fresh directory (its Storage file lives there).
 * stdin stays an open pipe (at end of input the console spins); the process is stopped with SIGKILL.
 */
export function runOnEspruino(bin: string, corpus: Check[], timeoutMs = 30000): Promise<Answers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fidelity-"));
  const file = path.join(dir, "corpus.js");
  fs.writeFileSync(file, program(corpus), "latin1");
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [file], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
      const { answers, ended } = collect(corpus, out.split("\n"));
      if (err) reject(err);
      else if (!ended) reject(new Error(`espruino: no @@FIDEND within ${timeoutMs} ms (${Object.keys(answers).length} answers)`));
      else resolve(answers);
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d: string) => {
      out += d;
      if (out.indexOf("@@FIDEND") >= 0) finish();
    });
    child.on("error", (e) => finish(e));
    child.on("exit", () => finish());
  });
}

/** Runs the corpus in a simulated board's realm (ESP8266, every quirk on) on the virtual clock. */
export async function runInSim(corpus: Check[]): Promise<Answers> {
  const b = new SimBoard({ board: "esp8266", code: program(corpus), wifi: null });
  try {
    b.boot();
    await b.runUntil(() => b.console.some((l) => l.indexOf("@@FIDEND") >= 0), 60000);
    const { answers, ended } = collect(corpus, b.console);
    if (!ended) throw new Error("sim: the corpus did not finish");
    return answers;
  } finally {
    b.stop();
  }
}

/** Checks where `got` differs from `want`, sorted by name. */
export function differences(want: Answers, got: Answers): string[] {
  return Object.keys(want)
    .filter((k) => got[k] !== want[k])
    .sort();
}
