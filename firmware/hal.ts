// The board: the only module that touches Espruino globals. Implements firmware/board.ts as one
// object literal (no class: no constructor or prototype objects to hold in RAM).
import type { Board, WatchSpec } from "./board";
import { Io, Sys, type PinMode } from "./board";

export const hal: Board = {
  net: require("net") as any,
  io(op: Io | PinMode, pin: number, v?: number, f?: number): number {
    if (op === Io.DigitalRead) return digitalRead(pin);
    if (op === Io.AnalogRead) return analogRead(pin);
    if (op === Io.DigitalWrite) digitalWrite(pin, v as number);
    else if (op === Io.PwmWrite) analogWrite(pin, v as number, { freq: f });
    else pinMode(pin, op as any, false);
    return 0;
  },
  /** RSSI: ESP8266 reports it in getDetails(); the ESP32 build in getDetails() or getStatus(). */
  sys(op: Sys, x?: any, y?: any): any {
    if (op === Sys.Temperature) return E.getTemperature();
    if (op === Sys.PinByName) return Pin(x);
    if (op === Sys.Watch) {
      const w: WatchSpec = y;
      setWatch(x, w.pin as any, { repeat: true, edge: w.edge as any, debounce: w.debounce });
      return 0;
    }
    if (op === Sys.ClearWatches) {
      clearWatch();
      return 0;
    }
    if (op === Sys.FreeBlocks || op === Sys.TotalBlocks) {
      const m: any = process.memory();
      return op === Sys.FreeBlocks ? m.free : m.total;
    }
    if (op === Sys.Rssi) {
      try {
        const w: any = require("Wifi");
        let d: any = w.getDetails();
        if (!d || typeof d.rssi !== "number") d = w.getStatus();
        if (d && typeof d.rssi === "number") return d.rssi;
      } catch (e) {}
      return 0;
    }
    if (op === Sys.BoardInfo) return JSON.parse(BOARD_JSON);
    if (op === Sys.EvalFile) {
      // a Storage file that evaluates to a value (the sensor glue and drivers, docs/sensors.md)
      const s = require("Storage").read(x);
      if (!s) throw "driver " + x + " not in Storage, flash it";
      return (0, eval)(s);
    }
    if (op === Sys.Config) {
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
    // OTA (docs/ota.md): the receiver in Storage, evaluated only now (its code stays in flash)
    if (op === Sys.OtaReceiver) {
      const st = require("Storage");
      const c = st.read("jmqt.otr");
      return c && (0, eval)(c)(st);
    }
    try {
      if (op === Sys.ReadJson) return require("Storage").readJSON(x, true);
      if (op === Sys.WriteFile) return !!require("Storage").write(x, y);
      if (op === Sys.KickWatchdog) E.kickWatchdog();
      else if (op === Sys.EnableWatchdog) E.enableWatchdog(x, false);
      else if (op === Sys.Reboot) E.reboot();
      else if (op === Sys.Log) print(x);
      else if (op === Sys.OnKill) E.on("kill", x);
      else if (op === Sys.OnWifi) require("Wifi").on("connected", x), require("Wifi").on("disconnected", x);
      else if (op === Sys.WifiConnect) require("Wifi").connect(x, { password: y });
    } catch (e) {
      return false;
    }
    return 0;
  },
};
