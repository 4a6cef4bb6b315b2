// Bosch BME280 (temperature, pressure, humidity) and BMP280 (temperature, pressure) over I2C,
// written from the Bosch datasheets (BME280 rev 1.6 / BMP280 rev 1.19): chip id at 0xD0, trimming
// parameters at 0x88..0xA1 and 0xE1..0xE7, one forced-mode conversion per reading, and the
// double-precision compensation formulas of the datasheet's appendix ("8.1 Compensation formulas
// in double precision floating point"; Espruino numbers are doubles). No exception leaves it: a
// chip that does not answer, answers with another id, or returns values outside its operating
// range is reported as (null, reason), and the next read() starts again from the chip id.
import type { Done, Driver, I2cBus } from "./bus";

export interface Bme280Options {
  /** 7-bit address: 0x76 (SDO to GND, default) or 0x77 (SDO to VDDIO) */
  addr?: number;
  /** oversampling code for every quantity, 1..5 = x1, x2, x4, x8, x16 (default 1) */
  osr?: number;
}

/** 16-bit little-endian word of `b` at `i`, signed when `s` */
function w(b: ArrayLike<number>, i: number, s?: boolean): number {
  const v = b[i] | (b[i + 1] << 8);
  return s && v > 32767 ? v - 65536 : v;
}

/** The factory a driver file evaluates to: bme280(bus, options) → {read(cb)}; cb({t °C, p hPa,
 *  h %RH (BME280 only)}) or cb(null, reason). */
export function bme280(bus: I2cBus, o?: Bme280Options): Driver {
  const a = (o && o.addr) || 0x76;
  let osr = (o && o.osr) || 1;
  if (osr < 1 || osr > 5) osr = 1;
  // trimming parameters as read (0x88..0xA1, then 0xE1..0xE7): two small byte arrays, decoded on use
  let c1: ArrayLike<number> | null = null;
  let c2: ArrayLike<number> | null = null;
  let hum = false;
  let busy = false;
  let tries = 0;
  const reg = (r: number, n: number): ArrayLike<number> => {
    bus.writeTo(a, r);
    return bus.readFrom(a, n);
  };
  const fail = (cb: Done, why: string): void => {
    c1 = null;
    busy = false;
    cb(null, why);
  };
  const hex = (n: number): string => "0x" + (n < 16 ? "0" : "") + n.toString(16);
  /** chip id and trimming parameters; "" when ready */
  const init = (): string => {
    const id = reg(0xd0, 1)[0];
    if (id === 0x60) hum = true;
    else if (id === 0x58 || id === 0x56 || id === 0x57) hum = false;
    else return "no BME280/BMP280 at " + hex(a) + " (chip id " + hex(id & 255) + ")";
    c1 = reg(0x88, 26);
    c2 = hum ? reg(0xe1, 7) : null;
    const t1 = w(c1, 0);
    if (t1 === 0 || t1 === 65535 || w(c1, 6) === 0) return "bad calibration";
    return "";
  };
  const finish = (cb: Done): void => {
    try {
      if (reg(0xf3, 1)[0] & 8) {
        // still measuring: a little longer, twice at most
        if (++tries > 2) return fail(cb, "conversion timeout");
        setTimeout(finish, 5, cb);
        return;
      }
      const d = reg(0xf7, hum ? 8 : 6);
      const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
      const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
      if (adcT === 0x80000 || adcP === 0x80000) return fail(cb, "no data");
      const c = c1!;
      const T1 = w(c, 0);
      // temperature (datasheet 8.1, bme280_compensate_T_double)
      let v1 = (adcT / 16384 - T1 / 1024) * w(c, 2, true);
      let v2 = adcT / 131072 - T1 / 8192;
      v2 = v2 * v2 * w(c, 4, true);
      const tf = v1 + v2;
      const t = tf / 5120;
      // pressure in Pa (bme280_compensate_P_double)
      v1 = tf / 2 - 64000;
      v2 = (v1 * v1 * w(c, 16, true)) / 32768;
      v2 = v2 + v1 * w(c, 14, true) * 2;
      v2 = v2 / 4 + w(c, 12, true) * 65536;
      v1 = ((w(c, 10, true) * v1 * v1) / 524288 + w(c, 8, true) * v1) / 524288;
      v1 = (1 + v1 / 32768) * w(c, 6);
      if (v1 === 0) return fail(cb, "bad calibration");
      let p = 1048576 - adcP;
      p = ((p - v2 / 4096) * 6250) / v1;
      v1 = (w(c, 22, true) * p * p) / 2147483648;
      v2 = (p * w(c, 20, true)) / 32768;
      p = p + (v1 + v2 + w(c, 18, true)) / 16;
      const r: any = { t: t, p: p / 100 };
      if (hum) {
        const adcH = (d[6] << 8) | d[7];
        if (adcH === 0x8000) return fail(cb, "no data");
        const e = c2!;
        // humidity (bme280_compensate_H_double): H2 = E1/E2, H3 = E3, H4 = E4[11:4] E5[3:0],
        // H5 = E6[11:4] E5[7:4] (both signed 12-bit), H6 = E7 (signed)
        let h4 = (e[3] << 4) | (e[4] & 15);
        if (h4 > 2047) h4 -= 4096;
        let h5 = (e[5] << 4) | (e[4] >> 4);
        if (h5 > 2047) h5 -= 4096;
        const h6 = e[6] > 127 ? e[6] - 256 : e[6];
        let h = tf - 76800;
        h = (adcH - (h4 * 64 + (h5 / 16384) * h)) * ((w(e, 0, true) / 65536) * (1 + (h6 / 67108864) * h * (1 + (e[2] / 67108864) * h)));
        h = h * (1 - (c[25] * h) / 524288);
        r.h = h > 100 ? 100 : h < 0 ? 0 : h;
      }
      // the operating range of the datasheet (1.1: -40..85 °C, 300..1100 hPa) with a margin: far
      // outside it is a bus or chip fault, not weather
      if (!(t >= -45 && t <= 90 && r.p >= 250 && r.p <= 1200)) return fail(cb, "out of range");
      busy = false;
      cb(r);
    } catch (e) {
      fail(cb, "no answer at " + hex(a));
    }
  };
  return {
    read(cb: Done): void {
      if (busy) {
        setTimeout(cb, 0, null, "busy");
        return;
      }
      busy = true;
      tries = 0;
      let why = "";
      try {
        if (!c1) why = init();
        if (!why) {
          // ctrl_hum (0xF2) takes effect with the next ctrl_meas write; config (0xF5) 0: filter
          // off; ctrl_meas (0xF4): osrs_t, osrs_p, mode 01 = forced (one conversion, then sleep)
          if (hum) bus.writeTo(a, [0xf2, osr]);
          bus.writeTo(a, [0xf5, 0]);
          bus.writeTo(a, [0xf4, (osr << 5) | (osr << 2) | 1]);
        }
      } catch (e) {
        why = "no answer at " + hex(a);
      }
      if (why) {
        c1 = null;
        busy = false;
        setTimeout(cb, 0, null, why);
        return;
      }
      // maximum measurement time (datasheet 9.1): 1.25 + 2.3·T + (2.3·P + 0.575) [+ (2.3·H + 0.575)] ms
      const n = 1 << (osr - 1);
      setTimeout(finish, Math.ceil(1.25 + 2.3 * n + 2.3 * n + 0.575 + (hum ? 2.3 * n + 0.575 : 0)), cb);
    },
  };
}
