// The device runtime: inputs -> readings, P2P commands -> outputs, availability, offline queue.
// One interval timer (the tick) drives every periodic input, the safe-state timeout, the
// offline-queue retry and the watchdog. State lives on prototypes and small per-input objects;
// no closure is made per reading or per command (only a few at start/apply time).
// Memory: every property costs a block on Espruino, and a second one when its name is longer
// than 4 characters, so fields and internal methods have short names (documented where declared)
// and per-input defaults live on the prototype.
import type { Board } from "../board";
import type { Client } from "../jmqt/api";
import { S_READY, ST_BUSY, ST_OK } from "../jmqt/api";
import { BoardInfo, inputKind, isObj, validateConfig } from "./config";
import { runCommand } from "./commands";

/** Input kinds as numbers, in INPUT_KINDS order. */
export const K_DIGITAL = 0;
export const K_ANALOG = 1;
export const K_PULSE = 2;
export const K_TEMP = 3;
export const K_MEM = 4;
export const K_RSSI = 5;
export const K_UPTIME = 6;
const DEFAULT_PRECISION = [0, 3, 2, 1, 0, 0, 0];

export interface RuntimeOptions {
  /** the board description (BOARD); a function so the pin lists are not kept in RAM between uses */
  board: () => BoardInfo;
  /** firmware version reported on status */
  fw: string;
  /** returns the config in force (Storage, else the baked default); used by the `config` command */
  load: () => any;
  /** Storage file the `config` command writes (default "jmqt.json") */
  file?: string;
}

/** One input. Only non-default fields are set on the instance; the defaults are on the prototype. */
export class Inp {
  /** channel: prefix + name */
  declare c: string;
  /** kind, K_* */
  declare k: number;
  /** pin (pin inputs) */
  declare p: number;
  /** QoS and retain flag of its readings */
  declare q: number;
  declare rt: number;
  /** period ms (0: on change) and next due time */
  declare per: number;
  declare nx: number;
  /** scale, offset, rounding multiplier (10^precision), deadband (-1: none), invert */
  declare sc: number;
  declare of: number;
  declare m: number;
  declare db: number;
  declare inv: number;
  /** last published (or read) value */
  declare v: any;
  /** pulse: count, count at the last period, time of the last period */
  declare cnt: number;
  declare lc: number;
  declare lt: number;
  /** watch id */
  declare w: any;
  constructor(it: any, k: number, pin: number, pre: string, now: number) {
    this.c = pre + it.name;
    this.k = k;
    if (pin >= 0) this.p = pin;
    if (it.q) this.q = 1;
    if (it.rt) this.rt = 1;
    if (it.period) {
      this.per = it.period;
      this.nx = now + it.period;
    }
    if (it.scale !== undefined) this.sc = it.scale;
    if (it.offset) this.of = it.offset;
    if (k !== K_DIGITAL) this.m = Math.pow(10, it.precision === undefined ? DEFAULT_PRECISION[k] : it.precision);
    if (it.deadband !== undefined) this.db = it.deadband;
    if (it.invert) this.inv = 1;
    if (k === K_PULSE) this.lt = now;
  }
}
const IP: any = Inp.prototype;
IP.q = 0;
IP.rt = 0;
IP.per = 0;
IP.sc = 1;
IP.of = 0;
IP.db = -1;
IP.inv = 0;
IP.cnt = 0;
IP.lc = 0;

/** One output: digital (k 0) or PWM (k 1); v is the logical value (before invert), s the safe state. */
export class Out {
  declare n: string;
  declare k: number;
  declare p: number;
  declare s: number;
  declare v: number;
  /** PWM frequency */
  declare f: number;
  declare inv: number;
  /** pulse timer */
  declare pt: any;
  constructor(it: any, pin: number) {
    this.n = it.name;
    this.p = pin;
    if (it.type === "pwm") {
      this.k = 1;
      this.f = it.freq || 1000;
    }
    if (it.safe) this.s = it.safe;
    this.v = it.initial === undefined ? it.safe || 0 : it.initial;
    if (it.invert) this.inv = 1;
  }
}
const OP: any = Out.prototype;
OP.k = 0;
OP.s = 0;
OP.inv = 0;
OP.pt = 0;

