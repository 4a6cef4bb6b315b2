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
import { S_IDLE, S_READY, ST_BUSY, ST_OK } from "../jmqt/api";
import { start, stop, sub, tick as tickClient, unsub } from "../jmqt/client";
import type { JmqtClient } from "../jmqt/client";
import type { BoardInfo } from "./config";
import { validateConfig } from "./config";
import { changeCommand, statusReport, targetCommand } from "./commands";

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
 * One input; only the fields its kind uses are set. Private fields (`_`): the build's property
 * mangler shortens them, in drv.run too (tools/build.ts shares the names).
 */
export interface Inp {
  /** the input's name: its channel is prefix + name */
  name_: string;
  /** absent for Kind.Digital (0): a property costs the board a block, also holding 0 */
  kind_?: number;
  pin_?: number;
  /** 1: readings go QoS 1 through the offline queue */
  qos_?: number;
  /** 1: readings are retained */
  retain_?: number;
  /** ticks between readings, and ticks left until the next one (counted in ticks rather than held
   *  as times: an integer within -1024..1023 lives in its property's block, a time in ms takes a
   *  second one, measured 2 blocks per periodic input on espruino-esp8266) */
  period_?: number;
  ticksLeft_?: number;
  scale_?: number;
  offset_?: number;
  /** readings are rounded to multiples of 1/precision_ (10^decimals; absent for 1); a sensor's per quantity {t, p, h} */
  precision_?: number | { [quantity: string]: number };
  /** a reading is sent when it moved by at least this (a sensor's: one number or per quantity) */
  deadband_?: number | { [quantity: string]: number };
  invert_?: number;
  /** the last value read or published */
  value_?: any;
  /** pulse: the count, and the count at the last period (the rate is over the period's ticks:
   *  no time stored, a float of 2 blocks) */
  count_?: number;
  lastCount_?: number;
  /** sensors (kinds 7-11, set by drv.run): the driver, and the one ROM id of a single-ROM ds18b20 */
  driver_?: any;
  rom_?: string;
}

/** One output. */
export interface Out {
  name_: string;
  /** 1 PWM, absent for digital */
  pwm_?: number;
  pin_: number;
  /** the value in the safe state (absent for 0) */
  safe_?: number;
  /** the logical value (before invert_) */
  value_: number;
  /** PWM frequency, Hz */
  freq_?: number;
  invert_?: number;
  /** the timer ending a pulse */
  pulseTimer_?: any;
}

/**
 * x rounded to a multiple of 1/m, halves away from zero. The same on both engines: Espruino's
 * Math.round(-30.5) is -31, V8's -30, so the rounding is done on the magnitude.
 */
export function roundTo(x: number, m: number): number {
  const r = Math.round(Math.abs(x) * m) / m;
  return x < 0 && r ? -r : r;
}

/** The tick's default period, ms (config `tick`), which the device holds as absent (Device.tickMs_). */
export const enum Tick {
  DefaultMs = 1000,
}

/** The running device: what the board and client callbacks below act on (set by createDevice). */
let R: Device;

/**
 * The device: one plain object (a class would add a prototype, a constructor and a kept scope
 * per method: 24 blocks on the ESP8266 layout, measured) with what lasts across configs, and what run()
 * sets from the config. The functions below act on the one device, R.
 */
