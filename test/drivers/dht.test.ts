import { strict as assert } from "node:assert";
import { dht } from "../../firmware/drivers/dht";
import { VirtualDht } from "../../sim/devices/dht";
import { reading, useClock, variants } from "./helpers";

for (const [label, make] of variants("dht", dht)) {
  describe(`dht driver (${label})`, () => {
    useClock();

    it("decodes a DHT22 frame: tenths of °C and %RH, below zero too", async () => {
      const dev = new VirtualDht({ type: 22 });
      const d = make()(dev);
      for (const [t, h] of [
        [23.4, 56.7],
        [-7.3, 99.9],
        [-40, 0.1],
        [80, 100],
      ]) {
        dev.set({ t, h });
        const r = await reading(d, 2000);
        assert.equal(r.err, undefined, r.err);
        assert.deepEqual(r.v, { t, h });
      }
      assert.equal(dev.watching, 0, "the watch is released after each reading");
    });

    it("decodes a DHT11 frame (18 ms start pulse, integral + decimal bytes)", async () => {
      const dev = new VirtualDht({ type: 11, t: 24.5, h: 61 });
      const r = await reading(make()(dev, { type: 11 }), 1000);
      assert.deepEqual([r.v, r.err], [{ t: 24.5, h: 61 }, undefined]);
    });

    it("decodes through ±15 µs of jitter on every edge", async () => {
      const dev = new VirtualDht({ type: 22, jitterUs: 15, seed: 7 });
      const d = make()(dev);
      for (let i = 0; i < 20; i++) {
        dev.set({ t: -20 + i * 3.7, h: 5 + i * 4.5 });
        const r = await reading(d, 2000);
        assert.deepEqual(r.v, { t: Math.round((-20 + i * 3.7) * 10) / 10, h: Math.round((5 + i * 4.5) * 10) / 10 });
      }
    });

    it("reports an unplugged sensor as (null, 'no answer') and releases the pin", async () => {
      const dev = new VirtualDht().unplug();
      const r = await reading(make()(dev));
      assert.deepEqual([r.v, r.err], [null, "no answer"]);
      assert.equal(dev.watching, 0);
    });

    it("reports a DHT11 started with the DHT22's 1 ms pulse as not answering", async () => {
      const dev = new VirtualDht({ type: 11 });
      const r = await reading(make()(dev, { type: 22 }));
      assert.deepEqual([r.v, r.err], [null, "no answer"]);
    });

    it("reports a bad checksum, and reads again on the next period", async () => {
      const dev = new VirtualDht({ t: 21, h: 40 });
      const d = make()(dev);
      dev.corrupt = 1;
      const r = await reading(d, 2000);
      assert.deepEqual([r.v, r.err], [null, "checksum"]);
      assert.deepEqual((await reading(d, 2000)).v, { t: 21, h: 40 });
    });

    it("reports a frame cut short (missed edges)", async () => {
      const dev = new VirtualDht();
      dev.truncate = 25;
      const r = await reading(make()(dev));
      assert.deepEqual([r.v, r.err], [null, "short frame (25 bits)"]);
    });

    it("answers 'busy' during a reading and survives a pin that throws", async () => {
      const dev = new VirtualDht();
      const d = make()(dev);
      const first = reading(d);
      const second: any[] = [];
      d.read((v, e) => second.push([v, e]));
      assert.equal((await first).err, undefined);
      assert.deepEqual(second, [[null, "busy"]]);
      const bad = { watch: () => 1, low() { throw new Error("pin"); }, unwatch() { throw new Error("again"); } };
      const r = await reading(make()(bad));
      assert.deepEqual([r.v, r.err], [null, "pin error"]);
    });
  });
}