/** Indexes of config items that have errors ("inputs[2].pin: ..."), so they are skipped. */
function badItems(errs: string[], key: string): number[] {
  const bad: number[] = [];
  const pre = key + "[";
  for (let i = 0; i < errs.length; i++) {
    if (errs[i].indexOf(pre) === 0) bad.push(parseInt(errs[i].substr(pre.length), 10));
  }
  return bad;
}

function roundTo(x: number, m: number): number {
  return Math.round(x * m) / m;
}

/** One closure per watched input, made at apply time. */
function makeWatch(rt: Runtime, inp: Inp): (e: any) => void {
  return function (e: any) {
    rt.edge(inp, e);
  };
}

/** The client callbacks, made once: their only scope is `rt` (a closure keeps its whole scope alive). */
function hookClient(rt: Runtime): void {
  rt.cl.onPush = function (cn: string, dt: any, from: string, r: number) {
    rt.push(cn, dt, from, r);
  };
  rt.cl.onState = function (state: number) {
    if (state === S_READY) rt.ready();
    else if (!rt.lost) rt.lost = rt.b.now();
  };
}
function ackHandler(rt: Runtime): (st: number) => void {
  return function () {
    if (rt.dn) afterOffline(rt);
    else rt.flush();
  };
}

/** Timer targets get their context as extra setTimeout/setInterval arguments (no closure). */
function tickNow(rt: Runtime): void {
  rt.tick();
}
function rebootNow(rt: Runtime): void {
  rt.b.reboot();
}
function afterOffline(rt: Runtime): void {
  if (!rt.dn) return;
  rt.dn = false;
  const cb = rt.sd;
  rt.sd = null;
  rt.cl.stop(cb || undefined);
}

export class Runtime {
  b: Board;
  cl: Client;
  o: RuntimeOptions;
  /** device id, channel prefix, group channel ("" for none) */
  id: string;
  pre: string;
  grp: string;
  /** client ids allowed to send commands, null for anyone */
  alw: string[] | null;
  /** ms without a session before outputs go to their safe state (0: never); tick ms */
  sms: number;
  tms: number;
  ins: Inp[];
  outs: Out[];
  /** config errors found by the last apply */
  errs: string[];
  /** last error, for status */
  err: string;
  /** offline queue: inputs and values, its bound, readings dropped because it was full */
  qi: Inp[];
  qv: any[];
  qmax: number;
  qd: number;
  /** recent replies, each one string "<sender> <id>\n<reply JSON>" (compact in RAM), and their bound */
  rc: string[];
  rmax: number;
  /** boot time; time the session was lost (0 while there is one); safe state applied */
  t0: number;
  lost: number;
  sf: boolean;
  tmr: any;
  /** readings published, commands run */
  np: number;
  nc: number;
  /** shutdown: callback, in progress */
  sd: (() => void) | null;
  dn: boolean;
  /** group channel subscribed (persistent: the client resubscribes it after reconnects) */
  sg: string;
  /** pubAck callback of queued readings and of the offline status (one function, made once) */
  fcb: (st: number) => void;

  constructor(board: Board, client: Client, opts: RuntimeOptions) {
    const info = opts.board();
    this.b = board;
    this.cl = client;
    this.o = opts;
    this.id = this.pre = this.grp = this.err = this.sg = "";
    this.alw = null;
    this.sms = 0;
    this.tms = 1000;
    this.ins = [];
    this.outs = [];
    this.errs = [];
    this.qi = [];
    this.qv = [];
    this.qmax = info.offlineQueue || 16;
    this.qd = this.np = this.nc = 0;
    this.rc = [];
    this.rmax = Math.max(2, Math.min((info.dedup || 8) >> 1, 8));
    this.t0 = this.lost = board.now();
    this.sf = this.dn = false;
    this.tmr = null;
    this.sd = null;
    this.fcb = ackHandler(this);
  }

