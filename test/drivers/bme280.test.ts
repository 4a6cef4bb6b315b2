import { strict as assert } from "node:assert";
import { bme280 } from "../../firmware/drivers/bme280";
import { VirtualBme280 } from "../../sim/devices/bme280";
import { VirtualI2c } from "../../sim/devices/i2c";
import { near, reading, useClock, variants } from "./helpers";

// resolution with the IIR filter off (datasheet 3.4.1/3.4.2 and table 7): 16 + osrs - 1 bits.
// Temperature 0.0050 °C at x1, pressure 2.62 Pa at x1 and 0.16 Pa at x16; humidity 0.008 %RH.
const TOL = { 1: { t: 0.006, p: 0.03, h: 0.01 }, 5: { t: 0.0005, p: 0.003, h: 0.01 } } as const;

for (const [label, make] of variants("bme280", bme280)) {
  describe(`bme280 driver (${label})`, () => {
    useClock();
    const setup = (o: ConstructorParameters<typeof VirtualBme280>[0] = {}, addr = 0x76) => {
      const dev = new VirtualBme280(o);
      const bus = new VirtualI2c().attach(addr, dev);
      return { dev, bus };
    };

    it("maps the BMP280 datasheet's worked example (3.12) to 25.08 °C and 100653.27 Pa", async () => {
      const { dev, bus } = setup({ chip: "bmp280" });
      dev.raw = () => ({ adcT: 519888, adcP: 415148, adcH: 0 });
      const r = await reading(make()(bus));
      assert.equal(r.err, undefined);
      near(r.v.t, 25.08, 0.005, "t");
      near(r.v.p, 1006.5327, 0.0001, "p hPa");
      assert.equal("h" in r.v, false, "a BMP280 has no humidity");
    });

    for (const osr of [1, 5] as const) {
      it(`reads temperature, pressure and humidity within the x${1 << (osr - 1)} resolution`, async () => {
        const { dev, bus } = setup();
        const d = make()(bus, { osr });
        for (const [t, p, h] of [
          [21.5, 1013.25, 45],
          [-30.25, 350.5, 5.5],
          [0, 1100, 99],
          [59.99, 870.12, 67.8],
        ]) {
          dev.set({ t, p, h });
          const r = await reading(d);
          assert.equal(r.err, undefined, r.err);
          near(r.v.t, t, TOL[osr].t, "t");
          near(r.v.p, p, TOL[osr].p, "p");
          near(r.v.h, h, TOL[osr].h, "h");
        }
        assert.equal(dev.conversions, 4, "one forced conversion per reading");
        assert.equal(dev.regs[0xf4] & 3, 0, "back in sleep mode after the forced conversion");
        assert.equal(dev.regs[0xf4] >> 5, osr, "osrs_t");
        assert.equal(dev.regs[0xf2], osr, "osrs_h");
      });
    }

    it("reads a BMP280 (chip id 0x58) at 0x77 as {t, p}", async () => {
      const { dev, bus } = setup({ chip: "bmp280", t: 18.2, p: 990 }, 0x77);
      const r = await reading(make()(bus, { addr: 0x77 }));
      assert.equal(r.err, undefined);
      assert.deepEqual(Object.keys(r.v).sort(), ["p", "t"]);
      near(r.v.t, 18.2, 0.006, "t");
      near(r.v.p, 990, 0.03, "p");
      assert.equal(dev.conversions, 1);
    });

    it("reports nothing on the bus as a value: (null, 'no answer at 0x76')", async () => {
      const r = await reading(make()(new VirtualI2c()));
      assert.equal(r.v, null);
      assert.equal(r.err, "no answer at 0x76");
    });

    it("reports the wrong address (chip at 0x77, driver at 0x76)", async () => {
      const { bus } = setup({}, 0x77);
      const r = await reading(make()(bus));
      assert.deepEqual([r.v, r.err], [null, "no answer at 0x76"]);
    });

    it("reports another chip at the address by its id", async () => {
      const { dev, bus } = setup();
      dev.chipId = 0x55;
      const r = await reading(make()(bus));
      assert.deepEqual([r.v, r.err], [null, "no BME280/BMP280 at 0x76 (chip id 0x55)"]);
    });

    it("reports an unplugged sensor, then reads again once it is back (calibration read anew)", async () => {
      const { dev, bus } = setup({ t: 25 });
      const d = make()(bus);
      assert.equal((await reading(d)).err, undefined);
      dev.unplug();
      assert.deepEqual(Object.values(await reading(d)).slice(0, 2), [null, "no answer at 0x76"]);
      dev.plug();
      const before = bus.log.filter((x) => x[0] === "w" && x[2] === 0xd0).length;
      const r = await reading(d);
      assert.equal(r.err, undefined);
      near(r.v.t, 25, 0.006, "t");
      assert.equal(bus.log.filter((x) => x[0] === "w" && x[2] === 0xd0).length, before + 1, "chip id checked again");
    });

    it("reports a conversion that never ends, and answers 'busy' to a read during one", async () => {
      const { dev, bus } = setup();
      const d = make()(bus);
      dev.stuck = true;
      const second: any[] = [];
      const first = reading(d, 100);
      d.read((v, e) => second.push([v, e]));
      const r = await first;
      assert.deepEqual(second, [[null, "busy"]]);
      assert.deepEqual([r.v, r.err], [null, "conversion timeout"]);
      dev.stuck = false;
      assert.equal((await reading(d)).err, undefined, "reads again after the fault");
    });

    it("reports data registers that never left their reset value (0x80000)", async () => {
      const { dev, bus } = setup();
      dev.raw = () => ({ adcT: 0x80000, adcP: 0x80000, adcH: 0x8000 });
      assert.deepEqual(Object.values(await reading(make()(bus))).slice(0, 2), [null, "no data"]);
    });

    it("survives garbage bytes and a bus that throws anything", async () => {
      const garbage = { writeTo() {}, readFrom: (_a: number, n: number) => Array.from({ length: n }, (_, i) => (i * 37 + 0x11) & 255) };
      const r1 = await reading(make()(garbage));
      assert.deepEqual([r1.v, r1.err], [null, "no BME280/BMP280 at 0x76 (chip id 0x11)"]);
      const throwing = { writeTo() { throw "odd"; }, readFrom() { throw null; } };
      const r2 = await reading(make()(throwing as any));
      assert.deepEqual([r2.v, r2.err], [null, "no answer at 0x76"]);
    });
  });
}
