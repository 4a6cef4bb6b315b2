// The device runtime: inputs -> readings, P2P commands -> outputs, availability, offline queue.
// One interval timer (the tick) drives every periodic input, the safe-state timeout, the
// offline-queue retry and the watchdog. Memory (shared/espruino/README.md): every function object
// and every property costs RAM blocks on the board, a property name over 4 characters a second
// one. So: few functions (the board/client callbacks are module functions that reach the one
// running runtime through `R`, no closures), short property names, and per-input records that
// hold only the fields their kind uses. The parsed config is not kept.
import type { Board, WatchEvent } from "../board";
import { Io, Sys, type PinMode } from "../board";
import type { Client } from "../jmqt/api";
import { S_READY, ST_BUSY, ST_OK } from "../jmqt/api";
import type { BoardInfo } from "./config";
import { validateConfig } from "./config";
import { runCommand } from "./commands";

/**
 * Input kinds, in the order of the type names in run() and config.ts; the sensor types
 * (bme280 ...) come after Uptime. A const enum: each is a literal in the bundle (a top-level
 * const used more than once stays a variable, a block each on the board).
 */
export const enum Kind {
  Digital,
  Analog,
  Pulse,
  Temperature,
  Memory,
  Rssi,
  Uptime,
}

/**
 * One input; only the fields its kind uses are set. n name (channel = prefix + n), k kind (Kind),
 * p pin, q QoS 1, r retained, per period ms and nx next due time, sc scale, of offset, m rounding
 * multiplier (10^precision, absent for 1), db deadband, inv inverted, v last value; pulse: cnt count, lc count
 * and lt time at the last period.
 */
export interface Inp {
  n: string;
  k: number;
  p?: number;
  q?: number;
  r?: number;
  per?: number;
  nx?: number;
  sc?: number;
  of?: number;
  m?: number;
  db?: number;
  inv?: number;
  v?: any;
  cnt?: number;
  lc?: number;
  lt?: number;
  /** sensors (kinds 7-11, set by drv.run): d the driver, o the one ROM id of a single-ROM ds18b20 */
  d?: any;
  o?: string;
}

/** One output: n name, k 0 digital / 1 PWM, p pin, s safe value (absent for 0), v logical value (before invert), f PWM Hz, inv inverted, pt pulse timer. */
export interface Out {
  n: string;
  k: number;
  p: number;
  s?: number;
  v: number;
  f?: number;
  inv?: number;
  pt?: any;
}

/** Bound of the reply cache: a redelivered request is answered from it (duplicates come within seconds). */
const enum Cache {
  Replies = 4,
}

/**
 * x rounded to a multiple of 1/m, halves away from zero. The same on both engines: Espruino's
 * Math.round(-30.5) is -31, V8's -30, so the rounding is done on the magnitude.
 */
export function roundTo(x: number, m: number): number {
  const r = Math.round(Math.abs(x) * m) / m;
  return x < 0 && r ? -r : r;
}

/** The running device: what the board and client callbacks below act on (set by createDevice). */
let R: Device;

/**
 * The device: one plain object (a class would add a prototype, a constructor and a kept scope
 * per method: 24 blocks on the ESP8266 layout, measured) with what lasts across configs, and what run()
 * sets from the config. The functions below act on the one device, R.
 */
export interface Device {
  b: Board;
  cl: Client;
  /** firmware version reported on status */
  fw: string;
  /** channel prefix, group channel (undefined for none), group channel subscribed (undefined: none);
   *  undefined rather than "": a property holding "" costs a block more */
  pre: string;
  grp?: string;
  sg?: string;
  /** client ids allowed to send commands, null for anyone */
  alw?: string[];
  /** ms without a session before outputs go to their safe state (0: never); tick ms and timer */
  sms: number;
  tms: number;
  tmr?: any;
  ins: Inp[];
  outs: Out[];
  /** config errors found by the last apply (sent on status), last error (for the status command; undefined until one) */
  errs: string[];
  err?: string;
  /** offline queue: inputs and values, its bound, readings dropped because it was full */
  qi: Inp[];
  qv: any[];
  qmax: number;
  qd: number;
  /** recent replies (at most Cache.Replies), each one string "<sender> <id>\n<reply JSON>" */
  rc: string[];
  /** boot time; time the session was lost (0 while there is one); safe state applied */
  t0: number;
  lost: number;
  sf?: number;
  /** readings published, commands run */
  np: number;
  nc: number;
  /** shutdown: 0 running, 1 waiting for the offline status' pubAck, 2 client stopped; cb once stopped */
  dn?: number;
  sd?: () => void;
  /** the OTA receiver while an update is open (commands.ts; absent otherwise: no RAM at idle) */
  ota?: (a?: any) => any;
  /** sensors: the glue of Storage drv.run (firmware/drivers/run.ts), loaded with the first sensor
   *  input; se {name: reason} of the sensor inputs whose last reading failed (absent when none) */
  sx?: (rt: Device, i: Inp, it?: any) => void;
  se?: { [name: string]: string };
  /** pub(), for drv.run (a separate Storage file that cannot name the bundle's functions): set
   *  with sx, so that a device without sensors does not pay the property */
  pub?: (i: Inp, dt: any) => void;
}

