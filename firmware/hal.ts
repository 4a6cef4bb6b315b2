// The board: the only module that touches Espruino globals. Implements firmware/board.ts as one
// object literal (no class: no constructor or prototype objects to hold in RAM).
import type { Board, WatchEvent } from "./board";

export const hal: Board = {
  net: require("net") as any,
  pin(name: string): number | undefined {
    const p: any = Pin(name);
    return p === undefined ? undefined : p;
  },
  io(op: string, pin: number, v?: number, f?: number): number {
    if (op === "r") return digitalRead(pin);
    if (op === "a") return analogRead(pin);
    if (op === "w") digitalWrite(pin, v as number);
    else if (op === "p") analogWrite(pin, v as number, { freq: f });
    else pinMode(pin, op as any, false);
    return 0;
  },
  watch(fn: ((e: WatchEvent) => void) | null, pin?: number, edge?: string, debounce?: number): void {
    if (fn) setWatch(fn as any, pin as any, { repeat: true, edge: edge as any, debounce: debounce });
    else clearWatch();
  },
  /** RSSI: ESP8266 reports it in getDetails(); the ESP32 build in getDetails() or getStatus(). */
  sys(op: string, x?: any, y?: string): any {
    if (op === "t") return E.getTemperature();
    if (op === "f" || op === "T") {
      const m: any = process.memory();
      return op === "f" ? m.free : m.total;
    }
    if (op === "r") {
      try {
        const w: any = require("Wifi");
        let d: any = w.getDetails();
        if (!d || typeof d.rssi !== "number") d = w.getStatus();
        if (d && typeof d.rssi === "number") return d.rssi;
      } catch (e) {}
      return 0;
    }
    if (op === "B") return JSON.parse(BOARD_JSON);
    if (op === "E") {
      // a Storage file that evaluates to a value (the sensor glue and drivers, docs/sensors.md)
      const s = require("Storage").read(x);
      if (!s) throw "driver " + x + " not in Storage, flash it";
      return (0, eval)(s);
    }
    if (op === "C") {
      const s = require("Storage").read("jmqt.json");
      const baked = DEFAULT_CONFIG ? JSON.parse(DEFAULT_CONFIG) : null;
      if (typeof s === "string" && s) {
        try {
          return [JSON.parse(s), ""];
        } catch (e) {
          return [baked, "jmqt.json: bad JSON (" + e + "), using built-in config"];
        }
      }
      return [baked, ""];
    }
    // OTA (docs/ota.md): "O" the receiver in Storage, evaluated only now (its code stays in flash)
    if (op === "O") {
      const st = require("Storage");
      const c = st.read("jmqt.otr");
      return c && (0, eval)(c)(st);
    }
    try {
      if (op === "J") return require("Storage").readJSON(x, true);
      if (op === "S") return !!require("Storage").write(x, y as string);
      if (op === "k") E.kickWatchdog();
      else if (op === "W") E.enableWatchdog(x, false);
      else if (op === "b") E.reboot();
      else if (op === "l") console.log(x);
      else if (op === "q") E.on("kill", x);
      else if (op === "u") require("Wifi").on("connected", x);
      else if (op === "d") require("Wifi").on("disconnected", x);
      else if (op === "w") require("Wifi").connect(x, { password: y });
    } catch (e) {
      return false;
    }
    return 0;
  },
};