  /** Applies a config (invalid items are skipped and reported), hooks the client, starts the tick. */
  start(cfg: any): void {
    this.apply(cfg);
    hookClient(this);
    if (this.cl.state === S_READY) this.ready();
  }

  /** (Re)builds inputs and outputs from a config; keeps running whatever part of it is valid. */
  apply(cfg: any): void {
    const b = this.b;
    const errs = validateConfig(cfg, this.o.board());
    if (!isObj(cfg)) cfg = {};
    this.stopIo();
    this.errs = errs;
    if (errs.length) this.err = "config: " + errs[0];
    this.id = typeof cfg.id === "string" ? cfg.id : "";
    this.pre = typeof cfg.prefix === "string" ? cfg.prefix : "";
    this.grp = typeof cfg.group === "string" ? cfg.group : "";
    this.alw = Array.isArray(cfg.allow) ? cfg.allow : null;
    this.sms = typeof cfg.safeMs === "number" ? cfg.safeMs : 60000;
    this.tms = typeof cfg.tick === "number" && cfg.tick >= 50 ? cfg.tick : 1000;
    const now = b.now();
    const list = Array.isArray(cfg.inputs) ? cfg.inputs : [];
    let bad = badItems(errs, "inputs");
    for (let i = 0; i < list.length; i++) {
      if (bad.indexOf(i) >= 0) continue;
      const it = list[i];
      const k = inputKind(it.type);
      let pin = -1;
      if (k <= K_PULSE) {
        const p = b.pin(it.pin);
        if (p === undefined) continue;
        pin = p;
      }
      const inp = new Inp(it, k, pin, this.pre, now);
      if (k === K_ANALOG) b.mode(pin, "analog");
      else if (k === K_DIGITAL || k === K_PULSE) {
        b.mode(pin, it.pull === "up" ? "input_pullup" : it.pull === "down" ? "input_pulldown" : "input");
        if (k === K_DIGITAL) inp.v = this.dig(inp);
        inp.w = b.watch(makeWatch(this, inp), pin, {
          repeat: true,
          edge: k === K_DIGITAL ? "both" : it.edge || "rising",
          debounce: it.debounce === undefined ? (k === K_DIGITAL ? 25 : 0) : it.debounce,
        });
      }
      this.ins.push(inp);
    }
    const olist = Array.isArray(cfg.outputs) ? cfg.outputs : [];
    bad = badItems(errs, "outputs");
    for (let i = 0; i < olist.length; i++) {
      if (bad.indexOf(i) >= 0) continue;
      const p = b.pin(olist[i].pin);
      if (p === undefined) continue;
      const o = new Out(olist[i], p);
      if (!o.k) b.mode(p, "output");
      this.outs.push(o);
      this.out(o, o.v);
    }
    this.tmr = setInterval(tickNow, this.tms, this);
  }

  /** Clears watches, pulses and the tick (before a re-apply). */
  stopIo(): void {
    for (let i = 0; i < this.ins.length; i++) if (this.ins[i].w) this.b.unwatch(this.ins[i].w);
    for (let i = 0; i < this.outs.length; i++) if (this.outs[i].pt) clearTimeout(this.outs[i].pt);
    if (this.tmr) clearInterval(this.tmr);
    this.tmr = null;
    this.ins = [];
    this.outs = [];
  }

  /** Reads a digital input now (inverted when configured). */
  dig(inp: Inp): number {
    const v = this.b.read(inp.p) ? 1 : 0;
    return inp.inv ? 1 - v : v;
  }

  /** Drives an output to a logical value (0/1, or a duty 0..1 for PWM). */
  out(o: Out, v: number): void {
    o.v = v;
    if (o.k) this.b.pwm(o.p, o.inv ? 1 - v : v, o.f);
    else this.b.write(o.p, o.inv ? 1 - v : v);
  }