export interface Device {
  board_: Board;
  client_: Client;
  /** firmware version reported on status */
  version_: string;
  /** channel prefix, group channel (undefined for none), group channel subscribed (undefined: none);
   *  undefined rather than "": a property holding "" costs a block more */
  prefix_: string;
  group_?: string;
  subscribedGroup_?: string;
  /** client ids allowed to send commands, undefined for anyone */
  allow_?: string[];
  /** ticks without a session before outputs go to their safe state (0: never; config safeMs,
   *  rounded up to whole ticks: 30 rather than 30000, which costs a block of its own); tick ms and timer */
  safeTicks_: number;
  /** (absent for Tick.DefaultMs: 1000 as a property costs a block of its own, outside -1024..1023) */
  tickMs_?: number;
  tickTimer_?: any;
  inputs_: Inp[];
  outputs_: Out[];
  /** config errors found by the last apply (sent on status; absent when there are none: an empty
   *  array costs the board 2 blocks), last error (for the status command; undefined until one) */
  configErrors_?: string[];
  lastError_?: string;
  /** offline queue: inputs and values (both absent while it is empty: 4 blocks at idle), its bound
   *  (absent for the ESP8266's 16, boards/esp8266.json offlineQueue), readings dropped because it was full */
  queuedInputs_?: Inp[];
  queuedValues_?: any[];
  queueMax_?: number;
  dropped_?: number;
  /** recent results of changes (at most Cache.Replies, changeCommand), each one string "<sender> <id>\n<result JSON>"; absent until the first */
  replies_?: string[];
  /** boot time; time the session was lost (absent while there is one); safe state applied (absent: not) */
  bootAt_: number;
  lostAt_?: number;
  safeApplied_?: number;
  /** readings published, commands run */
  published_: number;
  commands_: number;
  /** shutdown: 0 running, 1 waiting for the offline status' pubAck, 2 client stopped; cb once stopped */
  stopping_?: number;
  onStopped_?: () => void;
  /** the OTA receiver while an update is open (commands.ts; absent otherwise: no RAM at idle) */
  ota_?: (a?: any) => any;
  /** sensors: the glue of Storage drv.run (firmware/drivers/run.ts), loaded with the first sensor
   *  input; failing_ {name: reason} of the sensor inputs whose last reading failed (absent when
   *  none: status.se); statusPending_ while the client refused the status that reports it */
  sense_?: (rt: Device, i: Inp, it?: any) => void;
  failing_?: { [name: string]: string };
  statusPending_?: boolean;
  /** pub(), for drv.run (a separate Storage file that cannot name the bundle's functions): set
   *  with sense_, so that a device without sensors does not pay the property */
  publish_?: (i: Inp, dt: any) => void;
  /** the pending WiFi retry (onWifi) and the delay of the next one in seconds, both absent while
   *  WiFi is up: 1 s doubling to 60 s, reset by `connected` */
  wifiTimer_?: any;
  wifiBackoffS_?: number;
}

/** Creates the device with what lasts across configs; run() sets the rest (prefix, group, timers, inputs, outputs). */
export function createDevice(board: Board, client: Client, fw: string): Device {
  const now = Date.now();
  const queueMax = (board.sys(Sys.BoardInfo) as BoardInfo).offlineQueue || 16;
  R = {
    board_: board,
    client_: client,
    version_: fw,
    prefix_: "",
    safeTicks_: 0,
    inputs_: [],
    published_: 0,
    commands_: 0,
    outputs_: [],
    bootAt_: now,
    lostAt_: now,
  };
  if (queueMax != 16) R.queueMax_ = queueMax;
  return R;
}

/**
 * Applies a config (invalid items are skipped and reported), hooks the client, starts the tick;
 * called at boot and by the `config` command. Nothing of `cfg` is kept but compact records.
 */
