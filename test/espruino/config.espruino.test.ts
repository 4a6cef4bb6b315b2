// The `config` set command on the REAL interpreter with the ESP8266 layout and its example config:
// it ran out of memory inside the validator (measured on espruino-esp32 with ballast: the
// validator needed 350-400 free blocks with its table of string fields and every range row split
// at once; 200-250 with one call per string field, one row at a time). On a fresh device it is
// now validated, written and applied. (After the long e2e run on this layout, with the test shim's
// ~170 blocks more than a board's Wifi, it still ran out until the board description's pin lists
// became strings, 114 -> 51 blocks: test/espruino/e2e.espruino.test.ts runs it there too now.)
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ask, peer, stopPeer, type Peer } from "../../bench/load-espruino";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";

const TOKEN = "cfg";

describe("real Espruino interpreter (esp8266, examples/device-esp8266.json): config set", function () {
  this.timeout(120000);
  let broker: Broker;
  let dev: EspruinoBoard;
  let p: Peer;
  let id = "";

  before(async function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      return this.skip();
    }
    broker = await startBroker({ port: 0, token: TOKEN });
    const cfg = JSON.parse(readFileSync(join(__dirname, "..", "..", "examples", "device-esp8266.json"), "utf8"));
    cfg.server = { host: "127.0.0.1", port: broker.port, token: TOKEN };
    cfg.allow = ["admin"];
    id = cfg.id;
    p = await peer(broker.port, TOKEN);
    dev = new EspruinoBoard({ board: "esp8266", config: cfg, wifi: { rssi: -60 } });
    await dev.boot();
    assert.ok(await dev.waitFor(() => broker.clients().indexOf(id) >= 0, 15000), "the device is online");
  });
  after(async () => {
    await stopPeer(p);
    if (dev) await dev.stop();
    if (broker) await broker.close();
  });

  it("a bad value is refused, a good one validated, written to jmqt.json and applied; no out-of-memory", async () => {
    const badReply = await ask(p, id, { cmd: "config", id: "c1", set: { safeMs: "soon" } });
    assert.ok(badReply, "answered\n" + dev.console.slice(-8).join("\n"));
    assert.match(badReply.err, /safeMs: must be a number/);
    assert.deepEqual(await ask(p, id, { cmd: "config", id: "c2", set: { safeMs: 20000 } }), { re: "c2", ok: 1, applied: 1 });
    assert.equal(JSON.parse((await dev.readFile("jmqt.json"))!).safeMs, 20000);
    const st = await ask(p, id, { cmd: "status", id: "c3" });
    assert.ok(st && st.ok === 1, "still answering");
    assert.deepEqual(dev.console.filter((l) => /Uncaught|LOW_MEMORY|OUT OF MEMORY/.test(l)), []);
  });
});