/** Creates the device with what lasts across configs; run() sets the rest (prefix, group, timers, inputs, outputs). */
export function createDevice(board: Board, client: Client, fw: string): Device {
  const now = Date.now();
  R = {
    b: board,
    cl: client,
    fw: fw,
    pre: "",
    sms: 0,
    tms: 1000,
    ins: [],
    errs: [],
    qd: 0,
    np: 0,
    nc: 0,
    outs: [],
    qi: [],
    qv: [],
    rc: [],
    qmax: (board.sys(Sys.BoardInfo) as BoardInfo).offlineQueue || 16,
    t0: now,
    lost: now,
  } as Device;
  return R;
}

/**
 * Applies a config (invalid items are skipped and reported), hooks the client, starts the tick;
 * called at boot and by the `config` command. Nothing of `cfg` is kept but compact records.
 */
export function run(cfg: any): void {
  const rt = R;
  const b = rt.b;
  const bad: { [item: string]: number } = {};
  const errs = validateConfig(cfg, b.sys(Sys.BoardInfo), bad);
  if (!cfg || typeof cfg !== "object") cfg = {};
  b.sys(Sys.ClearWatches);
  for (let i = 0; i < rt.outs.length; i++) if (rt.outs[i].pt) clearTimeout(rt.outs[i].pt);
  if (rt.tmr) clearInterval(rt.tmr);
  if (rt.se) rt.se = undefined;
  rt.errs = errs;
  if (errs.length) rt.err = "config: " + errs[0];
  rt.pre = typeof cfg.prefix === "string" ? cfg.prefix : "";
  rt.grp = typeof cfg.group === "string" && cfg.group ? cfg.group : undefined;
  rt.alw = Array.isArray(cfg.allow) ? cfg.allow : undefined;
  rt.sms = typeof cfg.safeMs === "number" ? cfg.safeMs : 60000;
  rt.tms = typeof cfg.tick === "number" && cfg.tick >= 50 ? cfg.tick : 1000;
  rt.ins = [];
  rt.outs = [];
  const now = Date.now();
  let list = Array.isArray(cfg.inputs) ? cfg.inputs : [];
  for (let i = 0; i < list.length; i++) {
    if (bad["inputs[" + i + "]"]) continue;
    const it = list[i];
    const k = "digital,analog,pulse,temperature,memory,rssi,uptime,bme280,bmp280,ds18b20,dht22,dht11".split(",").indexOf(it.type);
    const pin = k <= Kind.Pulse ? b.sys(Sys.PinByName, it.pin) : -1;
    if (pin === undefined) continue;
    const inp: Inp = { n: it.name, k: k };
    if (k <= Kind.Pulse) inp.p = pin;
    if (it.q) inp.q = 1;
    if (it.rt) inp.r = 1;
    if (it.period) {
      inp.per = it.period;
      inp.nx = now + it.period;
    }
    if (it.scale !== undefined) inp.sc = it.scale;
    if (it.offset) inp.of = it.offset;
    // the default precision of a kind (decimals): analog 3, pulse rate 2, temperature 1, the rest 0
    const decimals = k === Kind.Analog ? 3 : k === Kind.Pulse ? 2 : k === Kind.Temperature ? 1 : 0;
    const m = k === Kind.Digital ? 1 : Math.pow(10, it.precision === undefined ? decimals : it.precision);
    if (m !== 1) inp.m = m;
    if (it.deadband !== undefined) inp.db = it.deadband;
    if (it.invert) inp.inv = 1;
    // a board call that throws (a pin the validator let through, setWatch refusing an edge)
    // costs this input only, never the boot
    try {
      if (k === Kind.Analog) b.io("analog", pin);
      else if (k === Kind.Digital || k === Kind.Pulse) {
        b.io(it.pull === "up" || it.pull === "down" ? ("input_pull" + it.pull) as PinMode : "input", pin);
        if (k === Kind.Pulse) {
          inp.cnt = inp.lc = 0;
          inp.lt = now;
        } else inp.v = val(inp);
        b.sys(Sys.Watch, onEdge, { pin: pin, edge: k === Kind.Digital ? "both" : it.edge || "rising", debounce: it.debounce === undefined ? (k === Kind.Digital ? 25 : 0) : it.debounce });
      } else if (k > Kind.Uptime) {
        // a sensor (bme280 .. dht11): its glue and drivers are Storage files, loaded only now
        if (!rt.sx) {
          rt.sx = b.sys(Sys.EvalFile, "drv.run");
          rt.pub = pub;
        }
        (rt.sx as any)(rt, inp, it);
      }
    } catch (e) {
      errs.push("inputs[" + i + "]: " + e);
      rt.err = "config: " + errs[errs.length - 1];
      continue;
    }
    rt.ins.push(inp);
  }
  list = Array.isArray(cfg.outputs) ? cfg.outputs : [];
  for (let i = 0; i < list.length; i++) {
    if (bad["outputs[" + i + "]"]) continue;
    const it = list[i];
    const p = b.sys(Sys.PinByName, it.pin);
    if (p === undefined) continue;
    const o: Out = { n: it.name, k: it.type === "pwm" ? 1 : 0, p: p, v: 0 };
    if (it.safe) o.s = it.safe;
    if (o.k) o.f = it.freq || 1000;
    else b.io("output", p);
    if (it.invert) o.inv = 1;
    rt.outs.push(o);
    out(o, it.initial === undefined ? o.s || 0 : it.initial);
  }
  rt.tmr = setInterval(tick, rt.tms);
  rt.cl.onPush = rt.cl.onRepeat = onPush;
  rt.cl.onState = onState;
  if (rt.cl.state === S_READY) onState(S_READY);
}