export function run(cfg: any): void {
  const rt = R;
  const b = rt.board_;
  const bad: { [item: string]: number } = {};
  const errs = validateConfig(cfg, b.sys(Sys.BoardInfo), bad);
  if (!cfg || typeof cfg !== "object") cfg = {};
  b.sys(Sys.ClearWatches);
  for (let i = 0; i < rt.outputs_.length; i++) if (rt.outputs_[i].pulseTimer_) clearTimeout(rt.outputs_[i].pulseTimer_);
  if (rt.tickTimer_) clearInterval(rt.tickTimer_);
  if (rt.failing_) rt.failing_ = undefined;
  if (errs.length) {
    rt.configErrors_ = errs;
    rt.lastError_ = "config: " + errs[0];
  } else delete rt.configErrors_;
  rt.prefix_ = typeof cfg.prefix === "string" ? cfg.prefix : "";
  rt.group_ = typeof cfg.group === "string" && cfg.group ? cfg.group : undefined;
  rt.allow_ = Array.isArray(cfg.allow) ? cfg.allow : undefined;
  const tickMs = typeof cfg.tick === "number" && cfg.tick >= 50 && cfg.tick <= 1000 ? cfg.tick : Tick.DefaultMs;
  if (tickMs !== Tick.DefaultMs) rt.tickMs_ = tickMs;
  else delete rt.tickMs_;
  const safeMs = typeof cfg.safeMs === "number" ? cfg.safeMs : 60000;
  rt.safeTicks_ = safeMs > 0 ? Math.ceil(safeMs / tickMs) : 0;
  rt.inputs_ = [];
  rt.outputs_ = [];
  let list = Array.isArray(cfg.inputs) ? cfg.inputs : [];
  for (let i = 0; i < list.length; i++) {
    if (bad["inputs[" + i + "]"]) continue;
    const it = list[i];
    const k = "digital,analog,pulse,temperature,memory,rssi,uptime,bme280,bmp280,ds18b20,dht22,dht11".split(",").indexOf(it.type);
    const pin = k <= Kind.Pulse ? b.sys(Sys.PinByName, it.pin) : -1;
    if (pin === undefined) continue;
    const inp: Inp = { name_: it.name };
    if (k) inp.kind_ = k;
    if (k <= Kind.Pulse) inp.pin_ = pin;
    if (it.q) inp.qos_ = 1;
    if (it.rt) inp.retain_ = 1;
    if (it.period) {
      // a whole number of ticks, at least one (a period shorter than the tick reads at each tick)
      const n = Math.round(it.period / tickMs);
      inp.period_ = inp.ticksLeft_ = n > 1 ? n : 1;
    }
    if (it.scale !== undefined) inp.scale_ = it.scale;
    if (it.offset) inp.offset_ = it.offset;
    // the default precision of a kind (decimals): analog 3, pulse rate 2, temperature 1, the rest 0
    const decimals = k === Kind.Analog ? 3 : k === Kind.Pulse ? 2 : k === Kind.Temperature ? 1 : 0;
    // (rounded: Math.pow returns a float on Espruino, a block more than an integer as a property)
    const m = k === Kind.Digital ? 1 : Math.round(Math.pow(10, it.precision === undefined ? decimals : it.precision));
    if (m !== 1) inp.precision_ = m;
    if (it.deadband !== undefined) inp.deadband_ = it.deadband;
    if (it.invert) inp.invert_ = 1;
    // a board call that throws (a pin the validator let through, setWatch refusing an edge)
    // costs this input only, never the boot
    try {
      if (k === Kind.Analog) b.io("analog", pin);
      else if (k === Kind.Digital || k === Kind.Pulse) {
        b.io(it.pull === "up" || it.pull === "down" ? ("input_pull" + it.pull) as PinMode : "input", pin);
        if (k === Kind.Pulse) {
          inp.count_ = inp.lastCount_ = 0;
        } else inp.value_ = val(inp);
        b.sys(Sys.Watch, onEdge, { pin: pin, edge: k === Kind.Digital ? "both" : it.edge || "rising", debounce: it.debounce === undefined ? (k === Kind.Digital ? 25 : 0) : it.debounce });
      } else if (k > Kind.Uptime) {
        // a sensor (bme280 .. dht11): its glue and drivers are Storage files, loaded only now
        if (!rt.sense_) {
          rt.sense_ = b.sys(Sys.EvalFile, "drv.run");
          rt.publish_ = pub;
        }
        (rt.sense_ as any)(rt, inp, it);
      }
    } catch (e) {
      errs.push("inputs[" + i + "]: " + e);
      rt.configErrors_ = errs;
      rt.lastError_ = "config: " + errs[errs.length - 1];
      continue;
    }
    rt.inputs_.push(inp);
  }
  list = Array.isArray(cfg.outputs) ? cfg.outputs : [];
  for (let i = 0; i < list.length; i++) {
    if (bad["outputs[" + i + "]"]) continue;
    const it = list[i];
    const p = b.sys(Sys.PinByName, it.pin);
    if (p === undefined) continue;
    const o: Out = { name_: it.name, pin_: p, value_: 0 };
    if (it.safe) o.safe_ = it.safe;
    if (it.type === "pwm") {
      o.pwm_ = 1;
      o.freq_ = it.freq || 1000;
    }
    else b.io("output", p);
    if (it.invert) o.invert_ = 1;
    rt.outputs_.push(o);
    out(o, it.initial === undefined ? o.safe_ || 0 : it.initial);
  }
  rt.tickTimer_ = setInterval(tick, tickMs);
  rt.client_.onPush = rt.client_.onRepeat = onPush;
  rt.client_.onState = onState;
  if (rt.client_.state === S_READY) onState(S_READY);
}

/** Drives an output to a logical value (0/1, or a duty 0..1 for PWM). */
export function out(o: Out, v: number): void {
  o.value_ = v;
  R.board_.io(o.pwm_ ? Io.PwmWrite : Io.DigitalWrite, o.pin_, o.invert_ ? 1 - v : v, o.freq_);
}

