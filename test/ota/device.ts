// OTA end to end through the REAL firmware bundle: the scenarios of test/ota/device.test.ts, run
// on either engine (the V8 model SimBoard on a real clock, or the real interpreter EspruinoBoard):
// the built dist/<board>.js as v1 with the built .boot1 guard and jmqt.otr receiver in Storage,
// the real broker on loopback TCP, and the `jmqt ota` sender (sim/ota-sender.ts) on a Node client.
// v2 is the same bundle with another FW_VERSION (the version string patched in a copy).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startBroker, type Broker } from "../../sim/broker";
import type { Device } from "../../sim/device";
import { bundleCrc, sendOta, type OtaOptions, type OtaOutcome } from "../../sim/ota-sender";
import { ST_OK } from "../../firmware/jmqt/api";
import type { Client } from "../../firmware/jmqt/api";
import { Peer } from "../jmqt/client-peer";
import { p2p } from "../../firmware/jmqt/client";

export const ROOT = join(__dirname, "..", "..");
export const TOKEN = "tok";
export const V1 = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
export const V2 = "9.9.9";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** dist/<board>.bootcde (as flashed: pretokenised), and the same bundle reporting `version` (FW_VERSION appears once, as a string literal). */
export function bundles(board: string): { v1: string; v2: string; crashing: string; silent: string } {
  const v1 = readFileSync(join(ROOT, "dist", board + ".bootcde"), "latin1");
  const lit = JSON.stringify(V1);
  assert.equal(v1.split(lit).length, 2, `FW_VERSION ${lit} once in dist/${board}.bootcde`);
  // and the boot banner, where terser folded the constant into the text
  const v2 = v1.replace(lit, JSON.stringify(V2)).split("jmqt " + V1 + " ").join("jmqt " + V2 + " ");
  // a v2 that throws at boot: it never reaches a session, so it never confirms
  // a v2 that boots and runs but cannot open a connection: it never confirms either
  const silent = 'require("net").connect=function(){throw new Error("v2 cannot connect")};' + v2;
  return { v1, v2, crashing: 'throw new Error("v2 crashes at boot");' + v2, silent };
}

export function storageFiles(board: string): Record<string, string> {
  return {
    ".boot1": readFileSync(join(ROOT, "dist", "boot1.js"), "latin1"),
    "jmqt.otr": readFileSync(join(ROOT, "dist", board + ".ota.js"), "latin1"),
  };
}

/** The example config for the board against the test broker, with one QoS 1 reading every 500 ms (uptime). */
export function otaConfig(board: "esp8266" | "esp32", port: number): any {
  const cfg = JSON.parse(readFileSync(join(ROOT, "examples", board === "esp32" ? "device.json" : "device-esp8266.json"), "utf8"));
  cfg.server = { host: "127.0.0.1", port, token: TOKEN };
  cfg.inputs = [{ name: "up", type: "uptime", period: 500, q: 1 }];
  return cfg;
}


export interface Rig {
  board: "esp8266" | "esp32";
  cfg: any;
  d: Device;
  broker: Broker;
  admin: Peer;
  P: string;
}

let seq = 0;

/** P2P request from `p` (default admin); resolves with the reply dt. */
export async function ask(r: Rig, dt: any, p: Peer = r.admin, ms = 10000): Promise<any> {
  dt = { id: "t" + ++seq, ...dt };
  const mine = () => p.on("#" + p.c.cl).filter((m) => m.dt && m.dt.re === dt.id);
  assert.equal(p2p(p.c, r.cfg.id, dt, 1), ST_OK);
  assert.ok(await r.d.waitFor(() => mine().length > 0, ms), `${r.cfg.id}: no reply to ${JSON.stringify(dt).slice(0, 120)}\n${r.d.console.slice(-15).join("\n")}`);
  return mine()[0].dt;
}

/** Waits until the device answers status with fw `fw` (it may be rebooting). */
export async function waitFw(r: Rig, fw: string, ms: number): Promise<any> {
  const end = Date.now() + ms;
  let last: any;
  while (Date.now() < end) {
    last = await ask(r, { cmd: "status" }, r.admin, 2000).catch(() => null);
    if (last && last.fw === fw) return last;
    await sleep(300);
  }
  assert.fail(`${r.cfg.id}: status fw ${fw} not seen within ${ms} ms (last: ${JSON.stringify(last)})\n${r.d.console.slice(-20).join("\n")}`);
}

export async function waitOnline(r: Rig, ms: number): Promise<void> {
  assert.ok(await r.d.waitFor(() => r.admin.on(r.P + "status").some((m) => m.dt.online === 1), ms), `${r.cfg.id}: not online\n${r.d.console.slice(-20).join("\n")}`);
}

export function send(r: Rig, bundle: string, extra: Partial<OtaOptions> = {}, client: Client = r.admin.c): Promise<OtaOutcome> {
  return sendOta(client, { device: r.cfg.id, bundle, version: V2, trial: 8, ackMs: 3000, backMs: 40000, ...extra });
}

/** q1 readings of `up` (uptime, every 500 ms) received between t0 and t1: their largest gap in ms. */
export function readingGap(r: Rig, t0: number, t1: number): { n: number; gap: number } {
  const ts = r.admin.on(r.P + "up").map((m) => m.t).filter((t) => t >= t0 && t <= t1);
  let gap = 0;
  for (let i = 1; i < ts.length; i++) gap = Math.max(gap, ts[i] - ts[i - 1]);
  if (ts.length) gap = Math.max(gap, ts[0] - t0, t1 - ts[ts.length - 1]);
  return { n: ts.length, gap };
}

export { bundleCrc, startBroker };