/** Drives an output to a logical value (0/1, or a duty 0..1 for PWM). */
export function out(o: Out, v: number): void {
  o.v = v;
  R.b.io(o.k ? Io.PwmWrite : Io.DigitalWrite, o.p, o.inv ? 1 - v : v, o.f);
}

/** Current reading of an input: digital level, pulse count, else scaled and rounded (NaN when unavailable). */
export function val(i: Inp): number {
  const k = i.k;
  const b = R.b;
  if (k === Kind.Digital) return b.io(Io.DigitalRead, i.p as number) ? 1 - (i.inv || 0) : i.inv || 0;
  if (k === Kind.Pulse) return i.cnt as number;
  // a sensor: its last published reading (null before the first and while its reading fails)
  if (k > Kind.Uptime) return i.v === undefined || (R.se && R.se[i.n]) ? NaN : i.v;
  const x =
    k === Kind.Analog ? b.io(Io.AnalogRead, i.p as number)
    : k === Kind.Temperature ? b.sys(Sys.Temperature)
    : k === Kind.Memory ? b.sys(Sys.FreeBlocks)
    : k === Kind.Rssi ? b.sys(Sys.Rssi)
    : Math.floor((Date.now() - R.t0) / 1000);
  return roundTo(x * (i.sc === undefined ? 1 : i.sc) + (i.of || 0), i.m || 1);
}

/**
 * Publishes a reading. QoS 1 readings always pass through the bounded offline queue, which
 * flush() drains in order while there is a session (so they stay in order across outages and
 * BUSY answers); when it is full the oldest reading is dropped and counted. QoS 0 readings are
 * sent only while there is a session.
 */