  /** The one interval: periodic inputs, offline queue retry, safe state after sms ms without a session, watchdog. */
  tick(): void {
    const b = this.b;
    b.kickWatchdog();
    const now = b.now();
    const ins = this.ins;
    for (let i = 0; i < ins.length; i++) {
      const inp = ins[i];
      if (inp.per && now >= inp.nx) {
        inp.nx += inp.per;
        if (inp.nx <= now) inp.nx = now + inp.per;
        try {
          this.samp(inp, now);
        } catch (e) {
          this.err = inp.c + ": " + e;
        }
      }
    }
    if (this.cl.state === S_READY) {
      if (this.qi.length) this.flush();
    } else if (this.sms > 0 && !this.sf && now - this.lost >= this.sms) {
      this.sf = true;
      for (let i = 0; i < this.outs.length; i++) {
        const o = this.outs[i];
        if (o.pt) clearTimeout(o.pt);
        o.pt = 0;
        this.out(o, o.s);
      }
      this.err = "no session: outputs in safe state";
    }
  }

  /** Current raw reading of a periodic input, NaN when unavailable. */
  raw(inp: Inp, now: number): number {
    const k = inp.k;
    const b = this.b;
    if (k === K_ANALOG) return b.analog(inp.p);
    if (k === K_TEMP) return b.temperature();
    if (k === K_MEM) return b.memory().free;
    if (k === K_RSSI) return b.rssi();
    if (k === K_UPTIME) return Math.floor((now - this.t0) / 1000);
    return NaN;
  }

  /** Periodic reading: pulse counters publish {n: count, r: rate per second}; others a rounded value, unless within the deadband. */
  samp(inp: Inp, now: number): void {
    if (inp.k === K_PULSE) {
      const dt = now - inp.lt;
      const r = dt > 0 ? roundTo(((inp.cnt - inp.lc) * 1000) / dt, inp.m) : 0;
      inp.lc = inp.cnt;
      inp.lt = now;
      this.pub(inp, { n: inp.cnt, r: r });
      return;
    }
    const x = this.raw(inp, now);
    if (x !== x) {
      this.err = inp.c + ": no reading";
      return;
    }
    const v = roundTo(x * inp.sc + inp.of, inp.m);
    const last = inp.v;
    if (last !== undefined && inp.db >= 0 && (v === last || Math.abs(v - last) < inp.db)) return;
    inp.v = v;
    this.pub(inp, v);
  }

  /** setWatch callback: digital inputs publish on change, pulse counters count. */
  edge(inp: Inp, e: any): void {
    if (inp.k === K_PULSE) {
      inp.cnt++;
      return;
    }
    const v = inp.inv ? (e.state ? 0 : 1) : e.state ? 1 : 0;
    if (v === inp.v) return;
    inp.v = v;
    this.pub(inp, v);
  }

  /**
   * Publishes a reading. QoS 1 readings always pass through the bounded offline queue, which
   * flush() drains in order while there is a session (so they stay in order across outages and
   * BUSY answers); when it is full the oldest reading is dropped and counted. QoS 0 readings are
   * sent only while there is a session.
   */
  pub(inp: Inp, dt: any): void {
    const ready = this.cl.state === S_READY;
    if (!inp.q) {
      if (!ready) return;
      const st = this.cl.pub(inp.c, dt, 0, inp.rt, null);
      if (st === ST_OK) this.np++;
      else this.err = inp.c + ": publish failed " + st;
      return;
    }
    if (this.qi.length >= this.qmax) {
      this.qi.shift();
      this.qv.shift();
      this.qd++;
    }
    this.qi.push(inp);
    this.qv.push(dt);
    if (ready) this.flush();
  }

  /** Sends queued readings in order until the client says it is busy. */
  flush(): void {
    const qi = this.qi;
    while (qi.length && this.cl.state === S_READY) {
      const inp = qi[0];
      const st = this.cl.pub(inp.c, this.qv[0], 1, inp.rt, this.fcb);
      if (st === ST_BUSY) return;
      qi.shift();
      this.qv.shift();
      if (st === ST_OK) this.np++;
      else this.err = inp.c + ": publish failed " + st;
    }
  }

