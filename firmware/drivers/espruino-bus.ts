// The buses of firmware/drivers/bus.ts made from Espruino's own objects: the one file of the
// drivers that touches Espruino globals (I2C1, OneWire, pinMode, digitalWrite, digitalPulse,
// setWatch, clearWatch). Built to dist/<board>.drv.bus.js, which evaluates to this object;
// the runtime loads it once, only when some sensor input is configured.
import type { I2cBus, OneWireBus, PinBus } from "./bus";

export const buses = {
  /** Espruino's software I2C on these pins (`new I2C()`): on every board and any two pins, one bus
   *  per sensor, and a missing chip is an exception ("I2C Error: ...") that the driver reports.
   *  (I2C1 is the same bit-banged master on the ESP8266; boards/*.json do not declare it.) */
  i2c(sda: number, scl: number, bitrate?: number): I2cBus {
    const b = new I2C();
    b.setup({ sda: sda, scl: scl, bitrate: bitrate || 100000 });
    return b as any;
  },
  /** Espruino's OneWire has the bus's methods already */
  ow(pin: number): OneWireBus {
    return new OneWire(pin) as any;
  },
  /** open drain with the internal pull-up, set by hand so that digitalPulse and setWatch keep it:
   *  the line is released (high) except while low() pulls it down */
  pin(p: number): PinBus {
    pinMode(p, "opendrain_pullup", false);
    digitalWrite(p, 1);
    return {
      low(ms: number): void {
        digitalPulse(p, false, ms);
      },
      watch(fn: (t: number) => void): any {
        return setWatch((e) => fn(e.time), p, { edge: "falling", repeat: true });
      },
      unwatch(id: any): void {
        // clearWatch() with no id would clear every watch of the device
        if (id) clearWatch(id);
      },
    };
  },
};
