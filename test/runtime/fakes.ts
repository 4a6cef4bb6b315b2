// A fake Board (pins as numbers, recorded writes, watch callbacks) and the real JMQT client over
// a fake net with a recording pub (records pub/p2p/sub, lets a test drive the session state and
// the BUSY answer).
import type { Board, WatchEvent } from "../../firmware/board";
import { Io, Sys, type PinMode } from "../../firmware/board";
import { strict as assert } from "node:assert";
import type { Client, ClientOptions, StatusCb } from "../../firmware/jmqt/api";
import { S_BACKOFF, S_READY, S_STOPPED, ST_BUSY, ST_NETWORK_ERROR, ST_OK } from "../../firmware/jmqt/api";
import { createClient, start, type JmqtClient } from "../../firmware/jmqt/client";
import { FakeNet, SESSION_OPTIONS } from "../jmqt/fake";
import type { BoardInfo } from "../../firmware/runtime/config";
import esp32 from "../../boards/esp32.json";
import esp8266 from "../../boards/esp8266.json";
import { pinList } from "../../tools/api";

export function boardInfo(name: "esp32" | "esp8266"): BoardInfo {
  const b: any = name === "esp32" ? esp32 : esp8266;
  return {
    id: b.id, family: b.family, pins: pinList(b.pins), analog: pinList(b.analog), inputOnly: pinList(b.inputOnly), pwm: pinList(b.pwm),
    noWatch: pinList(b.noWatch), reserved: pinList(Object.keys(b.reserved)), led: b.led, ledActiveLow: b.ledActiveLow,
    button: b.button, hasTemperature: b.hasTemperature, blocks: b.memory.blocks, ...b.defaults,
  };
}

/** A Board (firmware/board.ts) over plain fields; read/analog/write/pwm/memory are the
 *  per-operation hooks io() and sys() call, so a test can replace one (to make it throw, say). */
export class FakeBoard implements Board {
  info: BoardInfo;
  net: any = { connect() { throw new Error("no net in unit tests"); } };
  pins: Record<number, number> = {};
  analogs: Record<number, number> = {};
  modes: Record<number, string> = {};
  writes: Array<[number, number]> = [];
  pwms: Array<[number, number, number]> = [];
  watches: Array<{ fn: (e: WatchEvent) => void; pin: number; opts: { repeat: boolean; edge?: string; debounce?: number }; off: boolean }> = [];
  temp = 21.37;
  free = 1200;
  rssiValue = -61;
  storage: Record<string, string> = {};
  kicks = 0;
  reboots = 0;
  watchdog = 0;
  logs: string[] = [];
  killHandlers: Array<() => void> = [];
  wifiHandlers: Record<string, Array<(d?: any) => void>> = {};
  wifiCalls: Array<[string, string]> = [];
  /** the board's pin names; a pin's number is its index here */
  pinNames: string[];
  constructor(name: "esp32" | "esp8266" = "esp32") {
    this.info = boardInfo(name);
    this.pinNames = (name === "esp32" ? esp32 : esp8266).pins;
  }
  pin(name: string) { const i = this.pinNames.indexOf(name); return i < 0 ? undefined : i; }
  pinOf(name: string): number { const p = this.pin(name); if (p === undefined) throw new Error(name); return p; }
  io(op: Io | PinMode, pin: number, v?: number, f?: number): number {
    if (op === Io.DigitalRead) return this.read(pin);
    if (op === Io.AnalogRead) return this.analog(pin);
    if (op === Io.DigitalWrite) this.write(pin, v!);
    else if (op === Io.PwmWrite) this.pwm(pin, v!, f!);
    else this.modes[pin] = op as string;
    return 0;
  }
  read(pin: number) { return this.pins[pin] || 0; }
  write(pin: number, value: number) { this.pins[pin] = value; this.writes.push([pin, value]); }
  analog(pin: number) { return this.analogs[pin] || 0; }
  pwm(pin: number, duty: number, freq: number) { this.pins[pin] = duty; this.pwms.push([pin, duty, freq]); }
  watch(fn: ((e: WatchEvent) => void) | null, pin?: number, edge?: string, debounce?: number) {
    if (!fn) for (const w of this.watches) w.off = true;
    else this.watches.push({ fn, pin: pin!, opts: { repeat: true, edge, debounce }, off: false });
  }
  memory() { return { free: this.free, total: 1600, usage: 1600 - this.free }; }
  /** what sys(Sys.Config) returns while storage has no jmqt.json: the baked config and the problem ("" for none) */
  config: [any, string] = [null, ""];
  /** what sys(Sys.OtaReceiver) returns while storage has a "jmqt.otr" (the OTA receiver's handler), and how often it was asked */
  ota: ((a?: any) => any) | undefined;
  otaLoads = 0;
  sys(op: Sys, x?: any, y?: any): any {
    if (op === Sys.PinByName) return this.pin(x);
    if (op === Sys.Watch) return void this.watch(x, y.pin, y.edge, y.debounce);
    if (op === Sys.ClearWatches) return void this.watch(null);
    if (op === Sys.Temperature) return this.temp;
    if (op === Sys.Rssi) return this.rssiValue;
    if (op === Sys.FreeBlocks) return this.memory().free;
    if (op === Sys.TotalBlocks) return this.memory().total;
    if (op === Sys.BoardInfo) return JSON.parse(JSON.stringify(this.info));
    if (op === Sys.Config) return this.storage["jmqt.json"] ? [JSON.parse(this.storage["jmqt.json"]), ""] : this.config;
    if (op === Sys.WriteFile) {
      this.storage[x] = y!;
      return true;
    }
    if (op === Sys.ReadJson) {
      try {
        return this.storage[x] === undefined ? undefined : JSON.parse(this.storage[x]);
      } catch {
        return undefined;
      }
    }
    if (op === Sys.OtaReceiver) {
      this.otaLoads++;
      return this.storage["jmqt.otr"] === undefined ? undefined : this.ota;
    }
    if (op === Sys.KickWatchdog) this.kicks++;
    else if (op === Sys.EnableWatchdog) this.watchdog = x;
    else if (op === Sys.Reboot) this.reboots++;
    else if (op === Sys.Log) this.logs.push(x);
    else if (op === Sys.OnKill) this.killHandlers.push(x);
    else if (op === Sys.OnWifi) for (const ev of ["connected", "disconnected"]) (this.wifiHandlers[ev] = this.wifiHandlers[ev] || []).push(x);
    else if (op === Sys.WifiConnect) this.wifiCalls.push([x, y!]);
    else throw new Error("unknown sys op " + op);
    return 0;
  }
  /** what Espruino passes: `connected` {ip, ...}, `disconnected` {ssid, mac, reason} */
  wifiEmit(ev: string) { for (const f of this.wifiHandlers[ev] || []) f(ev === "connected" ? { ip: "192.168.4.2" } : { reason: "beacon_timeout" }); }
  /** Simulates an edge on a watched pin (what setWatch reports after debounce). */
  edge(name: string, state: boolean) {
    const p = this.pinOf(name);
    this.pins[p] = state ? 1 : 0;
    for (const w of this.watches) if (w.pin === p && !w.off) w.fn({ state, time: Date.now() / 1000, pin: p });
  }
}

