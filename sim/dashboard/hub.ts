// The dashboard's model: what the page shows (pins, readings, traffic log, connection state),
// kept bounded, plus a fan-out of changes to listeners (the SSE clients and the terminal view).
// The demo feeds it; the HTTP server (server.ts) only reads snapshots and forwards commands.

/** One pin the page draws, with its role in the device config. */
export interface PinInfo {
  pin: string;
  /** config name of the input/output using it, "" when unused */
  name: string;
  /** "out" digital output, "pwm" PWM output, "in" digital input, "analog" analog input, "count" pulse counter, "sensor" a sensor's bus pin (I2C sda/scl, 1-Wire, DHT), "" unused */
  kind: string;
  /** true for pins the board reserves (flash, console) */
  reserved?: boolean;
  /** true for the on-board LED pin */
  led?: boolean;
}

export interface ReadingPoint {
  t: number;
  v: number;
}

export interface Reading {
  cn: string;
  name: string;
  /** the last payload as published (any JSON) */
  last: any;
  t: number;
  /** numeric history for the chart (bounded) */
  hist: ReadingPoint[];
}

export interface LogEntry {
  t: number;
  /** "state" connection changes, "pub" device publications, "cmd" commands sent, "re" replies, "info" */
  kind: string;
  text: string;
}

export interface DashboardEvent {
  type: "state" | "reading" | "log" | "pins" | "status" | "memory";
  data: any;
}

export type CommandSender = (dt: Record<string, any>) => Promise<any>;
/** drives an input pin of the device (the demo: Device.setDigital / setAnalog) */
export type InputSetter = (pin: string, value: number) => void;

export const HISTORY_POINTS = 120;
export const LOG_ENTRIES = 300;

/** The number a chart can plot from a published payload, or NaN (strings, objects without a value). */
export function numericValue(dt: any): number {
  if (typeof dt === "number") return dt;
  if (typeof dt === "boolean") return dt ? 1 : 0;
  if (dt && typeof dt === "object") {
    for (const k of ["v", "val", "value", "r", "n", "c", "count"]) {
      if (typeof dt[k] === "number") return dt[k];
      if (typeof dt[k] === "boolean") return dt[k] ? 1 : 0;
    }
  }
  if (typeof dt === "string" && dt.trim() !== "" && !isNaN(Number(dt))) return Number(dt);
  return NaN;
}

export class DashboardHub {
  deviceId: string;
  boardName: string;
  pins: PinInfo[];
  /** latest pin levels read from the simulated board: 0/1 for digital, 0..1 for PWM duty / analog */
  levels: Record<string, number> = {};
  readings: Record<string, Reading> = {};
  /** channel → input name, for channels the device publishes readings on */
  channelNames: Record<string, string>;
  log: LogEntry[] = [];
  connection = { device: "unknown", dashboard: "unknown" };
  status: any = null;
  /** which engine runs the device: "v8" (SimBoard) or "espruino" (the real interpreter) */
  engine = "";
  /** the device's process.memory() as last polled: {free, usage, total, blocksize} */
  memory: any = null;
  private inputSetter: InputSetter | null = null;
  private listeners: Array<(e: DashboardEvent) => void> = [];
  private sender: CommandSender | null = null;

  constructor(opts: { deviceId: string; boardName: string; pins: PinInfo[]; channelNames: Record<string, string> }) {
    this.deviceId = opts.deviceId;
    this.boardName = opts.boardName;
    this.pins = opts.pins;
    this.channelNames = opts.channelNames;
  }

  on(fn: (e: DashboardEvent) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }

  private emit(e: DashboardEvent): void {
    for (const fn of this.listeners.slice()) {
      try {
        fn(e);
      } catch {
        // a broken listener (closed HTTP response) must not stop the others
      }
    }
  }

  setCommandSender(fn: CommandSender): void {
    this.sender = fn;
  }

  /** Sends a P2P command to the device through the dashboard's JMQT client; resolves with the reply dt. */
  async command(dt: Record<string, any>): Promise<any> {
    if (!this.sender) throw new Error("the dashboard has no JMQT session");
    return this.sender(dt);
  }

  setInputSetter(fn: InputSetter): void {
    this.inputSetter = fn;
  }

  /** Drives an input pin (a digital input or counter: 0/1; an analog input: 0..1). Throws for other pins. */
  setInput(pin: string, value: number): void {
    const p = this.pins.find((x) => x.pin === pin);
    if (!p || !(p.kind === "in" || p.kind === "count" || p.kind === "analog")) throw new Error(`${pin} is not an input of the device`);
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new Error("value must be a number 0..1");
    if (!this.inputSetter) throw new Error("no simulated device to drive");
    this.inputSetter(pin, p.kind === "analog" ? value : value >= 0.5 ? 1 : 0);
  }

  setMemory(m: any): void {
    this.memory = m;
    this.emit({ type: "memory", data: m });
  }

  setConnection(which: "device" | "dashboard", state: string): void {
    if (this.connection[which] === state) return;
    this.connection[which] = state;
    this.emit({ type: "state", data: { ...this.connection } });
  }

  setStatus(dt: any): void {
    this.status = dt;
    this.emit({ type: "status", data: dt });
  }

  addReading(cn: string, dt: any, t: number): Reading {
    let r = this.readings[cn];
    if (!r) r = this.readings[cn] = { cn, name: this.channelNames[cn] || cn, last: dt, t, hist: [] };
    r.last = dt;
    r.t = t;
    const v = numericValue(dt);
    if (!isNaN(v)) {
      r.hist.push({ t, v });
      if (r.hist.length > HISTORY_POINTS) r.hist.splice(0, r.hist.length - HISTORY_POINTS);
    }
    this.emit({ type: "reading", data: { cn, name: r.name, dt, t, v: isNaN(v) ? null : v } });
    return r;
  }

  addLog(kind: string, text: string, t = Date.now()): void {
    const e = { t, kind, text };
    this.log.push(e);
    if (this.log.length > LOG_ENTRIES) this.log.splice(0, this.log.length - LOG_ENTRIES);
    this.emit({ type: "log", data: e });
  }

  /** Records pin levels; emits only when something changed. */
  setLevels(levels: Record<string, number>): void {
    let changed = false;
    for (const k of Object.keys(levels)) {
      if (this.levels[k] !== levels[k]) {
        this.levels[k] = levels[k];
        changed = true;
      }
    }
    if (changed) this.emit({ type: "pins", data: { ...this.levels } });
  }

  snapshot(): any {
    return {
      deviceId: this.deviceId,
      boardName: this.boardName,
      pins: this.pins,
      levels: this.levels,
      readings: this.readings,
      log: this.log.slice(-100),
      connection: this.connection,
      // the page highlights the inputs named in status.se (sensors whose last reading failed), also
      // those that never published: it finds their channel here
      status: this.status,
      channels: this.channelNames,
      engine: this.engine,
      memory: this.memory,
    };
  }
}