/** Current reading of an input: digital level, pulse count, else scaled and rounded (NaN when unavailable). */
export function val(i: Inp): number {
  const k = i.kind_;
  const b = R.board_;
  if (!k) return b.io(Io.DigitalRead, i.pin_ as number) ? 1 - (i.invert_ || 0) : i.invert_ || 0;
  if (k === Kind.Pulse) return i.count_ as number;
  // a sensor: its last published reading (null before the first and while its reading fails)
  if (k > Kind.Uptime) return i.value_ === undefined || (R.failing_ && R.failing_[i.name_]) ? NaN : i.value_;
  const x =
    k === Kind.Analog ? b.io(Io.AnalogRead, i.pin_ as number)
    : k === Kind.Temperature ? b.sys(Sys.Temperature)
    : k === Kind.Memory ? b.sys(Sys.FreeBlocks)
    : k === Kind.Rssi ? b.sys(Sys.Rssi)
    : Math.floor((Date.now() - R.bootAt_) / 1000);
  return roundTo(x * (i.scale_ === undefined ? 1 : i.scale_) + (i.offset_ || 0), (i.precision_ as number) || 1);
}

/**
 * Publishes a reading. QoS 1 readings always pass through the bounded offline queue, which
 * flush() drains in order while there is a session (so they stay in order across outages and
 * BUSY answers); when it is full the oldest reading is dropped and counted. QoS 0 readings are
 * sent only while there is a session.
 */
export function pub(i: Inp, dt: any): void {
  const rt = R;
  const ready = rt.client_.state === S_READY;
  if (!i.qos_) {
    if (!ready) return;
    const st = rt.client_.pub(rt.prefix_ + i.name_, dt, 0, i.retain_ || 0, null);
    if (st === ST_OK) rt.published_++;
    else rt.lastError_ = i.name_ + ": publish failed " + st;
    return;
  }
  // the queue's two arrays exist only while it holds readings (4 blocks at idle otherwise)
  let qi = rt.queuedInputs_;
  let qv = rt.queuedValues_;
  if (!qi || !qv) {
    qi = rt.queuedInputs_ = [];
    qv = rt.queuedValues_ = [];
  } else if (qi.length >= (rt.queueMax_ || 16)) {
    qi.shift();
    qv.shift();
    rt.dropped_ = (rt.dropped_ || 0) + 1;
  }
  qi.push(i);
  qv.push(dt);
  if (ready) flush();
}

/**
 * Sends queued readings in order until the client says it is busy; each one's pubAck runs flush
 * again. (Not tick: tick counts the periodic inputs' ticks, and a pubAck is no tick. Measured on
 * espruino-esp8266: with tick as the callback, 1000 QoS 1 button readings advanced the periodic
 * inputs by 409 ticks.)
 */
export function flush(): void {
  const rt = R;
  const qi = rt.queuedInputs_;
  const qv = rt.queuedValues_;
  if (!qi || !qv) return;
  while (qi.length && rt.client_.state === S_READY) {
    const i = qi[0];
    const st = rt.client_.pub(rt.prefix_ + i.name_, qv[0], 1, i.retain_ || 0, flush);
    if (st === ST_BUSY) return;
    qi.shift();
    qv.shift();
    if (st === ST_OK) rt.published_++;
    else rt.lastError_ = i.name_ + ": publish failed " + st;
  }
  if (!qi.length) {
    delete rt.queuedInputs_;
    delete rt.queuedValues_;
  }
}

/**
 * Orderly end (the `reboot` command, Espruino's E "kill" event): retained {"online":0}, then the
 * client's disconn once that is acknowledged (its pubAck runs tick) or after 3 s; cb once stopped.
 * The tick interval stops, so that only the pubAck or the 3 s timer finishes the shutdown.
 */
export function shutdown(cb?: () => void): void {
  const rt = R;
  if (!rt || rt.stopping_) return;
  rt.onStopped_ = cb;
  rt.stopping_ = 1;
  if (rt.tickTimer_) clearInterval(rt.tickTimer_);
  rt.tickTimer_ = null;
  if (rt.client_.state === S_READY && rt.client_.pub(rt.prefix_ + "status", { online: 0 }, 1, 1, tick) === ST_OK) setTimeout(tick, 3000);
  else tick();
}

/**
 * The one interval, also the pubAck callback of the offline status and its 3 s timer (shutdown):
 * finishes a shutdown; else periodic inputs, offline queue, safe state after safeTicks_ without a
 * session, watchdog.
 */
