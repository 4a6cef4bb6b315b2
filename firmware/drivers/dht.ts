// Aosong DHT22 (AM2302) and DHT11 humidity/temperature sensors on one open-drain data pin, written
// from the Aosong datasheets. The host pulls the line low (DHT22: about 1 ms; DHT11: at least
// 18 ms) and releases it; the sensor answers 80 µs low + 80 µs high, then 40 bits, each 50 µs low
// followed by 26-28 µs high for a 0 or 70 µs high for a 1, MSB first: humidity (2 bytes),
// temperature (2 bytes), checksum (low byte of the sum of the four). Only falling edges are
// watched: the time from one falling edge to the next is one bit (about 78 µs for a 0, 120 µs for
// a 1), so 41 falling edges after the response carry the frame whatever came before them. The
// bits go through a 5-byte shift register as they come: nothing is stored per edge.
import type { Done, Driver, PinBus } from "./bus";

export interface DhtOptions {
  /** 22 (DHT22/AM2302, default) or 11 */
  type?: number;
}

/** The factory a driver file evaluates to: dht(bus, options) → {read(cb)}; cb({t °C, h %RH}) or
 *  cb(null, reason). Read it no more often than every 2 s (DHT22) or 1 s (DHT11). */
export function dht(bus: PinBus, o?: DhtOptions): Driver {
  const d11 = !!o && o.type === 11;
  const start = d11 ? 18 : 1;
  let busy = false;
  // the last 40 bits (s[0] oldest), edges seen, time of the last falling edge
  const s = [0, 0, 0, 0, 0];
  let n = 0;
  let last = 0;
  const edge = (t: number): void => {
    if (n++) {
      // 100 µs: halfway between a 0 (76-78 µs) and a 1 (120 µs)
      let b = t - last > 0.0001 ? 1 : 0;
      for (let i = 4; i >= 0; i--) {
        const x = s[i];
        s[i] = ((x << 1) | b) & 255;
        b = x >> 7;
      }
    }
    last = t;
  };
  return {
    read(cb: Done): void {
      if (busy) {
        setTimeout(cb, 0, null, "busy");
        return;
      }
      busy = true;
      n = 0;
      for (let i = 0; i < 5; i++) s[i] = 0;
      let id: any = null;
      try {
        id = bus.watch(edge);
        bus.low(start);
      } catch (e) {
        // leave `id` to the timeout below, which stops the watch and reports
        n = -1;
      }
      // the whole answer takes at most 0.2 + 0.16 + 40 * 0.12 ≈ 5.2 ms after the release
      setTimeout(() => {
        // declared before the returns below: Espruino does not hoist var, and a `var` behind a
        // return never runs; minified, t and h took the names of the factory's `start` and
        // `last`, so a reading overwrote the start pulse (a negative one: no answer ever after)
        let t: number;
        let h: number;
        busy = false;
        try {
          if (id !== null) bus.unwatch(id);
        } catch (e) {}
        // falling edges: ours (start), the sensor's response, then one per bit and one at the end
        if (n < 0) return cb(null, "pin error");
        if (n < 3) return cb(null, "no answer");
        if (n < 42) return cb(null, "short frame (" + (n - 2) + " bits)");
        if (((s[0] + s[1] + s[2] + s[3]) & 255) !== s[4]) return cb(null, "checksum");
        if (d11) {
          // integral and decimal bytes; a set bit 7 of the temperature decimal marks below zero
          h = s[0] + s[1] / 10;
          t = s[2] + (s[3] & 127) / 10;
          if (s[3] & 128) t = -t;
        } else {
          // tenths of %RH and of °C; bit 15 of the temperature is its sign
          h = ((s[0] << 8) | s[1]) / 10;
          t = (((s[2] & 127) << 8) | s[3]) / 10;
          if (s[2] & 128) t = -t;
        }
        if (h > 100 || t < -40 || t > 80) return cb(null, "out of range");
        cb({ t: t, h: h });
      }, start + 10);
    },
  };
}
