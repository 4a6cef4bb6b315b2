// Desktop side of the `ota` command family (docs/ota.md): sends a bundle to a device over P2P
// commands on an open JMQT session: begin, numbered base64 chunks (a small window in flight, each
// acknowledged; resent on silence with the same request id, again with a new one when the device
// asks), commit; then waits for the device to come back from its reboot and report the update's
// result (`ota` op `state`): confirmed by the new firmware, or rolled back by the boot guard.
import { crc32 } from "node:zlib";
import type { Client } from "../firmware/jmqt/api";
import { ST_CLIENT_OFFLINE, ST_OK } from "../firmware/jmqt/api";
import { p2p } from "../firmware/jmqt/client";

export interface OtaOptions {
  device: string;
  /** the bundle as bytes (latin1 string: what Storage holds) */
  bundle: string;
  /** version label the device records (jmqt.res) and should report as fw */
  version: string;
  /** raw bytes per chunk (base64 makes 4/3 of it); 512 fits the ESP8266's 1024-byte frames */
  chunk?: number;
  /** chunks in flight */
  window?: number;
  /** seconds the new firmware has to confirm (device's trial time) */
  trial?: number;
  /** ms to wait for one reply */
  ackMs?: number;
  /** sends of one request before giving up */
  tries?: number;
  /** ms to wait for the device to come back after the commit (default trial + 60 s) */
  backMs?: number;
  /** progress: bytes acknowledged of total; phase "send" | "commit" | "wait" */
  progress?: (done: number, total: number, phase: string) => void;
  log?: (line: string) => void;
}

export interface OtaOutcome {
  ok: boolean;
  /** the device's reason (refusal, rollback) or ours (no answer) */
  message: string;
  /** fw the device reports once back */
  fw?: string;
  resent: number;
}

export function bundleCrc(bundle: string): number {
  return crc32(Buffer.from(bundle, "latin1")) >>> 0;
}

type Answer = { reply?: any; offline?: 1; refused?: number; timeout?: 1 };

let seq = 0;

