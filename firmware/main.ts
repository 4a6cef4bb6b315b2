// Entry point (what a user flashes): reads the config in force (jmqt.json from Storage, else the
// config baked by the build), validates it against the board, starts WiFi, then the JMQT client
// and the runtime. A bad config never stops the device: the runtime runs what is valid and
// reports the rest on <prefix>status. Nothing here keeps the parsed config or the board
// description alive after boot: boot() holds them in its own scope only, and no function is
// created inside it.
import { hal } from "./hal";
import { Sys } from "./board";
import { createClient } from "./jmqt/client";
import { createDevice, onWifi, run, shutdown, Tick } from "./runtime/runtime";

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
  // without a server the client has no host and never starts (start() does nothing)
  const rt = createDevice(hal, createClient(hal.net, bi), FW_VERSION);
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
