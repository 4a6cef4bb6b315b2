// P2P commands: dt {"cmd":"<name>","id":"<request id>",...args}: ping; status; get, set, toggle,
// pulse on a target; config; reboot; ota. The dispatcher in runtime.ts (onPush) answers ping
// itself and calls one function per group here: targetCommand (get), statusReport, manageCommand
// (the reads of config and ota) and changeCommand (the rest). Each returns the result fields of
// the reply (an object made for this call, to which onPush adds "re" and "ok") or the error reason
// (a string, which onPush makes the reply's "err"); on an error nothing else happens. onPush caches
// the reply of a change. All but targetCommand run seldom and stay
// in flash until they do (tools/cold.ts): each function object costs RAM on the board
// (docs/memory.md).
import { Sys } from "../board";
import type { Device, Inp, Out } from "./runtime";
import { later, out, run, shutdown, val } from "./runtime";
import { validateConfig } from "./config";

/**
 * The commands on a named input or output: get {target}; set {target, value}; toggle {target};
 * pulse {target, ms}: get from onPush (runtime.ts), the other three from changeCommand. A
 * function of their own: Espruino lexes a function's whole text at each call, also what follows
 * a return, so while ping returned from the first line of one function holding these, a ping
 * lexed all of them (50 of its 320 flash reads, measured on espruino-esp8266).
 */
export function targetCommand(rt: Device, cmd: string, a: any): any {
  const name = a.target;
  if (typeof name !== "string") return "missing target";
  let input: Inp | null = null;
  let o: Out | null = null;
  for (let n = 0; n < rt.inputs_.length; n++) if (rt.inputs_[n].name_ === name) input = rt.inputs_[n];
  for (let n = 0; n < rt.outputs_.length; n++) if (rt.outputs_[n].name_ === name) o = rt.outputs_[n];
  if (!o && !input) return "unknown target " + name;
  if (cmd === "get") {
    if (o) return { v: o.value_ };
    const x = val(input as Inp);
    return { v: x === x ? x : null };
  }
  if (!o) return name + " is an input";
  let v = a.value;
  if (cmd === "pulse") {
    if (o.pwm_) return name + " is PWM, pulse needs a digital output";
    if (typeof a.ms !== "number" || !(a.ms >= 1 && a.ms <= 60000)) return "bad ms (1..60000)";
    if (o.pulseTimer_) return name + " is already pulsing";
    out(o, 1 - o.value_);
    o.pulseTimer_ = setTimeout(later, a.ms, o);
    return { v: o.value_ };
  }
  if (cmd === "toggle") v = o.pwm_ ? (o.value_ > 0 ? 0 : 1) : 1 - o.value_;
  else if (v === true || v === false) v = v ? 1 : 0;
  if (typeof v !== "number" || !(v >= 0 && v <= 1) || (!o.pwm_ && v !== 0 && v !== 1)) return "bad value for " + name + (o.pwm_ ? " (0..1)" : " (0 or 1)");
  if (o.pulseTimer_) clearTimeout(o.pulseTimer_);
  o.pulseTimer_ = 0;
  out(o, v);
  return { v: v };
}

/** Bound of the reply cache: a redelivered request is answered from it (duplicates come within seconds). */
const enum Cache {
  Replies = 4,
}

/**
 * The commands that change something: set, toggle, pulse (targetCommand), config with set,
 * reboot, ota but its state (manageCommand), and unknown ones; and the reads of config and ota
 * state, which are answered afresh (manageCommand). A QoS 1 request can come again (its pushAck
 * lost), so a change must not run twice: its result is kept under key ("<sender> <id>\n", see
 * onPush), and a request that comes again gets that result back without running (nor being
 * counted in nc: onPush counts every command it answers, so a repeat takes one off). What the
 * command throws is its result too ("failed: ..."). Kept in flash until called (tools/cold.ts):
 * out of onPush, its text is not lexed for every ping, status and get (with the cache and the
 * config/ota read test, 20 of a ping's flash reads, on espruino-esp8266).
 */
