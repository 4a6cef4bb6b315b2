// The real Espruino 2v29 interpreter (Linux build of the board's C core, ../shared/espruino/bin/)
// for the benches: a bundle booted from Storage like a board by EspruinoBoard (sim/espruino/board.ts:
// the board shim as .boot0, the bundle as .bootcde, jmqt.json, the other Storage files, uploaded
// over its TCP control connection, then load()), connected to a fresh broker. Used by
// `npm run bench -- memory` and `npm run bench -- drivers`.
//
// Figures are blocks (process.memory().usage, which runs a garbage collection first), and the
// firmware's cost is usage with the firmware minus usage with the shim alone (baseline()), as in
// test/runtime/memory.real.test.ts.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startBroker, type Broker } from "../sim/broker";
import { EspruinoBoard, shimBaseline } from "../sim/espruino/board";
import type { BoardId } from "../sim/hw/pins";
import { ask, peer, stopPeer, type Peer } from "./load-espruino";

const ROOT = resolve(__dirname, "..");
const TOKEN = "test-token";

/** the Storage files drv.* of a board, as npm run build leaves them in dist/ */
export function driverFiles(board: string, names = ["run", "bus", "bme280", "ds18b20", "dht"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) out["drv." + n] = readFileSync(join(ROOT, "dist", `${board}.drv.${n}.js`), "latin1");
  return out;
}

export const SENSOR_INPUTS = [
  { name: "air", type: "bme280", sda: "D4", scl: "D5", period: 1000 },
  { name: "water", type: "ds18b20", pin: "D2", period: 1000 },
  { name: "room", type: "dht22", pin: "D12", period: 2000 },
];

/** Reads dist/<board>.bootcde, the bundle as flashed (npm run build makes it). */
export function bundle(board: string): string {
  return readFileSync(join(ROOT, "dist", board + ".bootcde"), "latin1");
}

/** Blocks in use with the shim alone (the baseline every firmware figure is measured over). */
export async function baseline(board: BoardId): Promise<number> {
  return (await shimBaseline(board)).usage;
}

/** A device on the real interpreter, connected to an in-process broker, with a Node peer that sends it commands. */
export interface LiveDevice {
  dev: EspruinoBoard;
  broker: Broker;
  id: string;
  /** blocks in use now (after a GC) */
  usage(): Promise<number>;
  /** sends one command from the peer "admin" and resolves with the reply */
  command(dt: any): Promise<any>;
  /** drops the device's session at the broker and resolves once it is connected again */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

export interface LiveOptions {
  /** ms of idling after the first status (default 600) */
  idleMs?: number;
  /** more Storage files (the sensor files drv.*) */
  files?: Record<string, string>;
  /** the station associated from power-on, for a bundle without the Wifi module (bench/entries/client-only.js) */
  joined?: boolean;
}

/**
 * Boots `bundleText` with `config` (its server and wifi replaced so that it connects to a fresh
 * broker on 127.0.0.1, through the board's link) and resolves once the device has published its
 * status and gone idle.
 */
export async function liveDevice(board: BoardId, bundleText: string, config: any, o: LiveOptions = {}): Promise<LiveDevice> {
  const broker = await startBroker({ port: 0, token: TOKEN });
  const cfg = JSON.parse(JSON.stringify(config));
  cfg.server = { host: "127.0.0.1", port: broker.port, token: TOKEN };
  cfg.wifi = { ssid: "stub", password: "x" };
  const id = cfg.id;
  let sessions = 0;
  broker.on("packet", (ev: any) => {
    if (ev.dir === "in" && ev.cl === id && ev.type === "pub" && ev.body.cn === (cfg.prefix || "") + "status") sessions++;
  });
  // no PIN_METHODS in .boot1: the baseline (the shim alone) has none either
  const dev = new EspruinoBoard({ board, code: bundleText, config: cfg, storage: o.files || {}, pinMethods: false, wifi: { joined: !!o.joined } });
  let p: Peer | undefined;
  const until = async (what: string, f: () => boolean, ms = 15000) => {
    if (!(await dev.waitFor(f, ms))) throw new Error("timeout: " + what + "\n" + dev.console.slice(-20).join("\n"));
  };
  try {
    await dev.boot();
    await until("first session", () => sessions > 0);
    await dev.sleep(o.idleMs ?? 600);
    p = await peer(broker.port, TOKEN);
  } catch (err) {
    await stopPeer(p);
    await dev.stop();
    await broker.close();
    throw err;
  }
  const admin = p;
  let seq = 0;
  return {
    dev,
    broker,
    id,
    async usage() {
      return (await dev.memory()).usage;
    },
    async command(dt: any) {
      const want = "r" + ++seq;
      const r = await ask(admin, id, { ...dt, id: want });
      if (!r) throw new Error("no reply to " + JSON.stringify(dt) + "\n" + dev.console.slice(-20).join("\n"));
      return r;
    },
    async reconnect() {
      const before = sessions;
      broker.kick(id);
      await until("reconnect", () => sessions > before, 20000);
    },
    async close() {
      await stopPeer(admin);
      await dev.stop();
      await broker.close();
    },
  };
}
