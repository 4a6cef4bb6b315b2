// Virtual hardware: the board's pins, shared by both engines. The pin table comes from
// boards/<board>.json; each pin has a mode, an output value and its timeline, a level driven from
// the test side (with contact bounce), an analog value, and optionally a sensor model
// (sim/sensors.ts) that gives its analog value or digital level as a function of time. Also the
// board temperature. The realm hooks (digitalRead, analogWrite, pinMode, ...) are what the V8
// engine's prelude calls; watches stay with the engine (onLevelChange tells it of edges).
import * as fs from "node:fs";
import * as path from "node:path";
import type { BoardJson } from "../../tools/api";
import { makeSensor, seededRandom, type Sensor, type SensorModel } from "../sensors";

export type BoardId = "esp32" | "esp8266";

/** boards/<board>.json, as the build and the gate read it. */
export type BoardData = BoardJson;

export interface PinChange {
  t: number;
  v: number;
}

export interface PinState {
  name: string;
  num: number;
  mode: string;
  manual: boolean;
  out: number;
  input: number;
  driven: boolean;
  analog: number;
  /** setAnalog() was called (the real engine resends such values at each boot) */
  analogSet: boolean;
  sensor: Sensor | null;
  sensorStart: number;
  sensorTasks: unknown[];
  pwmFreq: number;
  timeline: PinChange[];
}

/** How the hardware schedules: `later` work belongs to the running program (dropped on reboot), `schedule` outlives it. */
export interface HwTimers {
  now(): number;
  later(ms: number, fn: () => void): unknown;
  schedule(ms: number, fn: () => void): unknown;
  cancel(t: unknown): void;
}

const ROOT = path.resolve(__dirname, "..", "..");

