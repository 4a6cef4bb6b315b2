// A BME280 / BMP280 register model (Bosch datasheets): chip id 0xD0, soft reset 0xE0, trimming
// parameters at 0x88..0xA1 and 0xE1..0xE7, ctrl_hum 0xF2 (latched by the next ctrl_meas write),
// status 0xF3 (bit 3 `measuring` during a conversion), ctrl_meas 0xF4 (osrs_t, osrs_p, mode),
// config 0xF5, data 0xF7..0xFE. A forced-mode write starts one conversion that lasts the
// datasheet's maximum measurement time, then fills the data registers and returns to sleep; normal
// mode converts on every read. The raw values are found by inverting the compensation formulas
// (bisection on the integer ADC value: each formula is monotonic), so the datasheet's formulas map
// them back to the set temperature/pressure/humidity within the resolution of the oversampling
// (16 + osrs - 1 bits for T and P with the filter off; 16 bits for H). Skipped quantities read
// 0x80000 / 0x8000, as on the chip.
//
// Writes follow the chip's I2C protocol: the first byte sets the register pointer, then
// register/value pairs; reads auto-increment from the pointer.
import type { I2cChip } from "./i2c";

/** Trimming parameters. Default: the worked example of the BMP280 datasheet (3.12) for T and P,
 *  typical values of a BME280 for H. */
export interface Bme280Calibration {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  H1: number; H2: number; H3: number; H4: number; H5: number; H6: number;
}

export const DATASHEET_CALIBRATION: Bme280Calibration = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
};

export interface Bme280Options {
  chip?: "bme280" | "bmp280";
  /** °C, hPa, %RH */
  t?: number;
  p?: number;
  h?: number;
  calibration?: Partial<Bme280Calibration>;
  /** clock in ms (default Date.now, so fake timers drive it) */
  now?: () => number;
}

/** The datasheet's double-precision compensation (8.1): raw → t_fine, °C, Pa, %RH. */
export function compensate(c: Bme280Calibration, adcT: number, adcP: number, adcH: number) {
  const a = (adcT / 16384 - c.T1 / 1024) * c.T2;
  const b = (adcT / 131072 - c.T1 / 8192) ** 2 * c.T3;
  const tFine = a + b;
  let v1 = tFine / 2 - 64000;
  let v2 = (((v1 * v1 * c.P6) / 32768 + v1 * c.P5 * 2) / 4) + c.P4 * 65536;
  v1 = ((c.P3 * v1 * v1) / 524288 + c.P2 * v1) / 524288;
  v1 = (1 + v1 / 32768) * c.P1;
  let p = 0;
  if (v1 !== 0) {
    p = ((1048576 - adcP - v2 / 4096) * 6250) / v1;
    p += ((c.P9 * p * p) / 2147483648 + (p * c.P8) / 32768 + c.P7) / 16;
  }
  let h = tFine - 76800;
  h = (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) * ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
  h = Math.min(100, Math.max(0, h * (1 - (c.H1 * h) / 524288)));
  return { tFine, t: tFine / 5120, p, h };
}

/** the integer in [lo, hi] whose f is closest to `target`, for f monotonic (either way) */
function invert(f: (x: number) => number, target: number, lo: number, hi: number): number {
  const up = f(hi) > f(lo);
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const m = Math.floor((a + b) / 2);
    if (f(m) < target === up) a = m;
    else b = m;
  }
  return Math.abs(f(a) - target) <= Math.abs(f(b) - target) ? a : b;
}

export class VirtualBme280 implements I2cChip {
  readonly chip: "bme280" | "bmp280";
  readonly cal: Bme280Calibration;
  t: number;
  p: number;
  h: number;
  readonly regs = new Uint8Array(256);
  private ptr = 0;
  private hum = 0;
  private busyUntil = 0;
  private pending = false;
  private now: () => number;
  /** scriptable faults */
  plugged = true;
  /** answer with this chip id instead (e.g. a different chip at the address) */
  chipId: number | null = null;
  /** conversions never finish (status bit 3 stays set) */
  stuck = false;
  /** completed conversions, for tests */
  conversions = 0;

  constructor(o: Bme280Options = {}) {
    this.chip = o.chip || "bme280";
    this.cal = { ...DATASHEET_CALIBRATION, ...(o.calibration || {}) };
    this.t = o.t ?? 21.5;
    this.p = o.p ?? 1013.25;
    this.h = this.chip === "bme280" ? o.h ?? 45 : 0;
    this.now = o.now || (() => Date.now());
    this.reset();
  }

  /** set what the next conversion measures (°C, hPa, %RH) */
  set(v: { t?: number; p?: number; h?: number }): this {
    if (v.t !== undefined) this.t = v.t;
    if (v.p !== undefined) this.p = v.p;
    if (v.h !== undefined) this.h = v.h;
    return this;
  }

