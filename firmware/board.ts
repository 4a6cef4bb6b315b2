// The one small interface between the firmware and the board. hal.ts implements it with the
// Espruino globals (the only file that touches them); tests pass a fake (test/runtime/fakes.ts).
// Memory: every method is a function object in RAM on the board (about 4-6 blocks each), so the
// interface is two methods that take an operation (a const enum) rather than twenty one-line methods.
import type { NetLike } from "./jmqt/api";
import type { BoardInfo } from "./runtime/config";
export type { BoardInfo };

/** What setWatch hands its callback: the level after the edge, and the pin it happened on. */
export interface WatchEvent {
  state: boolean;
  time: number;
  pin: number;
}

/** A pin mode for hal.io to set. */
export type PinMode = "input" | "input_pullup" | "input_pulldown" | "output" | "analog";

/** hal.io operations; a PinMode instead sets that mode */
export const enum Io {
  DigitalRead,
  AnalogRead,
  DigitalWrite,
  PwmWrite,
}

/** hal.sys operations (a const enum: each is a number literal in the bundle, free at run time) */
export const enum Sys {
  /** numbers: temperature in °C, RSSI in dBm (0: unknown), free and total blocks */
  Temperature,
  Rssi,
  FreeBlocks,
  TotalBlocks,
  /** controls: kick the watchdog, enable it for x seconds, reboot, log the text x, call x() when Espruino is about to reset (E "kill") */
  KickWatchdog,
  EnableWatchdog,
  Reboot,
  Log,
  OnKill,
  /** the board description (parsed afresh from the build's BOARD_JSON on each call, never kept) */
  BoardInfo,
  /** the config in force as [config, problem]: jmqt.json from Storage, else the config baked by the
   *  build (null when none), problem "" or why jmqt.json was not used */
  Config,
  /** write the text y to the Storage file x (true when written) */
  WriteFile,
  /** the Storage file x parsed as JSON (undefined when it is missing or not JSON) */
  ReadJson,
  /** the OTA receiver: jmqt.otr evaluated and called with the Storage module (firmware/ota/receiver.ts), undefined when it is not in Storage */
  OtaReceiver,
  /** the value of the Storage file x evaluated (the sensor glue drv.run and the drivers, docs/sensors.md); throws "driver x not in Storage, flash it" when there is no such file */
  EvalFile,
  /** WiFi: call x(details) on each `connected` and each `disconnected` event (one listener: Espruino's
   *  ESP8266 and ESP32 ports give `connected` {ip, mask or netmask, gw} and `disconnected` {ssid, mac,
   *  reason}, so `ip` tells them apart); Wifi.connect(x, {password: y}). main.ts retries Wifi.connect
   *  with backoff after a drop (the SDKs' own retries stop after an authentication failure) and the
   *  JMQT client reconnects over it */
  OnWifi,
  WifiConnect,
  /** the pin named x ("D2", "A0"), or undefined when the board has none */
  PinByName,
  /** a repeating setWatch(x, y.pin, {edge: y.edge, debounce: y.debounce}); x gets a WatchEvent */
  Watch,
  /** clear every watch */
  ClearWatches,
}

/** Where and how Sys.Watch watches. */
export interface WatchSpec {
  pin: number;
  edge: string;
  debounce: number;
}

export interface Board {
  net: NetLike;
  /** Pin I/O (Io), the hot path: a digital or analog read (0/1, 0..1), a digital write v, a PWM duty v (0..1) at f Hz, or a pinMode. Returns the reading (0 otherwise). */
  io(op: Io | PinMode, pin: number, v?: number, f?: number): number;
  /** Everything else, by operation (Sys). Pin lookup and watches are operations here rather than
   *  methods of their own: a method costs the board 4 blocks + 1 per parameter (14 for the two). */
  sys(op: Sys, x?: any, y?: any): any;
}
