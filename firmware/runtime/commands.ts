// P2P commands: dt {"cmd":"<name>","id":"<request id>",...args}. runCommand returns the result
// fields of the reply (an object) or the error reason (a string); on an error nothing else
// happens. The dispatcher in runtime.ts adds "re"/"ok"/"err" and caches the reply.
// One function with a switch rather than a table of handlers: each function object costs RAM.
import type { Inp, Out, Runtime } from "./runtime";
import { isObj, validateConfig } from "./config";
import { S_READY } from "../jmqt/api";

/** The input or output named by a.target, or why there is none. */
function target(rt: Runtime, a: any): Inp | Out | string {
  if (typeof a.target !== "string") return "missing target";
  return rt.find(a.target) || "unknown target " + a.target;
}

/** Outputs carry a name field, inputs only their channel. */
function isOut(t: Inp | Out): t is Out {
  return (t as Out).n !== undefined;
}

function endPulse(rt: Runtime, o: Out): void {
  o.pt = 0;
  rt.out(o, 1 - o.v);
}

/** A copy of the config with secrets masked, for `config` reads. */
function redact(cfg: any): any {
  const c: any = {};
  for (const k in cfg) c[k] = cfg[k];
  if (isObj(c.wifi) && c.wifi.password !== undefined) c.wifi = { ssid: c.wifi.ssid, password: "***" };
  if (isObj(c.server) && c.server.token !== undefined) {
    const s: any = {};
    for (const k in c.server) s[k] = c.server[k];
    s.token = "***";
    c.server = s;
  }
  return c;
}

/**
 * Runs one command. ping; status; get {target}; set {target, value}; toggle {target};
 * pulse {target, ms}; config (no args: read, secrets masked; {set:{...}}: merge top-level keys,
 * validate, write Storage, apply; id/server/wifi changes reboot after the reply); reboot.
 */
export function runCommand(rt: Runtime, cmd: string, a: any): any {
  if (cmd === "ping") return {};
  if (cmd === "status") return rt.status();
  if (cmd === "reboot") {
    rt.reboot(1000);
    return {};
  }
  if (cmd === "config") {
    const cur = rt.o.load() || {};
    if (a.set === undefined) return { cfg: redact(cur) };
    if (!isObj(a.set)) return "set must be an object";
    const next: any = {};
    for (const k in cur) next[k] = cur[k];
    let restart = 0;
    for (const k in a.set) {
      next[k] = a.set[k];
      if (k === "id" || k === "server" || k === "wifi") restart = 1;
    }
    const errs = validateConfig(next, rt.o.board());
    if (errs.length) return "invalid config: " + errs.join("; ");
    if (!rt.b.storageWrite(rt.o.file || "jmqt.json", JSON.stringify(next))) return "storage write failed";
    if (restart) {
      rt.reboot(1000);
      return { reboot: 1 };
    }
    rt.apply(next);
    if (rt.cl.state === S_READY) rt.ready();
    return { applied: 1 };
  }
  if (cmd !== "get" && cmd !== "set" && cmd !== "toggle" && cmd !== "pulse") return "unknown command " + cmd;
  const t = target(rt, a);
  if (typeof t === "string") return t;
  if (cmd === "get") {
    if (isOut(t)) return { v: t.v };
    if (t.k === 0) return { v: rt.dig(t) };
    if (t.k === 2) return { v: t.cnt };
    const x = rt.raw(t, rt.b.now());
    return { v: x === x ? Math.round((x * t.sc + t.of) * t.m) / t.m : null };
  }
  if (!isOut(t)) return a.target + " is an input";
  let v = a.value;
  if (cmd === "pulse") {
    if (t.k) return t.n + " is PWM, pulse needs a digital output";
    if (typeof a.ms !== "number" || !(a.ms >= 1 && a.ms <= 60000)) return "bad ms (1..60000)";
    if (t.pt) return t.n + " is already pulsing";
    rt.out(t, 1 - t.v);
    t.pt = setTimeout(endPulse, a.ms, rt, t);
    return { v: t.v };
  }
  if (cmd === "toggle") v = t.k ? (t.v > 0 ? 0 : 1) : 1 - t.v;
  else if (v === true || v === false) v = v ? 1 : 0;
  if (typeof v !== "number" || !(v >= 0 && v <= 1) || (!t.k && v !== 0 && v !== 1))
    return "bad value for " + t.n + (t.k ? " (0..1)" : " (0 or 1)");
  if (t.pt) clearTimeout(t.pt);
  t.pt = 0;
  rt.out(t, v);
  return { v: v };
}
