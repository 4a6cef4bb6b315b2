// A fake device for the desktop OTA tests: a JMQT client in Node (the firmware's own client) that
// runs the built OTA receiver (dist/esp8266.ota.js) against a FakeStorage, with the dispatcher as
// the runtime wires it (allow list, request ids, reply cache, install and reboot after commit).
// Its "firmware" is the .bootcde text in the FakeStorage, evaluated at each boot after the built
// .boot1 guard: FW("2.0.0") reaches its session and confirms; FW("2.0.0", {silent: 1}) never
// confirms; anything that throws is a firmware that crashes at boot.
import * as vm from "node:vm";
import type { Client } from "../../firmware/jmqt/api";
import { S_READY } from "../../firmware/jmqt/api";
import { createClient, p2p, start, stop } from "../../firmware/jmqt/client";
import { desktopClientOptions, nodeNet } from "../../sim/net";
import { FakeStorage, loadReceiver, runGuard } from "./fakes";

export interface FakeDeviceOptions {
  id: string;
  port: number;
  token: string;
  allow?: string[];
  /** mangle the first receipt of these chunk numbers (one byte of the base64 changed) */
  corrupt?: number[];
  /** ignore the first receipt of these chunk numbers (no reply: the sender must resend) */
  drop?: number[];
}

export function fw(v: string, opts: { silent?: number } = {}): string {
  return `FW(${JSON.stringify(v)}, ${JSON.stringify(opts)});/*` + "z".repeat(1800) + "*/";
}

export class FakeDevice {
  S = new FakeStorage();
  client: Client | null = null;
  fw = "";
  boots = 0;
  crashed = "";
  log: string[] = [];
  private rx: ((a?: any) => any) | null = null;
  private cache: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private seen: Record<string, number> = {};
  private stopped = false;

  constructor(private o: FakeDeviceOptions, firmware: string) {
    this.S.write(".bootcde", firmware);
  }

  boot(): void {
    if (this.stopped) return;
    this.boots++;
    this.fw = "";
    this.crashed = "";
    this.rx = null;
    for (const t of runGuard(this.S, undefined, () => this.reboot("guard: not confirmed in time"))) this.later(t.fn, t.ms);
    const code = this.S.read(".bootcde") || "";
    let spec: { v: string; silent?: number } | null = null;
    try {
      vm.runInContext(code, vm.createContext({ FW: (v: string, opts: any) => (spec = { v, ...opts }) }));
    } catch (e: any) {
      this.crashed = String(e && e.message);
      this.log.push(`boot ${this.boots}: firmware crashed: ${this.crashed}`);
      return;
    }
    if (!spec) return;
    const s: { v: string; silent?: number } = spec;
    this.fw = s.v;
    this.log.push(`boot ${this.boots}: fw ${s.v}`);
    const c = createClient(nodeNet(), { ...desktopClientOptions("127.0.0.1", this.o.port, this.o.id, this.o.token), maxFrame: 1024, maxParse: 256, minBackoffMs: 100, maxBackoffMs: 500 } as any);
    this.client = c;
    c.onState = (state: number) => {
      if (state !== S_READY) return;
      c.pub("dev/" + this.o.id + "/status", { online: 1, id: this.o.id, fw: s.v }, 1, 1, null);
      // as the runtime does: a trial is confirmed once the firmware has its session
      if (!s.silent && this.S.read("jmqt.ota") !== undefined) loadReceiver(this.S)({ op: "confirm" });
    };
    c.onPush = (cn, dt, from, rt) => this.onPush(c, cn, dt, from, rt);
    start(c);
  }

  private later(fn: () => void, ms: number): void {
    this.timers.push(setTimeout(fn, ms));
  }

  /** The dispatcher as the runtime wires it (runtime.ts onPush + runCommand's `ota`). */
  private onPush(c: Client, cn: string, dt: any, from: string, retained: number): void {
    if (retained || !from || cn !== "#" + this.o.id || !dt || typeof dt.cmd !== "string") return;
    const id = dt.id === undefined ? "" : "" + dt.id;
    const key = from + " " + id + "\n";
    for (const r of this.cache) if (r.startsWith(key)) return void p2p(c, from, JSON.parse(r.slice(key.length)), 0, null);
    if (dt.cmd === "ota" && dt.op === "chunk") {
      const n = dt.n;
      const first = !this.seen[n];
      this.seen[n] = (this.seen[n] || 0) + 1;
      if (first && this.o.drop && this.o.drop.includes(n)) return;
      if (first && this.o.corrupt && this.o.corrupt.includes(n)) dt = { ...dt, d: (dt.d[0] === "A" ? "B" : "A") + dt.d.slice(1) };
    }
    let res: any;
    const allow = this.o.allow || ["admin"];
    if (!allow.includes(from)) res = "not allowed";
    else if (dt.cmd === "status") res = { fw: this.fw, ota: this.S.read("jmqt.res") ? JSON.parse(this.S.read("jmqt.res")!) : null };
    else if (dt.cmd === "ota") {
      // loaded from Storage on the first ota request, kept while an update is open
      if (!this.rx) this.rx = loadReceiver(this.S);
      res = JSON.parse(JSON.stringify(this.rx(dt)));
      if (!this.rx()) this.rx = null;
    } else res = "unknown command " + dt.cmd;
    const reply: any = { re: id, ok: typeof res === "string" ? 0 : 1 };
    if (typeof res === "string") reply.err = res;
    else for (const k in res) reply[k] = res[k];
    if (dt.cmd === "ota" && dt.op !== "state") {
      if (this.cache.length >= 8) this.cache.shift();
      this.cache.push(key + JSON.stringify(reply));
    }
    p2p(c, from, reply, 0, null);
    // like runtime.ts later(): the verified update is installed just before the reboot
    if (reply.reboot)
      this.later(() => {
        if (this.rx) this.rx({ op: "install" });
        this.reboot("commit");
      }, 300);
  }

  /** E.reboot(): the session goes without a disconn (like a board), then the next boot. */
  reboot(why: string): void {
    this.log.push(`reboot (${why})`);
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.client) {
      const c = this.client;
      this.client = null;
      c.onState = () => undefined;
      c.onPush = () => undefined;
      try {
        stop(c);
      } catch {}
    }
    this.later(() => this.boot(), 200);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.client) stop(this.client);
  }
}
