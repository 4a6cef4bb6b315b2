// The very bundle the board runs (dist/<board>.js) boots in the sim and joins a real broker on
// 127.0.0.1 (port 0). Skipped until `npm run build` made the bundles.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { SimBoard } from "../../sim";
import { startBroker } from "../../sim/broker";

const ROOT = path.join(__dirname, "../..");

describe("sim runs the firmware bundle", () => {
  for (const board of ["esp32", "esp8266"] as const) {
    it(`${board}: boots from .bootcde, connects over WiFi to the broker and publishes its status`, async function () {
      const dist = path.join(ROOT, "dist", board + ".bootcde");
      if (!fs.existsSync(dist)) this.skip();
      const cfg = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/device.json"), "utf8"));
      const broker: any = await startBroker({ port: 0, token: cfg.server.token });
      const seen: string[] = [];
      broker.on("packet", (ev: any) => seen.push(ev.dir + ":" + ev.type + ":" + (ev.body && ev.body.cn ? ev.body.cn : "")));
      const b = new SimBoard({
        board,
        storage: { "jmqt.json": JSON.stringify(cfg) },
        wifi: { ssid: cfg.wifi.ssid, password: cfg.wifi.password },
        resolve: () => ({ host: "127.0.0.1", port: broker.port }),
      });
      try {
        b.boot();
        const ok = await b.runUntil(() => seen.includes("in:pub:" + cfg.prefix + "status"), 30000, 100);
        assert.ok(ok, "status published; broker saw " + JSON.stringify(seen.slice(0, 10)) + " console " + JSON.stringify(b.console));
        assert.ok(seen.includes("in:conn:"));
        await b.advance(60000);
        assert.deepEqual(b.console.filter((l) => l.startsWith("Uncaught")), []);
        const m = b.memory();
        assert.ok(m.usage > 100 && m.usage < m.total, `memory estimate ${m.usage}/${m.total}`);
      } finally {
        b.stop();
        await broker.close();
      }
    });
  }
});
