// A DHT22 (AM2302) / DHT11 on one open-drain pin (Aosong datasheets). The host's low pulse must
// last long enough (DHT22 ≥ 0.8 ms, DHT11 ≥ 18 ms); after the release the sensor waits ~30 µs,
// answers 80 µs low + 80 µs high, then sends 40 bits (50 µs low, then 26 µs high for 0 or 70 µs
// for 1), and ends with 50 µs low before releasing the line. It implements the PinBus of
// firmware/drivers/bus.ts: low(ms) pulls the line down, and the watchers get every falling edge
// of the line with its time in seconds (the host's own edge included), delivered when the host's
// pulse ends (a timer of `ms`), as Espruino queues setWatch events with their times.
import type { PinBus } from "../../firmware/drivers/bus";
import { seededRandom } from "../sensors";

export interface DhtOptions {
  type?: 22 | 11;
  t?: number;
  h?: number;
  /** ± µs of random jitter on every edge (seeded) */
  jitterUs?: number;
  seed?: number;
  now?: () => number;
}

export class VirtualDht implements PinBus {
  readonly type: 22 | 11;
  t: number;
  h: number;
  plugged = true;
  /** add this to the checksum byte of the next n frames */
  corrupt = 0;
  /** stop after this many bits of the next frame (a glitch or a missed edge), -1: off */
  truncate = -1;
  frames = 0;
  private watchers = new Map<number, (t: number) => void>();
  private nextId = 1;
  private now: () => number;
  private rnd: () => number;
  private jitter: number;

  constructor(o: DhtOptions = {}) {
    this.type = o.type || 22;
    this.t = o.t ?? 21.5;
    this.h = o.h ?? 45;
    this.now = o.now || (() => Date.now());
    this.rnd = seededRandom(o.seed ?? 1);
    this.jitter = o.jitterUs || 0;
  }

  set(v: { t?: number; h?: number }): this {
    if (v.t !== undefined) this.t = v.t;
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

  /** the 5 bytes for the set values (DHT22: tenths, sign bit 15; DHT11: integral and decimal bytes) */
  frame(): number[] {
    let b: number[];
    if (this.type === 22) {
      const h = Math.round(this.h * 10);
      const t = Math.round(Math.abs(this.t) * 10) | (this.t < 0 ? 0x8000 : 0);
      b = [h >> 8, h & 255, t >> 8, t & 255];
    } else {
      const h = Math.round(this.h * 10);
      const t = Math.round(Math.abs(this.t) * 10);
      b = [Math.floor(h / 10), h % 10, Math.floor(t / 10), (t % 10) | (this.t < 0 ? 0x80 : 0)];
    }
    b.push((b[0] + b[1] + b[2] + b[3]) & 255);
    return b;
  }

  /** the sensor's answer: times (µs after the host's release) of the line's falling edges */
  answer(): number[] {
    const b = this.frame();
    if (this.corrupt > 0) {
      this.corrupt--;
      b[4] = (b[4] + 1) & 255;
    }
    const j = () => (this.jitter ? (this.rnd() * 2 - 1) * this.jitter : 0);
    const falls: number[] = [];
    let t = 30 + j(); // Tgo: sensor pulls low
    falls.push(t);
    t += 80 + 80 + j(); // response low, response high
    const bits = this.truncate >= 0 ? this.truncate : 40;
    this.truncate = -1;
    for (let i = 0; i < bits; i++) {
      falls.push(t); // start of bit i (50 µs low)
      const one = (b[i >> 3] >> (7 - (i & 7))) & 1;
      t += 50 + (one ? 70 : 26) + j();
    }
    if (bits === 40) falls.push(t); // end of frame: 50 µs low, then released
    this.frames++;
    return falls;
  }

  low(ms: number): void {
    const t0 = this.now() / 1000;
    this.emit(t0);
    const long = ms >= (this.type === 22 ? 0.8 : 18);
    const falls = this.plugged && long ? this.answer() : [];
    setTimeout(() => {
      for (const us of falls) this.emit(t0 + ms / 1000 + us / 1e6);
    }, ms);
  }

  private emit(t: number): void {
    for (const fn of [...this.watchers.values()]) fn(t);
  }

  watch(fn: (t: number) => void): number {
    const id = this.nextId++;
    this.watchers.set(id, fn);
    return id;
  }

  unwatch(id: number): void {
    this.watchers.delete(id);
  }

  get watching(): number {
    return this.watchers.size;
  }
}
