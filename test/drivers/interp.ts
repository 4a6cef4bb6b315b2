// The real Espruino 2v29 interpreter (../shared/espruino/bin, LINUX.md) driven over its console:
// started in its own directory (its Storage is the file espruino.flash there), stdin kept open.
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHARED } from "../../tools/api";

export const ESPRUINO_ESP8266 = join(SHARED, "espruino", "bin", "espruino-esp8266");

export function haveInterpreter(bin = ESPRUINO_ESP8266): boolean {
  return existsSync(bin);
}

export class Interp {
  out = "";
  private p: ChildProcess;
  private dir: string;
  private waiters: (() => void)[] = [];

  constructor(bin = ESPRUINO_ESP8266) {
    this.dir = mkdtempSync(join(tmpdir(), "espruino-drv-"));
    this.p = spawn(bin, [], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    const take = (d: Buffer) => {
      this.out += d.toString("latin1").replace(/\r/g, "");
      for (const w of this.waiters.splice(0)) w();
    };
    this.p.stdout!.on("data", take);
    this.p.stderr!.on("data", take);
  }

  /** one console line, not echoed (\x10) */
  line(s: string): void {
    this.p.stdin!.write("\x10" + s + "\n");
  }

  /** writes `text` to the Storage file `name` in chunks, as the espruino tool uploads */
  store(name: string, text: string): void {
    for (let o = 0; o < text.length; o += 256) {
      this.line(`require("Storage").write(${JSON.stringify(name)},${JSON.stringify(text.substr(o, 256))},${o},${text.length})`);
    }
  }

  /** the first match of `re` in the output after `from` (default: anywhere) */
  async until(re: RegExp, ms = 5000, from = 0): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return m;
      if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms; console:\n${this.out.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** runs `expr` and returns what it prints as `tag value` */
  async value(tag: string, expr: string, ms = 5000): Promise<string> {
    const from = this.out.length;
    this.line(`print("\\n${tag} "+(${expr}))`);
    return (await this.until(new RegExp(`\\n${tag} ([^\\n]*)\\n`), ms, from))[1];
  }

  stop(): void {
    try {
      this.line("quit()");
    } catch (e) {}
    setTimeout(() => this.p.kill("SIGKILL"), 200).unref();
    this.p.once("exit", () => rmSync(this.dir, { recursive: true, force: true }));
  }
}
