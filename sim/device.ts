// What a test (or the demo) drives, whichever engine runs the bundle: SimBoard (sim/board.ts, the
// bundle in a V8 model of the board, virtual time) or EspruinoBoard (sim/espruino/board.ts, the real
// Espruino interpreter built for Linux, real time). Methods that the real engine can only answer
// over the console return a Promise there; `await` works on both.
import type { BoardId } from "./board";
import type { SensorModel } from "./sensors";
import type { SensorBuses } from "./hw/buses";
export type { BoardId };

export interface DeviceMemory {
  free: number;
  usage: number;
  total: number;
  blocksize: number;
}

export interface Device {
  /** "v8" (SimBoard) or "espruino" (the real interpreter) */
  readonly engine: "v8" | "espruino";
  readonly id: BoardId;
  /** every console line the device printed (protocol lines of the real engine's shim excluded) */
  readonly console: string[];
  /** reboots so far: {t (engine ms), reason} ("software", "watchdog", "reset", ...) */
  readonly resets: { t: number; reason: string }[];
  /** the virtual I2C chips, 1-Wire DS18B20s and DHTs wired to the pins (sim/hw/buses.ts); wire them before boot() */
  readonly sensors: SensorBuses;
  boot(): void | Promise<void>;
  stop(): void | Promise<void>;
  /** reboots the board (a power cycle on the real engine: the interpreter restarts on the same Storage) */
  reboot(reason?: string): void | Promise<void>;
  setDigital(pin: string, v: number | boolean): void;
  /** analog input as a fraction 0..1 of full scale */
  setAnalog(pin: string, v: number): void;
  setTemperature(v: number | SensorModel): void;
  setRssi(dbm: number): void;
  /** an analog pin or a digital pin driven by a sensor model */
  sensor(pin: string, model: SensorModel | null): void;
  /** last value the device wrote to a pin (0/1, or the PWM duty) */
  output(pin: string): number;
  /** Wifi.connect calls the firmware made (at boot, and its retries after a `disconnected`) */
  readonly wifiConnects: number;
  /** the access point goes away / comes back */
  wifiDown(): void;
  wifiUp(): void;
  /** every open socket is reset */
  resetConnections(): void;
  /** process.memory() (the V8 engine: its estimate) */
  memory(): DeviceMemory | Promise<DeviceMemory>;
  /** runs until cond() holds (or a console line matches), at most timeoutMs of engine time; false on timeout */
  waitFor(cond: (() => boolean) | RegExp, timeoutMs: number): Promise<boolean>;
  /** lets ms of engine time pass (virtual on V8, real on the interpreter) */
  sleep(ms: number): Promise<void>;
  /** engine milliseconds */
  now(): number;
  /** runs code on the device, like typing at its console (the result only on V8) */
  eval(code: string): any;
}
