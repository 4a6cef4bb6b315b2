import { strict as assert } from "node:assert";
import { crc8, ds18b20 } from "../../firmware/drivers/ds18b20";
import { VirtualDs18b20, VirtualOneWire, crc8Maxim } from "../../sim/devices/onewire";
import { near, reading, useClock, variants } from "./helpers";

describe("1-Wire model", () => {
  it("the two CRC8 implementations agree, and the datasheet's ROM example checks", () => {
    // Maxim AN27 example ROM: 02 1C B8 01 00 00 00 A2 (family 02, CRC A2)
    const rom = [0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00];
    assert.equal(crc8(rom, 7), 0xa2);
    assert.equal(crc8Maxim(rom), 0xa2);
    assert.equal(crc8([...rom, 0xa2], 8), 0);
    for (let i = 0; i < 200; i++) {
      const b = Array.from({ length: 9 }, (_, k) => (i * 31 + k * 97) & 255);
      assert.equal(crc8(b, 9), crc8Maxim(b));
    }
  });

  it("the ROM search finds every device whatever their bits, and nothing on an empty bus", () => {
    const bus = new VirtualOneWire();
    assert.deepEqual(bus.search(), []);
    const serials = [0x000000000001, 0x800000000000, 0x0416034e4a2b, 0x0416034e4a2a, 0x7fffffffffff, 0x123456789abc];
    const devs = serials.map((s) => new VirtualDs18b20({ serial: s }));
    for (const d of devs) bus.attach(d);
    assert.deepEqual(bus.search().sort(), devs.map((d) => d.id).sort());
  });
});

for (const [label, make] of variants("ds18b20", ds18b20)) {
  describe(`ds18b20 driver (${label})`, () => {
    const clock = useClock();

    it("finds one sensor, converts without blocking for 750 ms, reads it within 1/16 °C", async () => {
      const dev = new VirtualDs18b20({ t: 23.37 });
      const bus = new VirtualOneWire().attach(dev);
      const d = make()(bus);
      const calls: any[][] = [];
      d.read((v, e) => calls.push([v, e]));
      await clock().tickAsync(749);
      assert.equal(calls.length, 0, "not before the 12-bit conversion time");
      await clock().tickAsync(1);
      const got = calls[0];
      assert.equal(got[1], undefined);
      assert.deepEqual(Object.keys(got[0]), [dev.id]);
      near(got[0][dev.id], 23.37, 0.0625, "t");
      assert.equal(dev.conversions, 1);
    });

    it("reads several sensors on one bus, each by its ROM id, below zero and at the limits", async () => {
      const temps = [-55, -10.125, 0, 25.0625, 125];
      const devs = temps.map((t, i) => new VirtualDs18b20({ serial: 0x1000 + i * 0x10101, t }));
      const bus = new VirtualOneWire();
      devs.forEach((x) => bus.attach(x));
      const r = await reading(make()(bus));
      assert.equal(r.err, undefined);
      assert.equal(Object.keys(r.v).length, 5);
      devs.forEach((x, i) => near(r.v[x.id], temps[i], 0.0625, x.id));
    });

    it("reads the ROMs of the config only, in its order, and names a missing one", async () => {
      const a = new VirtualDs18b20({ serial: 1, t: 10 });
      const b = new VirtualDs18b20({ serial: 2, t: 20 });
      const c = new VirtualDs18b20({ serial: 3, t: 30 });
      const bus = new VirtualOneWire().attach(a).attach(b);
      const r = await reading(make()(bus, { rom: [b.id, c.id] }));
      assert.deepEqual(r.v, { [b.id]: 20 });
      assert.equal(r.err, `${c.id}: no answer`);
      const only = await reading(make()(bus, { rom: [c.id] }));
      assert.deepEqual([only.v, only.err], [null, "no answer"]);
    });

    it("sets the resolution: 9 bits waits 94 ms and reads in 0.5 °C steps", async () => {
      const dev = new VirtualDs18b20({ t: 21.8 });
      const bus = new VirtualOneWire().attach(dev);
      const r = await reading(make()(bus, { res: 9 }), 94);
      assert.equal(dev.res, 9);
      assert.deepEqual(r.v, { [dev.id]: 21.5 });
    });

    it("reports an empty bus (no presence pulse) as (null, 'no answer')", async () => {
      const r = await reading(make()(new VirtualOneWire()));
      assert.deepEqual([r.v, r.err], [null, "no answer"]);
    });

    it("reports a CRC error, and reads again on the next period", async () => {
      const dev = new VirtualDs18b20({ t: 19 });
      const bus = new VirtualOneWire().attach(dev);
      const d = make()(bus);
      dev.corrupt = 1;
      const r = await reading(d);
      assert.deepEqual([r.v, r.err], [null, "crc error"]);
      assert.deepEqual((await reading(d)).v, { [dev.id]: 19 });
    });

    it("reports one bad sensor of two with the other's reading", async () => {
      const a = new VirtualDs18b20({ serial: 10, t: 5 });
      const b = new VirtualDs18b20({ serial: 11, t: 6 });
      const bus = new VirtualOneWire().attach(a).attach(b);
      b.corrupt = 1;
      const r = await reading(make()(bus));
      assert.deepEqual(r.v, { [a.id]: 5 });
      assert.equal(r.err, `${b.id}: crc error`);
    });

    it("reports a sensor unplugged during its conversion", async () => {
      const dev = new VirtualDs18b20();
      const bus = new VirtualOneWire().attach(dev);
      const d = make()(bus);
      let got: any = null;
      d.read((v, e) => (got = [v, e]));
      bus.detach(dev);
      await clock().tickAsync(750);
      assert.deepEqual(got, [null, "no answer"]);
    });

    it("does not take a line stuck low (all zeros, a valid CRC) for 0 °C", async () => {
      const bus = new VirtualOneWire();
      bus.stuckLow = true;
      const found = await reading(make()(bus));
      assert.deepEqual([found.v, found.err], [null, "no sensor"]);
      const byRom = await reading(make()(bus, { rom: ["28ff4a2b0416034e"] }));
      assert.deepEqual([byRom.v, byRom.err], [null, "bad scratchpad"]);
    });

    it("answers 'busy' to a read during a conversion, and survives a throwing bus", async () => {
      const bus = new VirtualOneWire().attach(new VirtualDs18b20());
      const d = make()(bus);
      const first = reading(d);
      const second: any[] = [];
      d.read((v, e) => second.push([v, e]));
      assert.equal((await first).err, undefined);
      assert.deepEqual(second, [[null, "busy"]]);
      const bad = { reset: () => true, search() { throw new Error("x"); } } as any;
      const r = await reading(make()(bad));
      assert.deepEqual([r.v, r.err], [null, "bus error"]);
    });
  });
}