  unplug(): this {
    this.plugged = false;
    return this;
  }

  plug(): this {
    this.plugged = true;
    return this;
  }

  present(): boolean {
    return this.plugged;
  }

  /** power-on / soft reset: registers to their reset values, trimming parameters in NVM */
  reset(): void {
    const r = this.regs;
    r.fill(0);
    r[0xd0] = this.chip === "bme280" ? 0x60 : 0x58;
    const c = this.cal;
    const put16 = (at: number, v: number) => {
      r[at] = v & 255;
      r[at + 1] = (v >> 8) & 255;
    };
    [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9].forEach((v, i) => put16(0x88 + 2 * i, v));
    if (this.chip === "bme280") {
      r[0xa1] = c.H1;
      put16(0xe1, c.H2);
      r[0xe3] = c.H3;
      r[0xe4] = (c.H4 >> 4) & 255;
      r[0xe5] = (c.H4 & 15) | ((c.H5 & 15) << 4);
      r[0xe6] = (c.H5 >> 4) & 255;
      r[0xe7] = c.H6 & 255;
    }
    // data registers: 0x80000 / 0x8000 ("skipped") until the first conversion
    r.set([0x80, 0, 0, 0x80, 0, 0, 0x80, 0], 0xf7);
    this.hum = 0;
    this.pending = false;
    this.busyUntil = 0;
  }

  /** the raw ADC values that compensate to the set values, at this oversampling */
  raw(osrsT: number, osrsP: number) {
    const c = this.cal;
    const bits = (o: number) => 16 + Math.min(o, 5) - 1;
    const quant = (x: number, o: number) => x - (x & ((1 << (20 - bits(o))) - 1));
    const adcT = quant(invert((x) => compensate(c, x, 0, 0).t, this.t, 0, 0xfffff), osrsT);
    const adcP = quant(invert((x) => compensate(c, adcT, x, 0).p, this.p * 100, 0, 0xfffff), osrsP);
    const adcH = invert((x) => compensate(c, adcT, 0, x).h, this.h, 0, 0xffff);
    return { adcT, adcP, adcH };
  }

  private settle(): void {
    const r = this.regs;
    if (this.pending && !this.stuck && this.now() >= this.busyUntil) {
      this.pending = false;
      this.convert();
      r[0xf4] &= 0xfc; // forced mode ends in sleep
    } else if ((r[0xf4] & 3) === 3 && !this.stuck) this.convert();
    r[0xf3] = this.pending ? 8 : 0;
  }

  private convert(): void {
    const r = this.regs;
    const osT = r[0xf4] >> 5;
    const osP = (r[0xf4] >> 2) & 7;
    const osH = this.hum;
    const { adcT, adcP, adcH } = this.raw(osT, osP);
    const T = osT ? adcT : 0x80000;
    const P = osP ? adcP : 0x80000;
    const H = osH && this.chip === "bme280" ? adcH : 0x8000;
    r.set([P >> 12, (P >> 4) & 255, (P & 15) << 4, T >> 12, (T >> 4) & 255, (T & 15) << 4], 0xf7);
    if (this.chip === "bme280") r.set([H >> 8, H & 255], 0xfd);
    this.conversions++;
  }

  write(bytes: number[]): void {
    if (!bytes.length) return;
    this.ptr = bytes[0];
    // register/value pairs (the chip does not auto-increment on writes)
    for (let i = 0; i + 1 < bytes.length; i += 2) this.store(bytes[i], bytes[i + 1]);
  }

  private store(reg: number, v: number): void {
    const r = this.regs;
    if (reg === 0xe0) {
      if (v === 0xb6) this.reset();
    } else if (reg === 0xf2) r[0xf2] = v & 7;
    else if (reg === 0xf5) r[0xf5] = v & 0xfd;
    else if (reg === 0xf4) {
      this.settle();
      r[0xf4] = v;
      this.hum = r[0xf2] & 7; // ctrl_hum takes effect now
      const mode = v & 3;
      if (mode === 1 || mode === 2) {
        const n = (o: number) => (o ? 1 << (Math.min(o, 5) - 1) : 0);
        const osT = n(v >> 5);
        const osP = n((v >> 2) & 7);
        const osH = this.chip === "bme280" ? n(this.hum) : 0;
        const ms = 1.25 + 2.3 * osT + (osP ? 2.3 * osP + 0.575 : 0) + (osH ? 2.3 * osH + 0.575 : 0);
        this.pending = true;
        this.busyUntil = this.now() + ms;
      }
    }
  }

  read(n: number): number[] {
    this.settle();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const reg = (this.ptr + i) & 255;
      out.push(reg === 0xd0 && this.chipId !== null ? this.chipId : this.regs[reg]);
    }
    this.ptr = (this.ptr + n) & 255;
    return out;
  }
}
