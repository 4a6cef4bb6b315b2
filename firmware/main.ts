// Entry point (what a user flashes): reads jmqt.json from Storage (else the config baked by the
// build), validates it against BOARD, starts WiFi, the JMQT client and the runtime. A bad config
// never stops the device: the runtime runs what is valid and reports the rest on <prefix>status.
// Nothing here keeps the parsed config or BOARD alive after boot (no closures over boot's scope).
import { Hal } from "./hal";
import { createClient } from "./jmqt/client";
import { S_IDLE, ST_NETWORK_ERROR } from "./jmqt/api";
import type { Client } from "./jmqt/api";
import { Runtime } from "./runtime/runtime";
import { WifiLink } from "./runtime/wifi";

const CONFIG_FILE = "jmqt.json";

/** BOARD is used only here: the build inlines the literal in this function, so the pin lists
 *  exist in RAM only while a caller (boot, the config command) uses them. */
function boardInfo(): any {
  return BOARD;
}

const hal = new Hal(boardInfo().family, boardInfo().hasTemperature);
let bootErr = "";
let client: Client | null = null;

/** The config in force: Storage first, the baked default when absent or not JSON. */
function loadConfig(): any {
  const s = hal.storageRead(CONFIG_FILE);
  if (s) {
    try {
      return JSON.parse(s);
    } catch (e) {
      bootErr = CONFIG_FILE + ": not valid JSON (" + e + "), using the built-in config";
    }
  }
  return DEFAULT_CONFIG;
}

function refuse(): number {
  return ST_NETWORK_ERROR;
}
function stopNow(cb?: () => void): void {
  if (cb) cb();
}

/** Stands in for the client when the config names no usable server: readings still queue. */
function offlineClient(id: string): Client {
  return {
    state: S_IDLE, cl: id, err: "no server configured", onPush: null, onState: null,
    counters: { fi: 0, fo: 0, bad: 0, big: 0, rc: 0, qd: 0 },
    start: stopNow, stop: stopNow, pub: refuse, sub: refuse, unsub: refuse, p2p: refuse, request: refuse,
  };
}

/** First WiFi connection: start the client (it reconnects on its own afterwards). */
function wifiUp(): void {
  if (client && client.state === S_IDLE) client.start();
}

function boot(): void {
  const cfg = loadConfig() || {};
  const bi = boardInfo();
  const srv = cfg.server;
  client = srv && typeof srv.host === "string" && typeof srv.port === "number"
    ? createClient(hal.net, {
        host: srv.host, port: srv.port, cl: cfg.id, at: srv.token, auth: srv.auth,
        maxFrame: bi.maxFrame, inflight: bi.inflight, outQueue: bi.outQueue, dedup: bi.dedup,
      })
    : offlineClient(typeof cfg.id === "string" ? cfg.id : "");
  const rt = new Runtime(hal, client, { board: boardInfo, fw: FW_VERSION, load: loadConfig, file: CONFIG_FILE });
  rt.start(cfg);
  if (bootErr) {
    rt.errs.unshift(bootErr);
    rt.err = bootErr;
  }
  hal.log("jmqt " + FW_VERSION + " on " + bi.id + (rt.errs.length ? ": " + rt.errs.join("; ") : ": config ok"));
  hal.enableWatchdog(Math.max(10, (rt.tms * 5) / 1000));
  if (cfg.wifi && typeof cfg.wifi.ssid === "string") {
    const w = new WifiLink(hal, cfg.wifi.ssid, cfg.wifi.password);
    w.onUp = wifiUp;
    w.start();
  } else wifiUp();
}

boot();