export function changeCommand(rt: Device, cmd: string, a: any, key: string): any {
  let res: any;
  if ((cmd === "config" && a.set === undefined) || (cmd === "ota" && a.op === "state")) return /*@__NOINLINE__*/ manageCommand(rt, cmd, a);
  // (made at the first change: an empty array costs the board 2 blocks)
  const replies = rt.replies_ || (rt.replies_ = []);
  for (let n = 0; n < replies.length; n++) {
    if (replies[n].substr(0, key.length) === key) {
      rt.commands_--;
      return JSON.parse(replies[n].substr(key.length));
    }
  }
  try {
    if (cmd === "set" || cmd === "toggle" || cmd === "pulse") res = /*@__NOINLINE__*/ targetCommand(rt, cmd, a);
    else if (cmd === "ota" || cmd === "reboot" || cmd === "config") res = /*@__NOINLINE__*/ manageCommand(rt, cmd, a);
    else res = "unknown command " + cmd;
  } catch (e) {
    res = "failed: " + e;
  }
  if (replies.length >= Cache.Replies) replies.shift();
  replies.push(key + JSON.stringify(res));
  return res;
}

/**
 * The status command's reply: uptime, memory, RSSI, version, the client's counters, the queue,
 * the last errors, the OTA result and failing sensors. Out of the dispatcher: Espruino lexes a
 * function's whole text at each call, and this object's text was lexed for every ping, get and set
 * (measured on espruino-esp8266: docs/memory.md "Time").
 */
export function statusReport(rt: Device): any {
  const b = rt.board_;
  const k = rt.client_.counters;
  return {
    up: Math.floor((Date.now() - rt.bootAt_) / 1000),
    free: b.sys(Sys.FreeBlocks),
    tot: b.sys(Sys.TotalBlocks),
    rssi: b.sys(Sys.Rssi),
    fw: rt.version_,
    // every counter, its zeros too (the client keeps them absent while 0)
    c: { fi: k.fi, fo: k.fo, bad: k.bad || 0, big: k.big || 0, heavy: k.heavy || 0, rc: k.rc || 0, qd: k.qd || 0 },
    ce: rt.client_.err,
    np: rt.published_,
    nc: rt.commands_,
    q: rt.queuedInputs_ ? rt.queuedInputs_.length : 0,
    qd: rt.dropped_ || 0,
    err: rt.lastError_,
    ota: b.sys(Sys.ReadJson, "jmqt.res"),
    se: rt.failing_,
  };
}

/**
 * The rare commands that manage the device: ota, reboot, config. Out of the dispatcher: Espruino
 * lexes a function's whole text at every call, also what follows a return, so these 1,000
 * characters cost every ping, get and set (measured on espruino-esp8266 when one function ran
 * every command: a ping 0.72 ms with them in it, 0.42 ms without).
 */
export function manageCommand(rt: Device, cmd: string, a: any): any {
  if (cmd === "ota") {
    const h = rt.ota_ || rt.board_.sys(Sys.OtaReceiver);
    if (!h) return "ota receiver not in Storage (flash it)";
    const r = h(a);
    if (h()) rt.ota_ = h;
    else delete rt.ota_;
    if (r.reboot) {
      shutdown();
      setTimeout(later, 1000, 1);
    }
    return r;
  }
  let next: any = {};
  if (cmd === "config") {
    const cur = rt.board_.sys(Sys.Config)[0] || {};
    const set = a.set;
    for (const k in cur) next[k] = cur[k];
    if (set === undefined) {
      const w = next.wifi;
      const srv = next.server;
      if (w && w.password !== undefined) next.wifi = { ssid: w.ssid, password: "***" };
      if (srv && srv.token !== undefined) {
        const m: any = (next.server = {});
        for (const k in srv) m[k] = srv[k];
        m.token = "***";
      }
      return { cfg: next };
    }
    if (!set || typeof set !== "object" || Array.isArray(set)) return "set must be an object";
    let restart = 0;
    for (const k in set) {
      next[k] = set[k];
      if (k === "id" || k === "server" || k === "wifi") restart = 1;
    }
    const errs = validateConfig(next, rt.board_.sys(Sys.BoardInfo));
    if (errs.length) return "invalid config: " + errs.join("; ");
    if (!rt.board_.sys(Sys.WriteFile, "jmqt.json", JSON.stringify(next))) return "storage write failed";
    if (!restart) {
      run(next);
      return { applied: 1 };
    }
    next = { reboot: 1 };
  }
  shutdown();
  setTimeout(later, 1000, 1);
  return next;
}
