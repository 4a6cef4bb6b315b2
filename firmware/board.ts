// The one small interface between the firmware and the board. hal.ts implements it with the
// Espruino globals (the only file that touches them); tests may pass a fake.
import type { NetLike } from "./jmqt/api";

export interface WatchOptions {
  repeat: boolean;
  edge: "rising" | "falling" | "both";
  debounce: number;
}

export interface Board {
  net: NetLike;
  /** milliseconds, monotonic enough for timeouts (Date.now() on the board) */
  now(): number;
  /** the pin named `name` ("D2", "A0"), or undefined when the board has none */
  pin(name: string): number | undefined;
  mode(pin: number, mode: string): void;
  read(pin: number): number;
  write(pin: number, value: number): void;
  analog(pin: number): number;
  pwm(pin: number, duty: number, freq: number): void;
  watch(fn: (e: { state: boolean; time: number; lastTime?: number }) => void, pin: number, opts: WatchOptions): any;
  unwatch(id: any): void;
  /** board temperature in °C, NaN when the board has no sensor */
  temperature(): number;
  /** { free, total, usage } in blocks */
  memory(): { free: number; total: number; usage: number };
  wifiConnect(ssid: string, password: string, cb: (err: any) => void): void;
  /** `connected` / `disconnected` events of the Wifi module */
  wifiOn(event: string, fn: (details?: any) => void): void;
  /** RSSI in dBm, or 0 when unknown */
  rssi(): number;
  storageRead(name: string): string | undefined;
  storageWrite(name: string, data: string): boolean;
  kickWatchdog(): void;
  reboot(): void;
  log(text: string): void;
}
