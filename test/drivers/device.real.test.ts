// The whole device with sensor inputs on the REAL interpreter (espruino-esp8266/esp32, Linux
// builds), no sensor attached: the Linux build's `new I2C()` throws ("Arbitration"), OneWire's
// search answers [], the pins drive nothing. The device boots from Storage with the built bundle
// and the drv.* files, connects to an in-process broker, and must report every missing sensor in
// `status` `se` (and on the retained status channel), keep its other inputs publishing, answer
// commands, and print no `Uncaught`.
import { strict as assert } from "node:assert";
import { SENSOR_INPUTS, bundle, driverFiles, interpreter, liveDevice } from "../../bench/espruino";

for (const board of ["esp8266", "esp32"] as const) {
  const bin = interpreter(board);
  describe(`sensor inputs on the real interpreter (espruino-${board}), no sensor attached`, function () {
    this.timeout(240000);
    if (!bin) {
      it("skipped: no interpreter");
      return;
    }
    it("boots clean, reports each missing sensor in status se, other inputs and commands go on", async function () {
      const cfg = { id: "senseless", prefix: "s/", inputs: [...SENSOR_INPUTS, { name: "up", type: "uptime", period: 1000 }] };
      let dev: Awaited<ReturnType<typeof liveDevice>>;
      try {
        // the Linux console can mangle an upload under load: the harness (not the device) tries once more
        try {
          dev = await liveDevice(bin, bundle(board), cfg, 600, driverFiles(board));
        } catch (e) {
          if (!/could not write/.test(String(e))) throw e;
          console.log("      harness retry: " + String((e as Error).message).split("\n")[0]);
          dev = await liveDevice(bin, bundle(board), cfg, 600, driverFiles(board));
        }
      } catch (e) {
        if (!/could not write/.test(String(e))) throw e;
        console.log(`      skipped: the harness could not upload to espruino-${board} (${e}); run it again`);
        return this.skip();
      }
      const seen: any[] = [];
      dev.broker.on("packet", (ev: any) => {
        if (ev.dir === "in" && ev.cl === "senseless" && ev.type === "pub") seen.push(ev.body);
      });
      try {
        await new Promise((r) => setTimeout(r, 5000));
        const st = await dev.command({ cmd: "status" });
        assert.equal(st.ok, 1);
        console.log(`      ${board}: se ${JSON.stringify(st.se)}; free ${st.free}`);
        assert.match(st.se.air, /^no answer at 0x76$/);
        assert.equal(st.se.water, "no sensor");
        assert.equal(st.se.room, "no answer");
        assert.equal((await dev.command({ cmd: "get", target: "air" })).v, null);
        // the status with se may have been published before `seen` listened: ask the broker's retained copy
        const ret = (dev.broker as any).retained.get("s/status");
        assert.ok(ret && ret.dt && ret.dt.se && ret.dt.se.air, "the retained status carries se: " + JSON.stringify(ret));
        const ups = seen.filter((b) => b.cn === "s/up").length;
        for (let n = 0; n < 40 && seen.filter((b) => b.cn === "s/up").length <= ups; n++) await new Promise((r) => setTimeout(r, 250));
        assert.ok(seen.filter((b) => b.cn === "s/up").length >= ups + 1, "uptime keeps publishing");
        assert.doesNotMatch(dev.e.console, /Uncaught|LOW_MEMORY|ASSERT/, dev.e.console.slice(-1500));
      } finally {
        await dev.close();
      }
    });
  });
}