export function pub(i: Inp, dt: any): void {
  const rt = R;
  const ready = rt.cl.state === S_READY;
  if (!i.q) {
    if (!ready) return;
    const st = rt.cl.pub(rt.pre + i.n, dt, 0, i.r || 0, null);
    if (st === ST_OK) rt.np++;
    else rt.err = i.n + ": publish failed " + st;
    return;
  }
  if (rt.qi.length >= rt.qmax) {
    rt.qi.shift();
    rt.qv.shift();
    rt.qd++;
  }
  rt.qi.push(i);
  rt.qv.push(dt);
  if (ready) flush();
}

/** Sends queued readings in order until the client says it is busy; each pubAck runs tick() (and so flush) again. */
export function flush(): void {
  const rt = R;
  const qi = rt.qi;
  while (qi.length && rt.cl.state === S_READY) {
    const i = qi[0];
    const st = rt.cl.pub(rt.pre + i.n, rt.qv[0], 1, i.r || 0, tick);
    if (st === ST_BUSY) return;
    qi.shift();
    rt.qv.shift();
    if (st === ST_OK) rt.np++;
    else rt.err = i.n + ": publish failed " + st;
  }
}

/**
 * Orderly end (the `reboot` command, Espruino's E "kill" event): retained {"online":0}, then the
 * client's disconn once that is acknowledged (its pubAck runs tick) or after 3 s; cb once stopped.
 * The tick interval stops, so that only the pubAck or the 3 s timer finishes the shutdown.
 */
export function shutdown(cb?: () => void): void {
  const rt = R;
  if (!rt || rt.dn) return;
  rt.sd = cb;
  rt.dn = 1;
  if (rt.tmr) clearInterval(rt.tmr);
  rt.tmr = null;
  if (rt.cl.state === S_READY && rt.cl.pub(rt.pre + "status", { online: 0 }, 1, 1, tick) === ST_OK) setTimeout(tick, 3000);
  else tick();
}

/**
 * The one interval, also the pubAck callback of queued readings and of the offline status:
 * finishes a shutdown; else periodic inputs, offline queue, safe state after sms ms without a
 * session, watchdog.
 */
function tick(): void {
  const rt = R;
  if (rt.dn) {
    if (rt.dn === 1) {
      rt.dn = 2;
      rt.cl.stop(rt.sd);
    }
    return;
  }
  rt.b.sys(Sys.KickWatchdog);
  if (rt.ota && !rt.ota()) delete rt.ota;
  const now = Date.now();
  const ins = rt.ins;
  for (let n = 0; n < ins.length; n++) {
    const i = ins[n];
    if (!i.per || now < (i.nx as number)) continue;
    i.nx = (i.nx as number) + i.per;
    if (i.nx <= now) i.nx = now + i.per;
    try {
      if (i.k > Kind.Uptime) {
        (rt.sx as any)(rt, i);
        continue;
      }
      if (i.k === Kind.Pulse) {
        const dt = now - (i.lt as number);
        const c = i.cnt as number;
        const r = dt > 0 ? roundTo(((c - (i.lc as number)) * 1000) / dt, i.m || 1) : 0;
        i.lc = c;
        i.lt = now;
        pub(i, { n: c, r: r });
        continue;
      }
      const v = val(i);
      if (v !== v) rt.err = i.n + ": no reading";
      else if (i.v === undefined || i.db === undefined || (v !== i.v && Math.abs(v - i.v) >= i.db)) {
        i.v = v;
        pub(i, v);
      }
    } catch (e) {
      rt.err = rt.pre + i.n + ": " + e;
    }
  }
  if (rt.cl.state === S_READY) {
    if (rt.qi.length) flush();
  } else if (rt.sms > 0 && !rt.sf && now - rt.lost >= rt.sms) {
    rt.sf = 1;
    for (let n = 0; n < rt.outs.length; n++) {
      const o = rt.outs[n];
      if (o.pt) clearTimeout(o.pt);
      o.pt = 0;
      out(o, o.s || 0);
    }
    rt.err = "no session: outputs in safe state";
  }
}

/** setWatch callback (found by pin): digital inputs publish on change, pulse counters count. */
function onEdge(e: WatchEvent): void {
  const ins = R.ins;
  for (let n = 0; n < ins.length; n++) {
    const i = ins[n];
    if (i.p != e.pin || i.k > Kind.Pulse) continue;
    if (i.k === Kind.Pulse) (i.cnt as number)++;
    else {
      const v = i.inv ? (e.state ? 0 : 1) : e.state ? 1 : 0;
      if (v === i.v) return;
      i.v = v;
      pub(i, v);
    }
    return;
  }
}

