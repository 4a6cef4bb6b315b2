// A 1-Wire bus with DS18B20s, modelled at the time-slot level (Maxim DS18B20 datasheet and
// application note 187, "1-Wire Search Algorithm"). The wire is a wired-AND: in each slot the
// master sends a bit (1 for a read slot) and every device may pull the line low; devices run the
// datasheet's state machine (ROM command, then function command) on the line's value. The master
// side, VirtualOneWire, implements the OneWireBus of firmware/drivers/bus.ts like Espruino's
// OneWire class: reset/presence, search (the ROM search algorithm over bit slots), select (MATCH
// ROM), skip (SKIP ROM), byte write/read LSB first.
import type { OneWireBus } from "../../firmware/drivers/bus";

/** one slave on the wire */
export interface OneWireSlave {
  /** reset pulse: true for a presence pulse */
  reset(): boolean;
  /** one time slot: the line level `master` sends (1 also for read slots); returns the level this
   *  device drives (1 = released) */
  slot(master: number): number;
}

/** Maxim CRC8 (x^8 + x^5 + x^4 + 1), reflected, as a table-free shift register over bits */
export function crc8Maxim(bytes: number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    for (let i = 0; i < 8; i++) {
      const fb = (crc ^ (byte >> i)) & 1;
      crc = (crc >> 1) ^ (fb ? 0x8c : 0);
    }
  }
  return crc;
}

const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");

export class VirtualOneWire implements OneWireBus {
  readonly devices: OneWireSlave[] = [];
  /** a short to ground: presence on every reset, every bit reads 0 */
  stuckLow = false;
  /** slots on the wire since creation (a full search of n devices costs ~ 200·n) */
  slots = 0;

  attach(d: OneWireSlave): this {
    this.devices.push(d);
    return this;
  }

  detach(d: OneWireSlave): this {
    const i = this.devices.indexOf(d);
    if (i >= 0) this.devices.splice(i, 1);
    return this;
  }

  reset(): boolean {
    let presence = this.stuckLow;
    for (const d of this.devices) if (d.reset()) presence = true;
    return presence;
  }

  /** one slot: wired-AND of the master and every device */
  bit(master: number): number {
    this.slots++;
    let line = master & 1;
    const outs = this.devices.map((d) => d.slot(master & 1));
    for (const o of outs) line &= o;
    return this.stuckLow ? 0 : line;
  }

  private byteOut(b: number): void {
    for (let i = 0; i < 8; i++) this.bit((b >> i) & 1);
  }

  write(data: number | number[], _power?: boolean): void {
    for (const b of typeof data === "number" ? [data] : data) this.byteOut(b & 255);
  }

  read(n: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      let b = 0;
      for (let i = 0; i < 8; i++) b |= this.bit(1) << i;
      out.push(b);
    }
    return out;
  }

  skip(): void {
    this.byteOut(0xcc);
  }

  select(rom: string): void {
    this.byteOut(0x55);
    for (let i = 0; i < 8; i++) this.byteOut(parseInt(rom.substr(i * 2, 2), 16) & 255);
  }

  /** the ROM search of AN187: one pass per device, branching at the last discrepancy */
  search(command = 0xf0): string[] {
    const found: string[] = [];
    const rom = new Array(64).fill(0);
    let lastDiscrepancy = 0;
    // a shorted line answers 0 to everything: every bit a discrepancy, 2^64 "devices"; stop at 64
    for (let pass = 0; pass < 64; pass++) {
      if (!this.reset()) return found;
      this.byteOut(command);
      let lastZero = 0;
      for (let n = 1; n <= 64; n++) {
        const id = this.bit(1);
        const cmp = this.bit(1);
        if (id && cmp) return found; // nobody left answering
        let dir: number;
        if (id !== cmp) dir = id;
        else {
          dir = n < lastDiscrepancy ? rom[n - 1] : n === lastDiscrepancy ? 1 : 0;
          if (!dir) lastZero = n;
        }
        rom[n - 1] = dir;
        this.bit(dir);
      }
      const bytes: number[] = [];
      for (let k = 0; k < 8; k++) {
        let b = 0;
        for (let i = 0; i < 8; i++) b |= rom[k * 8 + i] << i;
        bytes.push(b);
      }
      found.push(hex(bytes));
      lastDiscrepancy = lastZero;
      if (!lastDiscrepancy) return found;
    }
    return found;
  }
}

export interface Ds18b20Options {
  /** 48-bit serial number (the ROM is family 0x28, serial LSB first, CRC) */
  serial?: number;
  t?: number;
  /** 9..12 bits (power-on: 12) */
  res?: number;
  now?: () => number;
}

type State =
  | { k: "rom"; bits: number; n: number }
  | { k: "search"; i: number; phase: number }
  | { k: "match"; i: number }
  | { k: "send"; bits: number[]; i: number; then: "fn" | "idle" }
  | { k: "fn"; bits: number; n: number }
  | { k: "recv"; bits: number; n: number; bytes: number[]; want: number }
  | { k: "convert" }
  | { k: "idle" };

export class VirtualDs18b20 implements OneWireSlave {
  readonly rom: number[];
  t: number;
  /** scratchpad: temp LSB/MSB, TH, TL, config, FFh, 0Ch, 10h (CRC computed when sent) */
  readonly sp: number[];
  private st: State = { k: "idle" };
  private convertedAt = 0;
  private converting = false;
  private now: () => number;
  /** flip a bit of the next n scratchpad reads (a CRC error) */
  corrupt = 0;
  /** never answer a CONVERT T (the temperature register keeps its power-on 85 °C) */
  noConvert = false;
  conversions = 0;

