// The board: the only module that touches Espruino globals. Implements firmware/board.ts.
// ESP32 and ESP8266 differ in where RSSI comes from, in the chip module used to reboot and in
// the temperature sensor (ESP32 only): main.ts passes the family and whether there is a sensor,
// so that the BOARD constant (pin lists) is not held in RAM.
import type { Board, WatchOptions } from "./board";
import type { NetLike } from "./jmqt/api";

function wifiMod(): any {
  return require("Wifi");
}

export class Hal implements Board {
  net: NetLike;
  /** 1 on ESP32 (RSSI also from getStatus), 0 on ESP8266 */
  e32: number;
  /** the board has a temperature sensor */
  tmp: boolean;
  constructor(family: string, hasTemperature: boolean) {
    this.net = require("net") as any;
    this.e32 = family === "ESP32" ? 1 : 0;
    this.tmp = hasTemperature;
  }
  now(): number {
    return Date.now();
  }
  pin(name: string): number | undefined {
    const p: any = Pin(name);
    return p === undefined ? undefined : p;
  }
  mode(pin: number, mode: string): void {
    pinMode(pin, mode, false);
  }
  read(pin: number): number {
    return digitalRead(pin);
  }
  write(pin: number, value: number): void {
    digitalWrite(pin, value);
  }
  analog(pin: number): number {
    return analogRead(pin);
  }
  pwm(pin: number, duty: number, freq: number): void {
    analogWrite(pin, duty, { freq: freq });
  }
  watch(fn: (e: { state: boolean; time: number; lastTime?: number }) => void, pin: number, opts: WatchOptions): any {
    return setWatch(fn as any, pin, opts);
  }
  unwatch(id: any): void {
    try {
      clearWatch(id);
    } catch (e) {}
  }
  temperature(): number {
    return this.tmp ? E.getTemperature() : NaN;
  }
  memory(): { free: number; total: number; usage: number } {
    const m: any = process.memory();
    return { free: m.free, total: m.total, usage: m.usage };
  }
  wifiConnect(ssid: string, password: string, cb: (err: any) => void): void {
    wifiMod().connect(ssid, { password: password }, cb);
  }
  wifiOn(event: string, fn: (details?: any) => void): void {
    wifiMod().on(event as any, fn);
  }
  /** ESP8266 reports rssi in getDetails(); the ESP32 build in getDetails() or getStatus(). */
  rssi(): number {
    try {
      const w = wifiMod();
      let d: any = w.getDetails();
      if (d && typeof d.rssi === "number") return d.rssi;
      if (this.e32) {
        d = w.getStatus();
        if (d && typeof d.rssi === "number") return d.rssi;
      }
    } catch (e) {}
    return 0;
  }
  storageRead(name: string): string | undefined {
    const s: any = require("Storage").read(name);
    return typeof s === "string" ? s : undefined;
  }
  storageWrite(name: string, data: string): boolean {
    try {
      return !!require("Storage").write(name, data);
    } catch (e) {
      return false;
    }
  }
  kickWatchdog(): void {
    E.kickWatchdog();
  }
  /** Hardware watchdog kicked by the runtime's tick (not automatically by the idle loop). */
  enableWatchdog(seconds: number): void {
    try {
      E.enableWatchdog(seconds, false);
    } catch (e) {}
  }
  /** E.reboot() exists on both chips (the build keeps only library modules external, not ESP32/ESP8266). */
  reboot(): void {
    E.reboot();
  }
  log(text: string): void {
    console.log(text);
  }
}
