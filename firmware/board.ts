// The one small interface between the firmware and the board. hal.ts implements it with the
// Espruino globals (the only file that touches them); tests pass a fake (test/runtime/fakes.ts).
// Memory: every method is a function object in RAM on the board (about 4-6 blocks each), so the
// interface is four methods that take an operation code rather than twenty one-line methods.
import type { NetLike } from "./jmqt/api";
import type { BoardInfo } from "./runtime/config";
export type { BoardInfo };

/** What setWatch hands its callback: the level after the edge, and the pin it happened on. */
export interface WatchEvent {
  state: boolean;
  time: number;
  pin: number;
}

export interface Board {
  net: NetLike;
  /** the pin named `name` ("D2", "A0"), or undefined when the board has none */
  pin(name: string): number | undefined;
  /**
   * Pin I/O. op "r": digital read (0/1); "a": analog read (0..1); "w": digital write v;
   * "p": PWM duty v (0..1) at f Hz; any other op is a pinMode ("input", "input_pullup",
   * "input_pulldown", "output", "analog") to set. Returns the reading (0 for writes).
   */
  io(op: string, pin: number, v?: number, f?: number): number;
  /** Repeating setWatch(fn, pin, {edge, debounce}); fn gets {state, time, pin}. fn null clears every watch. */
  watch(fn: ((e: WatchEvent) => void) | null, pin?: number, edge?: string, debounce?: number): void;
  /**
   * Everything else, by op code. Numbers: "t" temperature in °C, "r" RSSI in dBm (0: unknown),
   * "f" free blocks, "T" total blocks. Controls: "k" kick the watchdog, "W" enable it for x
   * seconds, "b" reboot, "l" log the text x, "q" call x() when Espruino is about to reset (E
   * "kill"). Data: "B" the board description (parsed afresh from the build's BOARD_JSON on each
   * call, never kept); "C" the config in force as [config, problem]: jmqt.json from Storage, else
   * the config baked by the build (null when none), problem "" or why jmqt.json was not used;
   * "S" write the text y to the Storage file x (true when written); "J" the Storage file x parsed
   * as JSON (undefined when it is missing or not JSON); "O" the OTA receiver: jmqt.otr evaluated
   * and called with the Storage module (firmware/ota/receiver.ts), undefined when it is not in Storage;
   * "E" the value of the Storage file x evaluated (the sensor glue drv.run and the drivers,
   * docs/sensors.md), throwing "driver x not in Storage, flash it" when there is no such file.
   * WiFi: "u" call x() on each `connected` event, "d" call x() on each `disconnected` event, "w" Wifi.connect(x,
   * {password: y}). main.ts retries Wifi.connect with backoff after a drop (the SDKs' own
   * retries stop after an authentication failure) and the JMQT client reconnects over it.
   */
  sys(op: string, x?: any, y?: string): any;
}
