// A real Espruino interpreter (../shared/espruino/bin) driven over its console, in a directory of
// its own: Storage lives in ./espruino.flash there, so starting it again in the same directory is
// a board's reboot. stdin stays open (at end of input the console spins); stop() is a SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ESPRUINO = process.env.ESPRUINO_ESP8266 || join(__dirname, "..", "..", "..", "shared", "espruino", "bin", "espruino-esp8266");

export function haveEspruino(): boolean {
  return existsSync(ESPRUINO);
}

export class Interp {
  out = "";
  exited: number | null | undefined = undefined;
  private p: ChildProcess;
  private waiters: (() => void)[] = [];

  constructor(public dir: string) {
    this.p = spawn(ESPRUINO, [], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    const take = (d: Buffer) => {
      this.out += d.toString("latin1").replace(/\r/g, "");
      for (const w of this.waiters.slice()) w();
    };
    this.p.stdout!.on("data", take);
    this.p.stderr!.on("data", take);
    this.p.stdin!.on("error", () => undefined);
    this.p.on("exit", (code) => {
      this.exited = code;
      for (const w of this.waiters.slice()) w();
    });
  }

  /** One console line (Ctrl-P first: the line is not echoed back). */
  line(s: string): void {
    if (this.exited === undefined) this.p.stdin!.write("\x10" + s + "\n");
  }

  /** Resolves with the first match of `re` in the output after `from`, or rejects after ms. */
  wait(re: RegExp, ms = 5000, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.out.slice(from));
        if (m) {
          done();
          resolve(m);
        } else if (this.exited !== undefined) {
          done();
          reject(new Error(`interpreter exited (${this.exited}) before ${re}; output:\n${this.out.slice(-1500)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${re}; output:\n${this.out.slice(-1500)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  /** Runs `expr` and resolves with its printed JSON value (a marker line per call). */
  private seq = 0;
  async eval(expr: string, ms = 5000): Promise<any> {
    const tag = "EV" + ++this.seq + "_";
    const from = this.out.length;
    this.line(`print("${tag}"+JSON.stringify((function(){return ${expr};})()))`);
    const m = await this.wait(new RegExp(tag + "(.*)\\n"), ms, from);
    return m[1] === "undefined" || m[1] === "" ? undefined : JSON.parse(m[1]);
  }

  /** Writes a file to Storage in pieces, like the espruino tool's upload, one line at a time (the
   *  console's input buffer drops what comes faster than it is read). */
  async store(name: string, text: string, piece = 192): Promise<void> {
    // Under load the console can still mangle a line: a SyntaxError (nothing written: the chunk is
    // sent again) or a write of wrong bytes ("File already written with different data" after it:
    // the file is erased and written again from the start).
    for (let attempt = 0; ; attempt++) {
      try {
        for (let o = 0; o < text.length; o += piece) await this.storeChunk(name, text, o, piece);
        const crc = await this.eval(`E.CRC32(require("Storage").read(${JSON.stringify(name)}))`);
        if (crc === crc32(text)) return;
        throw new Error(`${name}: CRC mismatch after upload`);
      } catch (e) {
        if (attempt >= 3) throw e;
        this.line(`require("Storage").erase(${JSON.stringify(name)})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async storeChunk(name: string, text: string, o: number, piece: number): Promise<void> {
    const b64 = Buffer.from(text.substr(o, piece), "latin1").toString("base64");
    for (let tries = 0; ; tries++) {
      const from = this.out.length;
      // base64: a plain line (no quotes or backslashes for the console's line editor to meet)
      this.line(`require("Storage").write(${JSON.stringify(name)},atob("${b64}"),${o},${text.length});print("STORED${o}")`);
      try {
        await this.wait(new RegExp("STORED" + o + "\\n"), 3000, from);
        return;
      } catch (e) {
        if (tries >= 2 || /different data/.test(this.out.slice(from))) throw e;
      }
    }
  }

  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited !== undefined) return resolve();
      this.p.once("exit", () => resolve());
      this.p.kill("SIGKILL");
    });
  }
}

/** CRC-32 as E.CRC32 computes it (IEEE, reflected), of a latin1 string. */
function crc32(s: string): number {
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i) & 255;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (~c) >>> 0;
}
