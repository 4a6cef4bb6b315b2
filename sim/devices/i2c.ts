// A virtual I2C bus: the I2cBus of firmware/drivers/bus.ts over chips keyed by 7-bit address.
// A read or write to an address no chip acknowledges throws, as Espruino's I2C does.
import type { I2cBus } from "../../firmware/drivers/bus";

export interface I2cChip {
  /** a write transaction's bytes (after the address) */
  write(bytes: number[]): void;
  /** a read transaction of n bytes */
  read(n: number): number[];
  /** false while unplugged: no ACK */
  present(): boolean;
}

export class VirtualI2c implements I2cBus {
  readonly chips = new Map<number, I2cChip>();
  /** every transaction, for tests: ["w", addr, ...bytes] / ["r", addr, n] */
  readonly log: (string | number)[][] = [];

  attach(addr: number, chip: I2cChip): this {
    this.chips.set(addr, chip);
    return this;
  }

  private chip(addr: number): I2cChip {
    const c = this.chips.get(addr);
    if (!c || !c.present()) throw new Error("I2C Error: No ACK for address 0x" + addr.toString(16));
    return c;
  }

  writeTo(addr: number, data: number | number[]): void {
    const bytes = typeof data === "number" ? [data] : Array.from(data);
    this.log.push(["w", addr, ...bytes]);
    this.chip(addr).write(bytes.map((b) => b & 255));
  }

  readFrom(addr: number, n: number): number[] {
    this.log.push(["r", addr, n]);
    return this.chip(addr).read(n);
  }
}