  constructor(o: Ds18b20Options = {}) {
    const serial = o.serial ?? 0x0416034e4a2b;
    const r = [0x28];
    for (let i = 0; i < 6; i++) r.push(Math.floor(serial / 2 ** (8 * i)) & 255);
    r.push(crc8Maxim(r));
    this.rom = r;
    this.t = o.t ?? 21.5;
    const res = o.res ?? 12;
    this.sp = [0x50, 0x05, 0x4b, 0x46, ((res - 9) << 5) | 0x1f, 0xff, 0x0c, 0x10];
    this.now = o.now || (() => Date.now());
  }

  get id(): string {
    return hex(this.rom);
  }

  /** the resolution in the configuration register */
  get res(): number {
    return 9 + ((this.sp[4] >> 5) & 3);
  }

  set(t: number): this {
    this.t = t;
    return this;
  }

  reset(): boolean {
    this.finishConversion();
    this.st = { k: "rom", bits: 0, n: 0 };
    return true;
  }

  private bitsOf(bytes: number[]): number[] {
    const out: number[] = [];
    for (const b of bytes) for (let i = 0; i < 8; i++) out.push((b >> i) & 1);
    return out;
  }

  private convMs(): number {
    return 93.75 * 2 ** (this.res - 9);
  }

  private finishConversion(): void {
    if (this.converting && this.now() >= this.convertedAt) {
      this.converting = false;
      // two's complement in 1/16 °C, bits below the resolution left as they were (undefined)
      let raw = Math.round(this.t * 16);
      const drop = 12 - this.res;
      raw = raw - (raw & ((1 << drop) - 1));
      raw &= 0xffff;
      this.sp[0] = raw & 255;
      this.sp[1] = raw >> 8;
      this.conversions++;
    }
  }

  private romCommand(c: number): void {
    if (c === 0xf0) this.st = { k: "search", i: 0, phase: 0 };
    else if (c === 0x55) this.st = { k: "match", i: 0 };
    else if (c === 0xcc) this.st = { k: "fn", bits: 0, n: 0 };
    else if (c === 0x33) this.st = { k: "send", bits: this.bitsOf(this.rom), i: 0, then: "fn" };
    else this.st = { k: "idle" }; // ALARM SEARCH (no alarm set) and unknown commands
  }

  private fnCommand(c: number): void {
    if (c === 0x44) {
      if (!this.noConvert) {
        this.converting = true;
        this.convertedAt = this.now() + this.convMs();
      }
      this.st = { k: "convert" };
    } else if (c === 0xbe) {
      this.finishConversion();
      const sp = this.sp.slice();
      sp.push(crc8Maxim(sp));
      if (this.corrupt > 0) {
        this.corrupt--;
        sp[0] ^= 0x04;
      }
      this.st = { k: "send", bits: this.bitsOf(sp), i: 0, then: "idle" };
    } else if (c === 0x4e) this.st = { k: "recv", bits: 0, n: 0, bytes: [], want: 3 };
    else if (c === 0xb4) this.st = { k: "send", bits: [1], i: 0, then: "idle" }; // externally powered
    else this.st = { k: "idle" }; // COPY / RECALL: nothing to model
  }

  slot(m: number): number {
    const s = this.st;
    switch (s.k) {
      case "rom":
      case "fn":
        s.bits |= m << s.n++;
        if (s.n === 8) (s.k === "rom" ? this.romCommand : this.fnCommand).call(this, s.bits);
        return 1;
      case "search": {
        const b = this.rom[s.i >> 3] >> (s.i & 7) & 1;
        if (s.phase === 0) {
          s.phase = 1;
          return b;
        }
        if (s.phase === 1) {
          s.phase = 2;
          return b ^ 1;
        }
        // the master's choice: a device whose bit differs drops out until the next reset
        if (m !== b) this.st = { k: "idle" };
        else if (++s.i === 64) this.st = { k: "fn", bits: 0, n: 0 };
        else s.phase = 0;
        return 1;
      }
      case "match": {
        const b = this.rom[s.i >> 3] >> (s.i & 7) & 1;
        if (m !== b) this.st = { k: "idle" };
        else if (++s.i === 64) this.st = { k: "fn", bits: 0, n: 0 };
        return 1;
      }
      case "send": {
        const b = s.bits[s.i++];
        if (s.i >= s.bits.length) this.st = s.then === "fn" ? { k: "fn", bits: 0, n: 0 } : { k: "idle" };
        return b;
      }
      case "recv":
        s.bits |= m << s.n++;
        if (s.n === 8) {
          s.bytes.push(s.bits);
          s.bits = 0;
          s.n = 0;
          if (s.bytes.length === s.want) {
            this.sp[2] = s.bytes[0];
            this.sp[3] = s.bytes[1];
            this.sp[4] = (s.bytes[2] & 0x60) | 0x1f;
            this.st = { k: "idle" };
          }
        }
        return 1;
      case "convert":
        // read slots during a conversion: 0 while busy, 1 when done
        this.finishConversion();
        return this.converting ? 0 : 1;
      default:
        return 1;
    }
  }
}