/**
 * Client state changes. A new session: retained availability on `<prefix>status` (JMQT has no
 * last will, see README), the group subscription (persistent: the client resubscribes it), then
 * the queued readings. Losing it starts the safe-state clock.
 */
function onState(state: number): void {
  const rt = R;
  if (state !== S_READY) {
    if (!rt.lost) rt.lost = Date.now();
    return;
  }
  const dt: any = { online: 1, id: rt.cl.cl, fw: rt.fw };
  if (rt.errs.length) dt.err = rt.errs;
  if (rt.se) dt.se = rt.se;
  rt.lost = rt.sf = 0;
  rt.cl.pub(rt.pre + "status", dt, 1, 1, null);
  // a verified OTA install on trial (jmqt.try) reached its session: confirm it (docs/ota.md);
  // not while a commit's reboot is pending (dn). The receiver directly: runCommand would
  // build a reply nobody reads.
  if (!rt.dn && rt.b.sys(Sys.ReadJson, "jmqt.try")) {
    const h = rt.ota || rt.b.sys(Sys.OtaReceiver);
    if (h) h({ op: "confirm" });
  }
  if (rt.sg !== rt.grp) {
    if (rt.sg) rt.cl.unsub(rt.sg, null);
    rt.sg = rt.grp && rt.cl.sub(rt.grp, 1, null) === ST_OK ? rt.grp : undefined;
  }
  flush();
}

/**
 * Inbound push: commands on `#<id>` or the group channel (SPEC "P2P"); anything else is ignored.
 * Replies to commands that change something are cached by "<sender> <id>", so a QoS 1
 * redelivery runs once and gets the same answer; reads (ping, status, get, config read) are
 * answered afresh instead of keeping their larger replies in RAM.
 */
function onPush(cn: string, dt: any, from: string, retained?: number): void {
  const rt = R;
  if (retained || !from) return;
  if (cn !== "#" + rt.cl.cl && !(rt.grp && cn === rt.grp)) return;
  if (!dt || typeof dt !== "object" || typeof dt.cmd !== "string") return;
  const cmd = dt.cmd;
  const id = dt.id === undefined ? "" : "" + dt.id;
  const key = from + " " + id + "\n";
  for (let n = 0; n < rt.rc.length; n++) {
    if (rt.rc[n].substr(0, key.length) === key) {
      rt.cl.pub("#" + from, JSON.parse(rt.rc[n].substr(key.length)), 0, 0, null);
      return;
    }
  }
  let res: any;
  const allowed = !rt.alw || rt.alw.indexOf(from) >= 0;
  if (!allowed) res = "not allowed";
  else {
    rt.nc++;
    try {
      // out of line (9 blocks): inlined as a function expression, Espruino lexed its text twice
      // per command (a ping 2.69 ms with it out of line, 3.42 inlined; docs/memory.md "Time")
      res = /*@__NOINLINE__*/ runCommand(rt, cmd, dt);
    } catch (e) {
      res = "failed: " + e;
    }
  }
  const reply: any = { re: id, ok: typeof res === "string" ? 0 : 1 };
  if (typeof res === "string") {
    reply.err = res;
    rt.err = cmd + ": " + res;
  } else for (const k in res) reply[k] = res[k];
  if (allowed && !(cmd === "ping" || cmd === "status" || cmd === "get" || (cmd === "config" && dt.set === undefined) || (cmd === "ota" && dt.op === "state"))) {
    if (rt.rc.length >= Cache.Replies) rt.rc.shift();
    rt.rc.push(key + JSON.stringify(reply));
  }
  rt.cl.pub("#" + from, reply, 0, 0, null);
}

/**
 * Timer target: the end of an output pulse (x is the output), or a reboot (x is 1). A verified
 * OTA update (commit replied) is installed first: the receiver overwrites .bootcde, which this
 * code is read from, and reboots itself (1); it returns 0 when no install is waiting.
 */
export function later(x: Out | number): void {
  if (x === 1) {
    if (!R.ota || !R.ota({ op: "install" })) R.b.sys(Sys.Reboot);
  } else {
    const o = x as Out;
    o.pt = 0;
    out(o, 1 - o.v);
  }
}