function tick(): void {
  const rt = R;
  if (rt.stopping_) {
    if (rt.stopping_ === 1) {
      rt.stopping_ = 2;
      stop(rt.client_, rt.onStopped_);
    }
    return;
  }
  rt.board_.sys(Sys.KickWatchdog);
  // the client's deadlines (heartbeat, dead link, acks, reconnect): on the board this interval is
  // its timer too (main.ts creates it polled, api.ts ClientOptions.polled; tick at most 1 s)
  tickClient(rt.client_ as JmqtClient);
  if (rt.ota_ && !rt.ota_()) delete rt.ota_;
  const now = Date.now();
  const ins = rt.inputs_;
  for (let n = 0; n < ins.length; n++) {
    const i = ins[n];
    if (!i.period_ || --(i.ticksLeft_ as number) > 0) continue;
    i.ticksLeft_ = i.period_;
    try {
      if ((i.kind_ as number) > Kind.Uptime) {
        (rt.sense_ as any)(rt, i);
        continue;
      }
      if (i.kind_ === Kind.Pulse) {
        // per second over the period, in ticks (Espruino's interval keeps its pace: each run is
        // set from the last one's due time, not from when it ran)
        // (never negative, the count only grows: Math.round alone rounds it as roundTo would, and
        // roundTo, val its one caller, is inlined there by the build: 4 blocks on the board)
        const c = i.count_ as number;
        const p = (i.precision_ as number) || 1;
        const r = Math.round((((c - (i.lastCount_ as number)) * 1000) / (i.period_ * (rt.tickMs_ || Tick.DefaultMs))) * p) / p;
        i.lastCount_ = c;
        pub(i, { n: c, r: r });
        continue;
      }
      const v = val(i);
      if (v !== v) rt.lastError_ = i.name_ + ": no reading";
      else if (i.value_ === undefined || i.deadband_ === undefined || (v !== i.value_ && Math.abs(v - i.value_) >= (i.deadband_ as number))) {
        i.value_ = v;
        pub(i, v);
      }
    } catch (e) {
      rt.lastError_ = rt.prefix_ + i.name_ + ": " + e;
    }
  }
  if (rt.client_.state === S_READY) {
    if (rt.queuedInputs_) flush();
  } else if (rt.safeTicks_ && !rt.safeApplied_ && now - (rt.lostAt_ as number) >= rt.safeTicks_ * (rt.tickMs_ || Tick.DefaultMs)) {
    rt.safeApplied_ = 1;
    for (let n = 0; n < rt.outputs_.length; n++) {
      const o = rt.outputs_[n];
      if (o.pulseTimer_) clearTimeout(o.pulseTimer_);
      o.pulseTimer_ = 0;
      out(o, o.safe_ || 0);
    }
    rt.lastError_ = "no session: outputs in safe state";
  }
}

