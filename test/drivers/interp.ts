// The real Espruino 2v29 interpreter (../shared/espruino/bin, LINUX.md), started in its own
// directory (its Storage is the file espruino.flash there), stdin kept open. Nothing is typed at
// its console (which loses and mixes up input on a busy machine): it starts with `-e` code that
// connects to a TCP server of ours and runs each line that comes over it at global scope, as the
// prompt would: setTimeout(line, 0) (eval() in the connection handler would make every function
// defined by the line keep the handler's scope: 4-15 blocks more per driver, measured).
// What it prints is read from its stdout.
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, SHARED } from "../../tools/api";
import { lineLoopCode } from "../../sim/espruino/board";

export const ESPRUINO_ESP8266 = join(SHARED, "espruino", "bin", "espruino-esp8266");

export function haveInterpreter(bin = ESPRUINO_ESP8266): boolean {
  return existsSync(bin);
}

export class Interp {
  out = "";
  private p: ChildProcess | null = null;
  private dir: string;
  private server: net.Server | null = null;
  private link: net.Socket | null = null;
  private waiters: (() => void)[] = [];
  private acks = 0;

  constructor(private bin = ESPRUINO_ESP8266) {
    this.dir = mkdtempSync(join(tmpdir(), "espruino-drv-"));
  }

