// Maxim DS18B20 digital thermometers on one 1-Wire bus, written from the Maxim datasheet
// (19-7487 rev 6): SEARCH ROM finds the devices (family code 0x28, ROM CRC checked), one CONVERT T
// (0x44) after SKIP ROM starts every sensor at once, the conversion time of the resolution is
// waited for with setTimeout (750 ms at 12 bits: nothing blocks meanwhile), then each sensor is
// addressed by MATCH ROM and its scratchpad read (0xBE) and checked: CRC8 (x^8 + x^5 + x^4 + 1)
// and the fixed bits of the configuration register, so that a line stuck low (all zeros, which
// has a valid CRC) or released (all ones) is not taken for a reading.
import type { Done, Driver, OneWireBus } from "./bus";

export interface Ds18b20Options {
  /** ROM ids to read, in this order; default: every DS18B20 the search finds, on each reading */
  rom?: string[];
  /** resolution in bits, 9..12: written to the sensors before each conversion when given */
  res?: number;
}

/** Dallas/Maxim CRC8 of b[0..n-1]: 0 over a whole ROM or scratchpad means it is intact. */
export function crc8(b: ArrayLike<number>, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) {
    let x = b[i];
    for (let k = 0; k < 8; k++) {
      const m = (c ^ x) & 1;
      c >>= 1;
      if (m) c ^= 0x8c;
      x >>= 1;
    }
  }
  return c;
}

/** The factory a driver file evaluates to: ds18b20(bus, options) → {read(cb)};
 *  cb({"<rom>": °C, ...}, failures?) or cb(null, reason). */
export function ds18b20(bus: OneWireBus, o?: Ds18b20Options): Driver {
  const res = o && o.res && o.res >= 9 && o.res <= 12 ? o.res : 0;
  let busy = false;
  /** one sensor's temperature, or why not */
  const one = (rom: string): number | string => {
    // the try/catch is the whole body, so that nothing follows it in the caller: on Espruino 2v29
    // the minified `"number"==typeof t` right after a catch that did not run reads its string as ""
    try {
      if (!bus.reset()) return "no answer";
      bus.select(rom);
      bus.write(0xbe);
      const d = bus.read(9);
      let ones = 0;
      for (let i = 0; i < 9; i++) if (d[i] === 255) ones++;
      if (ones === 9) return "no answer";
      if (crc8(d, 9)) return "crc error";
      // configuration register: bit 7 is 0, bits 4..0 are 1 (all zeros has a valid CRC: a shorted line)
      if ((d[4] & 0x9f) !== 0x1f) return "bad scratchpad";
      let raw = d[0] | (d[1] << 8);
      if (raw > 32767) raw -= 65536;
      // bits below the resolution are undefined (datasheet: 9 bits leaves 3 of them)
      const drop = 3 - ((d[4] >> 5) & 3);
      raw = raw - (raw & ((1 << drop) - 1));
      return raw / 16;
    } catch (e) {
      return "bus error";
    }
  };
  return {
    read(cb: Done): void {
      if (busy) {
        setTimeout(cb, 0, null, "busy");
        return;
      }
      let roms: string[] = [];
      let why = "";
      try {
        if (!bus.reset()) why = "no answer";
        else {
          if (o && o.rom) roms = o.rom;
          else {
            const all = bus.search() || [];
            for (let i = 0; i < all.length; i++) {
              const r = all[i];
              const b = [];
              for (let k = 0; k < 8; k++) b.push(parseInt(r.substr(k * 2, 2), 16));
              if (b[0] === 0x28 && !crc8(b, 8)) roms.push(r);
            }
          }
          if (!roms.length) why = "no sensor";
          else {
            if (res) {
              // WRITE SCRATCHPAD: TH, TL (alarm limits, unused here), configuration R1 R0 1 1 1 1 1
              bus.reset();
              bus.skip();
              bus.write([0x4e, 0x7f, 0x80, ((res - 9) << 5) | 0x1f]);
            }
            bus.reset();
            bus.skip();
            bus.write(0x44, true);
          }
        }
      } catch (e) {
        why = "bus error";
      }
      if (why) {
        setTimeout(cb, 0, null, why);
        return;
      }
      busy = true;
      // conversion time (datasheet, tCONV max): 93.75 ms at 9 bits, doubling per bit to 750 ms
      setTimeout(
        () => {
          busy = false;
          const v: any = {};
          let n = 0;
          let bad = "";
          for (let i = 0; i < roms.length; i++) {
            const t = one(roms[i]);
            if (typeof t === "number") {
              v[roms[i]] = t;
              n++;
            } else bad += (bad ? ", " : "") + roms[i] + ": " + t;
          }
          if (n) cb(v, bad || undefined);
          else cb(null, roms.length === 1 ? bad.substr(18) : bad);
        },
        Math.ceil(750 / (1 << (12 - (res || 12)))),
      );
    },
  };
}