/** setWatch callback (found by pin): digital inputs publish on change, pulse counters count. */
function onEdge(e: WatchEvent): void {
  const ins = R.inputs_;
  for (let n = 0; n < ins.length; n++) {
    const i = ins[n];
    if (i.pin_ != e.pin || (i.kind_ as number) > Kind.Pulse) continue;
    if (i.kind_ === Kind.Pulse) (i.count_ as number)++;
    else {
      const v = i.invert_ ? (e.state ? 0 : 1) : e.state ? 1 : 0;
      if (v === i.value_) return;
      i.value_ = v;
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
    if (!rt.lostAt_) rt.lostAt_ = Date.now();
    return;
  }
  const dt: any = { online: 1, id: rt.client_.cl, fw: rt.version_ };
  if (rt.configErrors_) dt.err = rt.configErrors_;
  if (rt.failing_) dt.se = rt.failing_;
  delete rt.lostAt_;
  delete rt.safeApplied_;
  rt.client_.pub(rt.prefix_ + "status", dt, 1, 1, null);
  // a verified OTA install on trial (jmqt.try) reached its session: confirm it (docs/ota.md);
  // not while a commit's reboot is pending (dn). The receiver directly: manageCommand would
  // build a reply nobody reads.
  if (!rt.stopping_ && rt.board_.sys(Sys.ReadJson, "jmqt.try")) {
    const h = rt.ota_ || rt.board_.sys(Sys.OtaReceiver);
    if (h) h({ op: "confirm" });
  }
  if (rt.subscribedGroup_ !== rt.group_) {
    if (rt.subscribedGroup_) unsub(rt.client_, rt.subscribedGroup_, null);
    rt.subscribedGroup_ = rt.group_ && sub(rt.client_, rt.group_, 1, null) === ST_OK ? rt.group_ : undefined;
  }
  flush();
}

/**
 * Inbound push: commands on `#<id>` or the group channel (SPEC "P2P"); anything else is ignored.
 * The results of commands that change something are cached by "<sender> <id>" (changeCommand),
 * so a QoS 1 redelivery runs once and gets the same answer; reads (ping, status, get, config
 * read) are answered afresh instead of keeping their larger replies in RAM.
 */
function onPush(cn: string, dt: any, from: string, retained?: number): void {
  const rt = R;
  if (retained || !from) return;
  if (cn !== "#" + rt.client_.cl && !(rt.group_ && cn === rt.group_)) return;
  if (!dt || typeof dt !== "object" || typeof dt.cmd !== "string") return;
  const cmd = dt.cmd;
  const id = dt.id === undefined ? "" : "" + dt.id;
  let res: any;
  if (rt.allow_ && rt.allow_.indexOf(from) < 0) res = "not allowed";
  else {
    // One function per group of commands, each called only for its own (Espruino lexes a
    // function's whole text at each call: a ping lexes only these lines; docs/memory.md "Time"):
    // ping, status and get here, the rest (the commands that change something, whose results
    // are cached for a request that comes again, and the reads of config and ota) in
    // changeCommand. What a command throws becomes its error reply.
    try {
      if (cmd === "ping") res = {};
      else if (cmd === "status") res = /*@__NOINLINE__*/ statusReport(rt);
      else if (cmd === "get") res = /*@__NOINLINE__*/ targetCommand(rt, cmd, dt);
      else res = /*@__NOINLINE__*/ changeCommand(rt, cmd, dt, from + " " + id + "\n");
    } catch (e) {
      res = "failed: " + e;
    }
    // every command answered (changeCommand takes a repeat off again)
    rt.commands_++;
  }
  // the reply is the result object itself (each command returns a fresh one) with re and ok added:
  // copying it into a new object was 4 of a ping's flash reads (espruino-esp8266)
  // (a declaration first: after the if above, Espruino misreads a statement that starts with a
  // string literal, which the minifier makes of a typeof test: the gate's string-after-skip)
  const reply: any = typeof res === "string" ? { err: res, ok: 0 } : res;
  if (reply === res) reply.ok = 1;
  else rt.lastError_ = cmd + ": " + res;
  reply.re = id;
  rt.client_.pub("#" + from, reply, 0, 0, null);
}

/**
 * WiFi `connected` (details with an ip; also called with none when the config has no WiFi) starts
 * the client (which reconnects on its own afterwards; without a server it stays idle). The SDKs
 * retry on their own after a drop, but give up after an authentication failure or a long outage;
 * so each `disconnected` also schedules one Wifi.connect (wifiRetry), with exponential backoff.
 * One function for both events: Espruino's ESP8266 and ESP32 ports give `connected` {ip, ...} and
 * `disconnected` {ssid, mac, reason}; a second function cost 4 blocks for good (docs/memory.md).
 */
export function onWifi(details?: { ip?: string; ssid?: string; mac?: string; reason?: string }): void {
  const rt = R;
  if (!details || details.ip) {
    if (rt.wifiTimer_) clearTimeout(rt.wifiTimer_);
    delete rt.wifiTimer_;
    delete rt.wifiBackoffS_;
    if (rt.client_.state === S_IDLE) start(rt.client_);
  } else if (!rt.wifiTimer_) {
    const s = rt.wifiBackoffS_ || 1;
    rt.wifiTimer_ = setTimeout(wifiRetry, s * 1000);
    rt.wifiBackoffS_ = s < 30 ? s * 2 : 60;
  }
}

/** The next WiFi join after a `disconnected` (a timer callback: kept in flash until set, tools/cold.ts). */
export function wifiRetry(): void {
  const b = R.board_;
  const w = (b.sys(Sys.Config)[0] || {}).wifi;
  delete R.wifiTimer_;
  if (w && typeof w.ssid === "string") b.sys(Sys.WifiConnect, w.ssid, w.password || "");
}

/**
 * Timer target: the end of an output pulse (x is the output), or a reboot (x is 1). A verified
 * OTA update (commit replied) is installed first: the receiver overwrites .bootcde, which this
 * code is read from, and reboots itself (1); it returns 0 when no install is waiting.
 */
export function later(x: Out | number): void {
  if (x === 1) {
    if (!R.ota_ || !R.ota_({ op: "install" })) R.board_.sys(Sys.Reboot);
  } else {
    const o = x as Out;
    o.pulseTimer_ = 0;
    out(o, 1 - o.value_);
  }
}
