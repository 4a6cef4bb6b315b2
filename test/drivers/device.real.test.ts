// The whole device with sensor inputs on the REAL interpreter (espruino-esp8266/esp32, Linux
// builds), no sensor attached: the Linux build's `new I2C()` throws ("Arbitration"), OneWire's
// search answers [], the pins drive nothing. The device is flashed by EspruinoBoard (the flash dry
// run, which writes drv.run, drv.bus and the drivers the config names, replayed over the shim's
// TCP control connection), connects to an in-process broker, and must report every missing sensor
// in `status` `se` (and on the retained status channel), keep its other inputs publishing, answer
// commands, and print no `Uncaught`.
import { strict as assert } from "node:assert";
import { SENSOR_INPUTS } from "../../bench/espruino";
import { ask, peer, stopPeer, type Peer } from "../../bench/load-espruino";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";

const TOKEN = "sense";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const board of ["esp8266", "esp32"] as const) {
  describe(`sensor inputs on the real interpreter (espruino-${board}), no sensor attached`, function () {
    this.timeout(120000);
    let broker: Broker;
    let dev: EspruinoBoard;
    let p: Peer;

    before(async function () {
      if (!hasEspruino(board)) {
        console.log("      " + ESPRUINO_SKIP_MESSAGE);
        return this.skip();
      }
      broker = await startBroker({ port: 0, token: TOKEN });
      p = await peer(broker.port, TOKEN);
      const cfg = {
        id: "senseless", prefix: "s/", server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: { ssid: "s", password: "s" },
        inputs: [...SENSOR_INPUTS, { name: "up", type: "uptime", period: 1000 }],
      };
      dev = new EspruinoBoard({ board, config: cfg, wifi: { rssi: -60 } });
      await dev.boot();
      assert.ok(await dev.waitFor(() => broker.clients().indexOf("senseless") >= 0, 15000), "the device is online");
    });
    after(async () => {
      await stopPeer(p);
      if (dev) await dev.stop();
      if (broker) await broker.close();
    });

    it("boots clean, reports each missing sensor in status se, other inputs and commands go on", async () => {
      const seen: any[] = [];
      broker.on("packet", (ev: any) => {
        if (ev.dir === "in" && ev.cl === "senseless" && ev.type === "pub") seen.push(ev.body);
      });
      await sleep(5000);
      const st = await ask(p, "senseless", { cmd: "status", id: "st" });
      assert.ok(st && st.ok === 1, "status answered\n" + dev.console.slice(-10).join("\n"));
      console.log(`      ${board}: se ${JSON.stringify(st.se)}; free ${st.free}`);
      assert.match(st.se.air, /^no answer at 0x76$/);
      assert.equal(st.se.water, "no sensor");
      assert.equal(st.se.room, "no answer");
      assert.equal((await ask(p, "senseless", { cmd: "get", target: "air", id: "g" })).v, null);
      // the status with se may have been published before `seen` listened: ask the broker's retained copy
      const ret = (broker as any).retained.get("s/status");
      assert.ok(ret && ret.dt && ret.dt.se && ret.dt.se.air, "the retained status carries se: " + JSON.stringify(ret));
      const ups = seen.filter((b) => b.cn === "s/up").length;
      for (let n = 0; n < 40 && seen.filter((b) => b.cn === "s/up").length <= ups; n++) await sleep(250);
      assert.ok(seen.filter((b) => b.cn === "s/up").length >= ups + 1, "uptime keeps publishing");
      assert.deepEqual(dev.console.filter((l) => /Uncaught|LOW_MEMORY|ASSERT/.test(l)), []);
    });
  });
}