export interface Pub { cn: string; dt: any; q: number; rt: number; cb?: StatusCb | null }

/**
 * The real JMQT client (firmware/jmqt/client.ts) over a FakeNet, driven by the test. Its one
 * method, pub, is replaced by a recorder (pubs, p2ps, and room for the ST_BUSY answer); start,
 * stop, sub and unsub, which the runtime calls, are the client's own functions. setState brings
 * it to READY through the real handshake (connect, conn, connAck) or drops its link to BACKOFF.
 */
export interface FakeClient extends JmqtClient {
  net: FakeNet;
  pubs: Pub[];
  p2ps: Array<{ to: string; dt: any; q: number }>;
  /** how many more pub calls are accepted before ST_BUSY (Infinity: never busy) */
  room: number;
  /** how many times the client went to STOPPED */
  stopped: number;
  /** the channels subscribed in the current session (the sub frames on its socket) */
  readonly subs: string[];
  setState(s: number): void;
  /** Delivers a push as the client would. */
  deliver(cn: string, dt: any, from: string, rt?: number): void;
  on(cn: string): Pub[];
}

export function fakeClient(cl = "dev1", extra: Partial<ClientOptions> = {}): FakeClient {
  const net = new FakeNet();
  // a backoff no test waits out: a dropped link stays in BACKOFF until setState(S_READY)
  const c = createClient(net, { ...SESSION_OPTIONS, cl, minBackoffMs: 1e9, maxBackoffMs: 1e9, ...extra }) as FakeClient;
  let onState: Client["onState"] = null;
  c.net = net;
  c.pubs = [];
  c.p2ps = [];
  c.room = Infinity;
  c.stopped = 0;
  // the runtime sets onState; the client calls it through this wrapper, which counts the stops
  Object.defineProperty(c, "onState", {
    get: () => (s: number, st: number) => {
      if (s === S_STOPPED) c.stopped++;
      if (onState) onState(s, st);
    },
    set: (fn: Client["onState"]) => { onState = fn; },
  });
  Object.defineProperty(c, "subs", { get: () => (net.last ? net.last.sentOf("sub").map((b) => b.cn) : []) });
  c.pub = (cn: string, dt: any, q: number, rt: number, cb?: StatusCb | null) => {
    // a P2P reply (the runtime answers with pub("#" + sender)): recorded apart, always accepted
    if (cn.charAt(0) === "#") {
      c.p2ps.push({ to: cn.slice(1), dt: JSON.parse(JSON.stringify(dt)), q });
      return ST_OK;
    }
    if (c.state !== S_READY && !q) return ST_NETWORK_ERROR;
    if (c.room <= 0) return ST_BUSY;
    c.room--;
    c.pubs.push({ cn, dt: JSON.parse(JSON.stringify(dt)), q, rt, cb });
    return ST_OK;
  };
  c.setState = (s: number) => {
    if (s === S_READY) {
      if (c.state === S_READY) return;
      // from IDLE, STOPPED or BACKOFF: a new socket at once
      start(c);
      net.last.connect();
      net.last.recv({ connAck: { st: ST_OK, ts: 1000 } });
      assert.equal(c.state, S_READY, "the fake client's handshake");
    } else if (s === S_BACKOFF) {
      net.last.close();
      assert.equal(c.state, S_BACKOFF, "the fake client's link dropped");
    } else throw new Error("fakeClient.setState: READY or BACKOFF only, not " + s);
  };
  c.deliver = (cn: string, dt: any, from: string, rt = 0) => { if (c.onPush) c.onPush(cn, dt, from, rt); };
  c.on = (cn: string) => c.pubs.filter((p) => p.cn === cn);
  return c;
}
