// Virtual hardware: the sensor buses wired to a board's pins (issue 13 phase B), shared by the
// engines. An I2C bus per (sda, scl) pair carrying VirtualBme280 chips, a 1-Wire bus per pin
// carrying VirtualDs18b20s, a VirtualDht per pin. The V8 engine routes the realm's `new I2C()`
// (setup on those pins), `new OneWire(pin)` and `digitalPulse` + `setWatch` on a DHT's pin here
// (sim/board.ts); a pin with nothing wired behaves like the bare pin (I2C: no ACK, 1-Wire: no
// presence, DHT: no edges). Scenario steps (sim/scenario.ts "sensor") script values and faults.
import { VirtualI2c } from "../devices/i2c";
import { VirtualBme280, type Bme280Options } from "../devices/bme280";
import { VirtualDs18b20, VirtualOneWire, type Ds18b20Options } from "../devices/onewire";
import { VirtualDht, type DhtOptions } from "../devices/dht";

export type SensorDevice = VirtualBme280 | VirtualDs18b20 | VirtualDht;

export class SensorBuses {
  /** "<sda>,<scl>" pin names -> bus */
  readonly i2c = new Map<string, VirtualI2c>();
  /** pin name -> bus */
  readonly ow = new Map<string, VirtualOneWire>();
  readonly dht = new Map<string, VirtualDht>();
  /** every device by a name the scenario uses (default: its type and pin(s)) */
  readonly byName = new Map<string, SensorDevice>();
  /** the bus each DS18B20 is (or was, while unplugged) wired to */
  private readonly owOf = new Map<VirtualDs18b20, VirtualOneWire>();

  constructor(private readonly now: () => number) {}

  i2cBus(sda: string, scl: string): VirtualI2c {
    const k = sda + "," + scl;
    let b = this.i2c.get(k);
    if (!b) this.i2c.set(k, (b = new VirtualI2c()));
    return b;
  }

  owBus(pin: string): VirtualOneWire {
    let b = this.ow.get(pin);
    if (!b) this.ow.set(pin, (b = new VirtualOneWire()));
    return b;
  }

  /** wires a BME280/BMP280 at addr (default 0x76) on sda/scl */
  addBme280(sda: string, scl: string, o: Bme280Options & { addr?: number; name?: string } = {}): VirtualBme280 {
    const d = new VirtualBme280({ now: this.now, ...o });
    this.i2cBus(sda, scl).attach(o.addr || 0x76, d);
    this.byName.set(o.name || `${d.chip}@${sda},${scl}`, d);
    return d;
  }

  /** wires a DS18B20 on the 1-Wire pin */
  addDs18b20(pin: string, o: Ds18b20Options & { name?: string } = {}): VirtualDs18b20 {
    const d = new VirtualDs18b20({ now: this.now, ...o });
    this.owBus(pin).attach(d);
    this.owOf.set(d, this.owBus(pin));
    this.byName.set(o.name || `ds18b20@${pin}:${d.id}`, d);
    return d;
  }

  /** wires a DHT22/DHT11 on the pin */
  addDht(pin: string, o: DhtOptions & { name?: string } = {}): VirtualDht {
    const d = new VirtualDht({ now: this.now, ...o });
    this.dht.set(pin, d);
    this.byName.set(o.name || `dht${d.type}@${pin}`, d);
    return d;
  }

  /** the DHT falling edges (µs after the host's release) that a low pulse of ms on the pin gets back */
  dhtAnswer(pin: string, ms: number): number[] | null {
    const d = this.dht.get(pin);
    if (!d) return null;
    return d.plugged && ms >= (d.type === 22 ? 0.8 : 18) ? d.answer() : [];
  }

  /** the device a scenario names: its name, else the only device of that type ("bme280", "ds18b20", "dht22") */
  find(name: string): SensorDevice {
    const d = this.byName.get(name);
    if (d) return d;
    const hits = [...this.byName.entries()].filter(([k]) => k.startsWith(name + "@"));
    if (hits.length === 1) return hits[0][1];
    throw new Error(`no sensor ${name} (have ${[...this.byName.keys()].join(", ") || "none"})`);
  }

  /** a scenario step on a device: {set: {t, p, h}}, unplug, plug, corrupt (n readings), and per type chipId, stuck, noConvert, truncate */
  apply(name: string, a: { set?: { t?: number; p?: number; h?: number }; unplug?: boolean; plug?: boolean; corrupt?: number; chipId?: number | null; stuck?: boolean; noConvert?: boolean; truncate?: number }): void {
    const d = this.find(name);
    if (d instanceof VirtualDs18b20) {
      if (a.set && a.set.t !== undefined) d.set(a.set.t);
      const bus = this.owOf.get(d)!;
      if (a.unplug) bus.detach(d);
      if (a.plug && !bus.devices.includes(d)) bus.attach(d);
      if (a.corrupt !== undefined) d.corrupt = a.corrupt;
      if (a.noConvert !== undefined) d.noConvert = a.noConvert;
      return;
    }
    if (a.set) d.set(a.set);
    if (a.unplug) d.unplug();
    if (a.plug) d.plug();
    if (d instanceof VirtualBme280) {
      if (a.chipId !== undefined) d.chipId = a.chipId;
      if (a.stuck !== undefined) d.stuck = a.stuck;
    } else {
      if (a.corrupt !== undefined) d.corrupt = a.corrupt;
      if (a.truncate !== undefined) d.truncate = a.truncate;
    }
  }
}