/** Runs one update on `client` (READY). Never throws. */
export async function sendOta(client: Client, o: OtaOptions): Promise<OtaOutcome> {
  const cs = o.chunk || 512;
  const win = o.window || 2;
  const trial = o.trial || 60;
  const ackMs = o.ackMs || 3000;
  const tries = o.tries || 5;
  const total = o.bundle.length;
  const m = Math.ceil(total / cs);
  const crc = bundleCrc(o.bundle);
  const log = o.log || (() => undefined);
  const progress = o.progress || (() => undefined);
  const waiting = new Map<string, (a: Answer) => void>();
  let resent = 0;
  const prevPush = client.onPush;
  client.onPush = (cn, body, from, rt) => {
    if (body && typeof body === "object" && typeof body.re === "string" && waiting.has(body.re) && (!from || from === o.device)) {
      const done = waiting.get(body.re)!;
      waiting.delete(body.re);
      done({ reply: body });
      return;
    }
    if (prevPush) prevPush(cn, body, from, rt);
  };
  const newId = () => `${process.pid.toString(36)}.o${(++seq).toString(36)}`;

  /** One send of a request; resolves with the reply, offline, a refused publish or a timeout. */
  function once(dt: any, ms: number): Promise<Answer> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (a: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        waiting.delete(dt.id);
        resolve(a);
      };
      const timer = setTimeout(() => finish({ timeout: 1 }), ms);
      waiting.set(dt.id, finish);
      const st = p2p(client, o.device, dt, 1, (ack: number) => {
        if (ack === ST_CLIENT_OFFLINE) finish({ offline: 1 });
        else if (ack !== ST_OK) finish({ refused: ack });
      });
      if (st !== ST_OK) finish({ refused: st });
    });
  }

  /** A request with resends on silence (same id: the device's reply cache answers a repeat). */
  async function ask(args: any, ms = ackMs, n = tries): Promise<Answer> {
    const dt = { cmd: "ota", id: newId(), ...args };
    let a: Answer = { timeout: 1 };
    for (let k = 0; k < n; k++) {
      if (k) resent++;
      a = await once(dt, ms);
      if (!a.timeout && !a.offline) return a;
      if (a.offline) await sleep(Math.min(ms, 1000));
    }
    return a;
  }

  const fail = (message: string, fw?: string): OtaOutcome => ({ ok: false, message, fw, resent });
  const why = (what: string, a: Answer) =>
    a.reply ? `${o.device} refused ${what}: ${a.reply.err ?? "failed"}` : a.offline ? `device "${o.device}" is not connected` : a.refused !== undefined ? `${what}: publish refused (status ${a.refused})` : `${what}: no answer from ${o.device} after ${tries} tries`;

  try {
    // 1. begin (a begin of the same bundle resumes an open update where it is)
    const b = await ask({ op: "begin", size: total, crc, v: o.version, cs, t: trial });
    if (!b.reply || b.reply.ok !== 1) return fail(why("begin", b));
    let base = typeof b.reply.n === "number" ? b.reply.n : 0;
    log(`${o.device}: update to ${o.version} begun: ${total} bytes, ${m} chunks of ${cs}, crc ${crc}` + (base ? `, resuming at chunk ${base}` : ""));
    progress(Math.min(base * cs, total), total, "send");
    // 2. chunks, `win` at a time; the device's `n` (next chunk it wants) drives where we are
    let stuck = 0;
    while (base < m) {
      const batch: number[] = [];
      for (let k = base; k < m && k < base + win; k++) batch.push(k);
      const answers = await Promise.all(
        batch.map((k) => {
          const raw = o.bundle.slice(k * cs, (k + 1) * cs);
          return ask({ op: "chunk", n: k, d: Buffer.from(raw, "latin1").toString("base64"), c: bundleCrc(raw) });
        }),
      );
      const before = base;
      for (let j = 0; j < answers.length; j++) {
        const a = answers[j];
        if (a.reply && a.reply.ok === 1) {
          if (typeof a.reply.n === "number" && a.reply.n > base) base = a.reply.n;
          continue;
        }
        if (!a.reply) return fail(why(`chunk ${batch[j]}`, a));
        const err = String(a.reply.err ?? "");
        const exp = /expected (\d+)$/.exec(err);
        if (/^out of order/.test(err) && exp) {
          base = Math.max(base, Number(exp[1]));
          break;
        }
        if (/send it again|bytes, expected/.test(err)) {
          resent++;
          break; // the next batch starts at this chunk, with new request ids
        }
        return fail(why(`chunk ${batch[j]}`, a));
      }
      stuck = base > before ? 0 : stuck + 1;
      if (stuck >= tries) return fail(`chunk ${base}: refused ${tries} times in a row`);
      progress(Math.min(base * cs, total), total, "send");
    }
    // 3. commit: the device verifies, installs (keeping the old firmware) and reboots
    progress(total, total, "commit");
    const c = await ask({ op: "commit" }, Math.max(ackMs, 15000), 2);
    if (!c.reply || c.reply.ok !== 1) return fail(why("commit", c));
    log(`${o.device}: installed, rebooting into ${o.version} (trial ${trial} s)`);
    // 4. back? The new firmware confirms once it has its session; the guard restores the old one
    // if it does not within the trial time. The device's result says which.
    progress(total, total, "wait");
    const end = Date.now() + (o.backMs || trial * 1000 + 60000);
    await sleep(1500);
    while (Date.now() < end) {
      const s = await ask({ op: "state" }, 2000, 1);
      const r = s.reply;
      if (r && r.ok === 1 && r.st === "idle" && r.res && r.res.v === o.version) {
        const fw = await firmware(once, newId);
        if (r.res.ok === 1) return { ok: true, message: `${o.device} runs ${o.version}` + (fw && fw !== o.version ? ` (it reports fw ${fw})` : ""), fw, resent };
        return fail(`${o.device} rolled back: ${r.res.err || "update failed"}` + (fw ? ` (it runs ${fw})` : ""), fw);
      }
      await sleep(1000);
    }
    return fail(`${o.device} did not come back with ${o.version} within ${Math.round((o.backMs || trial * 1000 + 60000) / 1000)} s`);
  } finally {
    client.onPush = prevPush;
    for (const done of waiting.values()) done({ timeout: 1 });
  }
}

/** fw from the device's `status` reply (undefined if it does not answer). */
async function firmware(once: (dt: any, ms: number) => Promise<Answer>, newId: () => string): Promise<string | undefined> {
  const a = await once({ cmd: "status", id: newId() }, 2000);
  return a.reply && a.reply.ok === 1 && typeof a.reply.fw === "string" ? a.reply.fw : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A progress renderer for stderr: one rewritten line on a TTY, a plain line per 10 % otherwise. */
export function progressBar(write: (s: string) => void, tty: boolean): (done: number, total: number, phase: string) => void {
  let lastDecile = -1;
  let lastPhase = "";
  return (done, total, phase) => {
    const pct = total ? Math.floor((100 * done) / total) : 100;
    if (tty) {
      const w = 30;
      const fill = Math.round((w * pct) / 100);
      const label = phase === "send" ? `${done}/${total} bytes` : phase === "commit" ? "installing" : "waiting for the device";
      write(`\r[${"#".repeat(fill)}${"-".repeat(w - fill)}] ${String(pct).padStart(3)}% ${label}\x1b[K` + (phase === "wait" ? "\n" : ""));
      return;
    }
    const decile = Math.floor(pct / 10);
    if (phase !== lastPhase || decile !== lastDecile) {
      if (phase === "send") write(`ota: ${pct}% (${done}/${total} bytes)\n`);
      else if (phase !== lastPhase) write(phase === "commit" ? "ota: all chunks acknowledged, committing\n" : "ota: waiting for the device to come back\n");
      lastDecile = decile;
      lastPhase = phase;
    }
  };
}