  /** A new session: status, group subscription, then the queued readings. */
  ready(): void {
    this.lost = 0;
    this.sf = false;
    this.stat(1);
    if (this.sg !== this.grp) {
      if (this.sg) this.cl.unsub(this.sg, null);
      this.sg = this.grp && this.cl.sub(this.grp, 1, null) === ST_OK ? this.grp : "";
    }
    this.flush();
  }

  /** Retained availability message on `<prefix>status` (JMQT has no last will, see README). */
  stat(online: number): number {
    const dt: any = { online: online };
    if (online) {
      dt.id = this.id;
      dt.fw = this.o.fw;
      if (this.errs.length) dt.err = this.errs;
    }
    return this.cl.pub(this.pre + "status", dt, 1, 1, online ? null : this.fcb);
  }

  /** Orderly shutdown: retained {"online":0}, then disconn once it is acknowledged (or after 3 s). */
  shutdown(cb?: () => void): void {
    this.sd = cb || null;
    this.dn = true;
    if (this.cl.state === S_READY && this.stat(0) === ST_OK) {
      setTimeout(afterOffline, 3000, this);
      return;
    }
    afterOffline(this);
  }

  /** Reboot in `ms`, after the reply has gone out and the offline status was sent. */
  reboot(ms: number): void {
    this.shutdown();
    setTimeout(rebootNow, ms, this);
  }

  /** The input or output with that name. */
  find(name: any): Inp | Out | null {
    const c = this.pre + name;
    for (let i = 0; i < this.ins.length; i++) if (this.ins[i].c === c) return this.ins[i];
    for (let i = 0; i < this.outs.length; i++) if (this.outs[i].n === name) return this.outs[i];
    return null;
  }

  /**
   * Inbound push: commands on `#<id>` or the group channel (SPEC "P2P"); anything else is ignored.
   * Replies to commands that change something are cached by "<sender> <id>", so a QoS 1
   * redelivery runs once and gets the same answer; reads (ping, status, get, config read) are
   * answered afresh instead of keeping their larger replies in RAM.
   */
  push(cn: string, dt: any, from: string, rt: number): void {
    if (rt || !from) return;
    if (cn !== "#" + this.cl.cl && !(this.grp && cn === this.grp)) return;
    if (!isObj(dt) || typeof dt.cmd !== "string") return;
    const cmd = dt.cmd;
    const id = dt.id === undefined ? "" : "" + dt.id;
    const key = from + " " + id + "\n";
    for (let i = 0; i < this.rc.length; i++) {
      if (this.rc[i].indexOf(key) === 0) {
        this.cl.p2p(from, JSON.parse(this.rc[i].substr(key.length)), 0, null);
        return;
      }
    }
    let res: any;
    const allowed = !this.alw || this.alw.indexOf(from) >= 0;
    if (!allowed) res = "not allowed";
    else {
      this.nc++;
      try {
        res = runCommand(this, cmd, dt);
      } catch (e) {
        res = "failed: " + e;
      }
    }
    const reply: any = { re: id, ok: typeof res === "string" ? 0 : 1 };
    if (typeof res === "string") {
      reply.err = res;
      this.err = cmd + ": " + res;
    } else for (const k in res) reply[k] = res[k];
    if (allowed && !(cmd === "ping" || cmd === "status" || cmd === "get" || (cmd === "config" && dt.set === undefined))) {
      if (this.rc.length >= this.rmax) this.rc.shift();
      this.rc.push(key + JSON.stringify(reply));
    }
    this.cl.p2p(from, reply, 0, null);
  }

  /** Figures for the `status` command. */
  status(): any {
    const m = this.b.memory();
    return {
      up: Math.floor((this.b.now() - this.t0) / 1000),
      free: m.free,
      tot: m.total,
      rssi: this.b.rssi(),
      fw: this.o.fw,
      c: this.cl.counters,
      ce: this.cl.err,
      np: this.np,
      nc: this.nc,
      q: this.qi.length,
      qd: this.qd,
      err: this.err,
    };
  }
}
