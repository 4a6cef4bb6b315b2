// Entry point (what a user flashes): reads the config in force (jmqt.json from Storage, else the
// config baked by the build), validates it against the board, starts WiFi, then the JMQT client
// and the runtime. A bad config never stops the device: the runtime runs what is valid and
// reports the rest on <prefix>status. Nothing here keeps the parsed config or the board
// description alive after boot: boot() holds them in its own scope only, and no function is
// created inside it.
import { hal } from "./hal";
import { Sys } from "./board";
import { createClient, start } from "./jmqt/client";
import type { Client } from "./jmqt/api";
import { S_IDLE } from "./jmqt/api";
import { createDevice, run, shutdown, Tick } from "./runtime/runtime";

/** The client, once the config names a server; started by the first WiFi `connected` (it reconnects on its own afterwards). */
let client: Client | null = null;
/** Delay before the next WiFi retry after a `disconnected`: 1 s doubling to 60 s, reset on `connected`. */
let wifiBackoff = 1000;
let wifiTimer: any = 0;

// WiFi `connected` (details with an ip; also called with none when the config has no WiFi) starts
// the client. The SDKs retry on their own after a drop, but give up after an authentication failure
// or a long outage; so each `disconnected` also schedules one Wifi.connect, with exponential
// backoff. One function for both events: a second one cost 4 blocks for good (docs/memory.md).
function onWifi(details?: { ip?: string }): void {
  if (!details || details.ip) {
    wifiBackoff = 1000;
    if (wifiTimer) clearTimeout(wifiTimer);
    wifiTimer = 0;
    if (client && client.state === S_IDLE) start(client);
  } else if (!wifiTimer) {
    wifiTimer = setTimeout(wifiRetry, wifiBackoff);
    wifiBackoff = Math.min(wifiBackoff * 2, 60000);
  }
}

function wifiRetry(): void {
  const w = (hal.sys(Sys.Config)[0] || {}).wifi;
  wifiTimer = 0;
  if (w && typeof w.ssid === "string") hal.sys(Sys.WifiConnect, w.ssid, w.password || "");
}

// The board description already holds maxFrame/inflight/outQueue/dedup under the ClientOptions
// names, so it becomes the client's options object once the server fields are added.
function boot(): void {
  const loaded = hal.sys(Sys.Config);
  const cfg = loaded[0] || {};
  const bi = hal.sys(Sys.BoardInfo);
  const srv = cfg.server || {};
  const hasServer = typeof srv.host === "string" && typeof srv.port === "number";
  bi.host = hasServer ? srv.host : "";
  bi.port = hasServer ? srv.port : 0;
  bi.cl = cfg.id;
  bi.at = srv.token;
  bi.auth = srv.auth;
  // no timer of its own: the runtime's tick (at most 1 s, config.ts) calls tick(client)
  bi.polled = 1;
  const c = createClient(hal.net, bi);
  if (hasServer) client = c;
  const rt = createDevice(hal, c, FW_VERSION);
  run(cfg);
  if (loaded[1]) {
    (rt.configErrors_ = rt.configErrors_ || []).unshift(loaded[1]);
    rt.lastError_ = loaded[1];
  }
  hal.sys(Sys.Log, "jmqt " + FW_VERSION + " on " + bi.id + (rt.configErrors_ ? ": " + rt.configErrors_.join("; ") : ": config ok"));
  hal.sys(Sys.EnableWatchdog, Math.max(10, ((rt.tickMs_ || Tick.DefaultMs) * 5) / 1000));
  hal.sys(Sys.OnKill, shutdown);
  const w = cfg.wifi;
  if (w && typeof w.ssid === "string") {
    hal.sys(Sys.OnWifi, onWifi);
    hal.sys(Sys.WifiConnect, w.ssid, w.password || "");
  } else onWifi();
}

boot();