  /** starts the interpreter and resolves once its control connection is open */
  async start(ms = 10000): Promise<void> {
    const linked = new Promise<void>((resolve) => {
      this.server = net.createServer((c) => {
        c.setNoDelay(true);
        c.on("error", () => {});
        this.link = c;
        resolve();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    const port = (this.server!.address() as net.AddressInfo).port;
    const p = spawn(this.bin, ["-e", lineLoopCode(port, "setTimeout(d,0)")], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    this.p = p;
    const take = (d: Buffer) => {
      this.out += d.toString("latin1").replace(/\r/g, "");
      for (const w of this.waiters.splice(0)) w();
    };
    p.stdout!.on("data", take);
    p.stderr!.on("data", take);
    p.stdin!.on("error", () => {});
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the interpreter did not connect within ${ms} ms; console:\n${this.out.slice(-2000)}`)), ms);
    });
    try {
      await Promise.race([linked, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** sends one line of code, run at global scope (a `var` in it stays local to that line) */
  send(s: string): void {
    if (!this.link) throw new Error("Interp: not started");
    this.link.write(s + "\n", "latin1");
  }

  /** runs one line and waits until it has run: nothing of it is left in the interpreter's
   *  receive path when the next line is measured */
  async line(s: string, ms = 5000): Promise<void> {
    const tag = "ACK" + ++this.acks;
    const from = this.out.length;
    this.send(s);
    this.send(`print("\\n${tag}")`);
    await this.until(new RegExp(`\\n${tag}\\n`), ms, from);
  }

  /** writes `text` to the Storage file `name` in chunks, as the espruino tool uploads */
  async store(name: string, text: string): Promise<void> {
    for (let o = 0; o < text.length; o += 256) {
      await this.line(`require("Storage").write(${JSON.stringify(name)},${JSON.stringify(text.substr(o, 256))},${o},${text.length})`);
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
    this.send(`print("\\n${tag} "+(${expr}))`);
    return (await this.until(new RegExp(`\\n${tag} ([^\\n]*)\\n`), ms, from))[1];
  }

  stop(): void {
    const p = this.p;
    if (this.link) this.link.destroy();
    if (this.server) this.server.close();
    if (!p) return rmSync(this.dir, { recursive: true, force: true });
    p.once("exit", () => rmSync(this.dir, { recursive: true, force: true }));
    p.kill("SIGKILL");
  }
}

export interface DriverCost {
  /** what each of the two readings reported, as JSON [v, err] */
  results: string[];
  /** blocks: the bus file evaluated, the driver file evaluated (factory), one driver made (with its bus) */
  bus: number;
  factory: number;
  instance: number;
  /** what the first reading added (built-ins used for the first time: timers, exceptions) */
  first: number;
  /** everything, idle after two readings (includes the four global variable names of the harness) */
  idle: number;
  /** idle after ten more readings (within one block of idle when memory is flat) */
  again: number;
  console: string;
}

/** Loads dist/esp8266.drv.bus.js and dist/esp8266.drv.<name>.js from Storage into a fresh
 *  interpreter, makes a driver with `make` (in the interpreter's terms, F the factory, B the buses:
 *  "F(B.i2c(D4,D5),{addr:0x76})"), reads four times and measures process.memory().usage. */
export async function measureDriver(name: string, make: string, bin = ESPRUINO_ESP8266): Promise<DriverCost> {
  const dist = (n: string) => readFileSync(join(ROOT, "dist", `esp8266.drv.${n}.js`), "latin1");
  const e = new Interp(bin);
  try {
    await e.start();
    await e.store("drv.bus", dist("bus"));
    await e.store(`drv.${name}`, dist(name));
    // measured from a timer, once the line that asked has been handled and freed: the line's own
    // string, held while it runs, took a block more when it came in two chunks (a loaded machine)
    const mem = async () => {
      const from = e.out.length;
      e.send('setTimeout(function(){print("\\nMEM "+process.memory().usage)},20)');
      return Number((await e.until(/\nMEM ([^\n]*)\n/, 5000, from))[1]);
    };
    // the harness's four globals exist before the first measure (0 is stored free)
    await e.line("B=F=D=R=0;");
    const m0 = await mem();
    await e.line('B=eval(require("Storage").read("drv.bus"));');
    const m1 = await mem();
    await e.line(`F=eval(require("Storage").read("drv.${name}"));`);
    const m2 = await mem();
    await e.line(`D=${make};`);
    const m3 = await mem();
    const results: string[] = [];
    const readTwice = async () => {
      for (let i = 0; i < 2; i++) {
        const from = e.out.length;
        await e.line('D.read(function(v,e){R=JSON.stringify([v,e]);print("\\nRES "+R)});');
        results.push((await e.until(/\nRES ([^\n]*)\n/, 5000, from))[1]);
      }
      await e.line("R=undefined;");
      return mem();
    };
    const m4 = await readTwice();
    // ten more readings: a leak of a block per reading would show as 10; on a loaded machine the
    // same state measures one block apart now and then (found in the full suite, 139 against 138
    // and 17 against 18 for the bus file; with three busy cores, in most runs)
    let m5 = 0;
    for (let k = 0; k < 5; k++) m5 = await readTwice();
    return { results, bus: m1 - m0, factory: m2 - m1, instance: m3 - m2, first: m4 - m3, idle: m4 - m0, again: m5 - m0, console: e.out };
  } finally {
    e.stop();
  }
}

/** the cases the test and the bench run: each driver with no sensor, and what it must report */
export interface Case {
  name: string;
  title: string;
  /** the bus and options, in the interpreter's terms */
  make: string;
  expect: RegExp;
}

export const CASES: Case[] = [
  { name: "bme280", title: "bme280 on new I2C() D4/D5 at 0x76", make: "F(B.i2c(D4,D5),{addr:0x76})", expect: /^\[null,"no answer at 0x76"\]$/ },
  { name: "ds18b20", title: "ds18b20 on OneWire(D2), by search", make: "F(B.ow(D2))", expect: /^\[null,"no sensor"\]$/ },
  { name: "ds18b20", title: "ds18b20 on OneWire(D2), by ROM id", make: 'F(B.ow(D2),{rom:["28ff4a2b0416034e"]})', expect: /^\[null,"bad scratchpad"\]$/ },
  { name: "dht", title: "dht22 on D4", make: "F(B.pin(D4),{type:22})", expect: /^\[null,"no answer"\]$/ },
  { name: "dht", title: "dht11 on D4", make: "F(B.pin(D4),{type:11})", expect: /^\[null,"no answer"\]$/ },
];