export function loadBoardData(id: BoardId): BoardData {
  const file = path.join(ROOT, "boards", id + ".json");
  if (!fs.existsSync(file)) throw new Error(`unknown board "${id}" (no ${file})`);
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

const MODES = ["analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "af_output", "af_opendrain", "opendrain_pullup", "auto"];

export class Pins {
  readonly byNum: PinState[] = [];
  /** pin name -> number (D<n> is n; others are numbered after the highest D pin) */
  readonly nums: Record<string, number> = {};
  /** pins known only by the name an engine reported (not in the board's table) */
  private loose: Record<string, PinState> = {};
  /** a pin's level changed (the engine's watches see the edge) */
  onLevelChange: (p: PinState) => void = () => {};
  /** board temperature (°C) or a model of it */
  temperature: number | Sensor = 40;
  /** drives contact bounce, apart from the program's Math.random() */
  private physics: () => number;

  constructor(
    readonly data: BoardData,
    private readonly timers: HwTimers,
    private readonly seed = 1,
  ) {
    this.physics = seededRandom(seed ^ 0x5bd1e995);
    let maxD = 0;
    for (const n of data.pins) if (/^D\d+$/.test(n)) maxD = Math.max(maxD, +n.slice(1));
    for (const n of data.pins) {
      const num = /^D\d+$/.test(n) ? +n.slice(1) : ++maxD;
      this.nums[n] = num;
      this.byNum[num] = newPin(n, num);
    }
  }

  private now(): number {
    return this.timers.now();
  }

  /** the pin with this number (what the device's code passes); throws like Espruino */
  pin(num: number): PinState {
    const p = this.byNum[num];
    if (!p) throw new Error("Invalid pin!");
    return p;
  }

  /** the pin a test names ("D2", or its number) */
  byName(pin: string | number, who = "board"): PinState {
    const num = typeof pin === "number" ? pin : this.nums[pin];
    const p = num === undefined ? undefined : this.byNum[num];
    if (!p) throw new Error(`${who}: no pin ${pin}`);
    return p;
  }

  /** the pin of this name, made up when the board's table does not have it */
  entry(name: string): PinState {
    const num = this.nums[name];
    if (num !== undefined && this.byNum[num]) return this.byNum[num];
    return (this.loose[name] = this.loose[name] || newPin(name, -1));
  }

  /** every pin (the table's, then loose ones) */
  all(): PinState[] {
    return [...this.byNum.filter((p) => p), ...Object.values(this.loose)];
  }

  isAnalog(p: PinState): boolean {
    return this.data.analog.indexOf(p.name) >= 0;
  }

  isOutput(p: PinState): boolean {
    return /output|opendrain/.test(p.mode);
  }

  level(p: PinState): number {
    if (this.isOutput(p)) return p.out ? 1 : 0;
    if (p.sensor) return p.sensor.value(this.now() - p.sensorStart) >= 0.5 ? 1 : 0;
    if (p.driven) return p.input;
    return p.mode === "input_pullup" ? 1 : 0;
  }

  /** an output value written (0/1, or a PWM duty): the timeline records changes (and the first write) */
  record(p: PinState, v: number): void {
    if (p.out !== v || p.timeline.length === 0) p.timeline.push({ t: this.now(), v });
    p.out = v;
  }

  setOut(p: PinState, v: number): void {
    if (this.data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
    const before = this.level(p);
    if (!p.manual && !this.isOutput(p)) p.mode = "output";
    this.record(p, v);
    if (this.level(p) !== before) this.onLevelChange(p);
  }

  /** the program is gone (reboot): every pin is an input again, outputs low */
  reset(): void {
    for (const p of this.byNum)
      if (p) {
        p.mode = "input";
        p.manual = false;
        p.out = 0;
      }
  }

  // ---- the test side -----------------------------------------------------------------------

  /** drives an input level; with `bounces` it first toggles that many times about bounceMs apart */
  drive(p: PinState, v: number | boolean, opts: { bounces?: number; bounceMs?: number } = {}): void {
    const target = v ? 1 : 0;
    const bounces = opts.bounces || 0;
    const gap = opts.bounceMs || 1;
    const apply = (val: number) => {
      const before = this.level(p);
      p.driven = true;
      p.input = val;
      if (this.level(p) !== before) this.onLevelChange(p);
    };
    if (!bounces) return apply(target);
    const seq: number[] = [];
    for (let i = 0; i < bounces; i++) seq.push(target, target ? 0 : 1);
    seq.push(target);
    apply(seq[0]);
    let t = 0;
    for (let i = 1; i < seq.length; i++) {
      const val = seq[i];
      t += gap * (0.5 + this.physics());
      this.timers.later(t, () => apply(val));
    }
  }

  setAnalog(p: PinState, v: number): void {
    p.sensor = null;
    p.analog = v;
    p.analogSet = true;
  }

  private detachSensor(p: PinState): void {
    for (const t of p.sensorTasks) this.timers.cancel(t);
    p.sensorTasks = [];
    p.sensor = null;
  }

  /**
   * Attaches a sensor model (time 0 = now; null detaches). With `edges`, the digital level's jumps
   * (step and trace models) are scheduled so that watches see them.
   */
  attachSensor(p: PinState, model: SensorModel | null, seed: number, edges = true): Sensor | null {
    this.detachSensor(p);
    if (!model) return null;
    const before = this.level(p);
    p.sensor = makeSensor(model, seed);
    p.sensorStart = this.now();
    if (!edges) return p.sensor;
    if (this.level(p) !== before) this.onLevelChange(p);
    let last = this.level(p);
    for (const at of p.sensor.changeTimes) {
      if (at <= 0) continue;
      p.sensorTasks.push(
        this.timers.schedule(at, () => {
          const v = this.level(p);
          if (v !== last) {
            last = v;
            this.onLevelChange(p);
          }
        }),
      );
    }
    return p.sensor;
  }

  /** the sensor's value now (or the analog value set), clamped to 0..1 */
  analogValue(p: PinState): number {
    const v = p.sensor ? p.sensor.value(this.now() - p.sensorStart) : p.analog;
    return Math.min(1, Math.max(0, v));
  }

  setTemperature(v: number | SensorModel): void {
    this.temperature = typeof v === "number" ? v : makeSensor(v, this.seed || 1);
  }

  readTemperature(): number {
    if (!this.data.hasTemperature) return NaN;
    const t = this.temperature;
    return typeof t === "number" ? t : t.value(this.now());
  }

  /** current output value of a pin (0/1, or the PWM duty 0..1), else its level */
  output(p: PinState): number {
    return this.isOutput(p) ? p.out : this.level(p);
  }

  // ---- the V8 realm's pin hooks --------------------------------------------------------------

  realmHooks(mk: (v: any) => any): Record<string, (...a: any[]) => any> {
    const data = this.data;
    return {
      validPin: (n: number) => !!this.byNum[n],
      digitalRead: (n: number) => {
        const p = this.pin(n);
        if (!p.manual && this.isOutput(p)) p.mode = "input";
        return this.level(p);
      },
      digitalWrite: (n: number, v: number) => this.setOut(this.pin(n), v),
      outputValue: (n: number) => this.level(this.pin(n)),
      analogRead: (n: number) => {
        const p = this.pin(n);
        if (!this.isAnalog(p)) throw new Error(`Pin ${p.name} is not an ADC pin`);
        if (!p.manual) p.mode = "analog";
        return this.analogValue(p);
      },
      analogWrite: (n: number, v: number, freq: number) => {
        const p = this.pin(n);
        if (data.pwm.indexOf(p.name) < 0) throw new Error(`Pin ${p.name} can not do PWM`);
        if (data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
        const duty = Math.min(1, Math.max(0, v));
        if (!p.manual) p.mode = "output";
        p.pwmFreq = freq || 1000;
        this.record(p, duty);
      },
      pinMode: (n: number, m: string | undefined, auto: boolean) => {
        const p = this.pin(n);
        if (m !== undefined && MODES.indexOf(m) < 0) throw new Error("Unknown pin mode");
        if (m === undefined || m === "auto") {
          p.manual = false;
          return;
        }
        if (/output|opendrain/.test(m) && data.inputOnly.indexOf(p.name) >= 0) throw new Error(`Pin ${p.name} is input-only`);
        const before = this.level(p);
        p.mode = m;
        p.manual = !auto;
        if (this.level(p) !== before) this.onLevelChange(p);
      },
      getPinMode: (n: number) => this.pin(n).mode,
      pinInfo: (n: number) => {
        const p = this.pin(n);
        return mk({ port: "D", num: p.num, analog: this.isAnalog(p) ? { ADC: 1, channel: 0 } : undefined });
      },
      digitalPulse: (n: number, v: number, times: string) => {
        const p = this.pin(n);
        let t = 0;
        let cur = v;
        this.setOut(p, v);
        for (const ms of times.split(",").map(Number)) {
          t += ms;
          cur = cur ? 0 : 1;
          const val = cur;
          this.timers.later(t, () => this.setOut(p, val));
        }
      },
      temperature: () => this.readTemperature(),
    };
  }
}

function newPin(name: string, num: number): PinState {
  return {
    name, num, mode: "input", manual: false, out: 0, input: 0, driven: false, analog: 0, analogSet: false, sensor: null,
    sensorStart: 0, sensorTasks: [], pwmFreq: 0, timeline: [],
  };
}
