// Node stand-ins for what the OTA code meets on the board: a flash-like Storage (a file is
// created at its full size, unwritten bytes read as 0xFF, free space counts headers, writing an
// empty string throws) that can cut the power at its N-th change, and the built dist/<board>.ota.js
// and dist/boot1.js run in a vm with E.CRC32, atob, setTimeout and E.reboot provided.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as vm from "node:vm";
import { crc32 } from "node:zlib";

export const ROOT = join(__dirname, "..", "..");

export class PowerCut extends Error {
  constructor() {
    super("power cut");
  }
}

/** E.CRC32 of a byte string (latin1), unsigned like Espruino's. */
export function crc(s: string): number {
  return crc32(Buffer.from(s, "latin1")) >>> 0;
}

export class FakeStorage {
  files: Record<string, string> = {};
  /** mutations (write/erase) so far; at `cutAt` the mutation is half done and PowerCut is thrown */
  ops = 0;
  cutAt = 0;
  constructor(public total = 262144) {}

  private tick(): boolean {
    this.ops++;
    return this.cutAt > 0 && this.ops >= this.cutAt;
  }
  read(name: string, offset?: number, length?: number): string | undefined {
    const f = this.files[name];
    if (f === undefined) return undefined;
    const o = offset || 0;
    return f.substr(o, length === undefined ? f.length - o : length);
  }
  write(name: string, data: string, offset?: number, size?: number): boolean {
    if (typeof data !== "string" || !data.length) throw new Error("Can't write empty file");
    const cut = this.tick();
    const o = offset || 0;
    if (o === 0) {
      const z = size === undefined ? data.length : size;
      if (this.free() + (this.files[name] !== undefined ? this.files[name].length + 32 : 0) < z + 32) throw new Error("Not enough free space");
      delete this.files[name];
      this.files[name] = "\xff".repeat(z);
    }
    const f = this.files[name];
    if (f === undefined || o + data.length > f.length) return false;
    // a cut writes the first half of the data only
    const d = cut ? data.slice(0, data.length >> 1) : data;
    this.files[name] = f.slice(0, o) + d + f.slice(o + d.length);
    if (cut) throw new PowerCut();
    return true;
  }
  erase(name: string): void {
    if (this.files[name] === undefined) return;
    const cut = this.tick();
    delete this.files[name];
    if (cut) throw new PowerCut();
  }
  free(): number {
    let used = 0;
    for (const k in this.files) used += this.files[k].length + 32;
    return this.total - used;
  }
  getFree(): number {
    return this.free();
  }
  clone(): FakeStorage {
    const s = new FakeStorage(this.total);
    s.files = { ...this.files };
    return s;
  }
}

function globals(extra: Record<string, any>): vm.Context {
  return vm.createContext({
    E: { CRC32: crc, reboot: () => extra.reboot && extra.reboot() },
    atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
    ...extra,
  });
}

export function receiverCode(board = "esp8266"): string {
  return readFileSync(join(ROOT, "dist", board + ".ota.js"), "latin1");
}

export function guardCode(): string {
  return readFileSync(join(ROOT, "dist", "boot1.js"), "latin1");
}

/** eval(jmqt.otr)(S) as the dispatcher does it (hal.sys(Sys.OtaReceiver)); returns the handler: h(request) → result, h() → 1 while open. */
export function loadReceiver(S: any, code = receiverCode(), now?: () => number, reboot?: () => void): (a?: any) => any {
  const g: Record<string, any> = { reboot };
  if (now) g.Date = { now };
  return vm.runInContext(code, globals(g))(S);
}

/** Runs .boot1 against S. Timers it sets are returned (ms, fn), not run. */
export function runGuard(S: any, code = guardCode(), reboot?: () => void): { ms: number; fn: () => void }[] {
  const timers: { ms: number; fn: () => void }[] = [];
  vm.runInContext(code, globals({ require: (m: string) => (m === "Storage" ? S : undefined), setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }), reboot }));
  return timers;
}

/** A receiver loaded the dispatcher's way: req(a) → {r: the result as it goes on the wire, open: h()}. */
export class Rx {
  h: (a?: any) => any;
  /** E.reboot() calls (the install ends with one) */
  reboots = 0;
  constructor(S: any, now?: () => number) {
    this.h = loadReceiver(S, undefined, now, () => this.reboots++);
  }
  /** commit (verify) and, like the dispatcher ~1 s after the reply, install: the install's result (1: done, it rebooted) */
  commit(): { c: any; i: any } {
    const c = this.req({ op: "commit" });
    return { c, i: c.r && c.r.reboot ? this.req({ op: "install" }) : undefined };
  }
  req(a: any): { r: any; open: number } {
    // as it goes on the wire (and out of the vm's realm)
    const r = JSON.parse(JSON.stringify(this.h(a)));
    return { r, open: this.h() };
  }
}

/** The chunks of `text` as the sender makes them: {n, d: base64, c: crc}. */
export function chunks(text: string, cs = 512): { n: number; d: string; c: number }[] {
  const out = [];
  for (let o = 0, n = 0; o < text.length; o += cs, n++) {
    const raw = text.slice(o, o + cs);
    out.push({ n, d: Buffer.from(raw, "latin1").toString("base64"), c: crc(raw) });
  }
  return out;
}
