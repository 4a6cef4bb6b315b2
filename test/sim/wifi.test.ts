// The simulated access point and the Wifi module, with ESP32/ESP8266 differences.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";

const PROG = "var W = require('Wifi'), ev = []; W.on('connected', function (d) { ev.push('up ' + d.ip); }); W.on('disconnected', function (d) { ev.push('down ' + d.reason); }); function go(p) { W.connect('ap', { password: p }, function (err) { ev.push('cb ' + err); }); }";

describe("sim wifi", () => {
  let b: SimBoard;
  function boot(board: "esp32" | "esp8266" = "esp8266", rssi = -70): SimBoard {
    b = new SimBoard({ board, code: PROG, wifi: { ssid: "ap", password: "pw", rssi } });
    b.boot();
    return b;
  }
  afterEach(() => b && b.stop());
  const events = () => JSON.parse(b.eval("JSON.stringify(ev)")) as string[];

  it("connects on virtual time; getIP/getDetails/getStatus report it", async () => {
    boot();
    b.eval("go('pw')");
    assert.equal(b.eval("W.getStatus().station"), "connecting");
    await b.advance(2000);
    assert.deepEqual(events().map((e) => e.replace(/\d+$/, "N")), ["up 192.168.4.N", "cb null"]);
    assert.equal(b.eval("W.getDetails().rssi"), -70);
    b.setRssi(-80);
    assert.equal(b.eval("W.getDetails().rssi"), -80);
    assert.equal(b.eval("W.getStatus().station"), "connected");
    assert.match(b.eval("W.getIP().ip"), /^192\.168\.4\.\d+$/);
  });

  it("a wrong password fails with the callback's error", async () => {
    boot();
    b.eval("go('nope')");
    await b.advance(2000);
    assert.deepEqual(events(), ["down auth_fail", "cb wrong_password"]);
  });

  it("the AP going down drops the station; it reconnects by itself when the AP is back", async () => {
    boot("esp32");
    b.eval("go('pw')");
    await b.advance(2000);
    b.wifiDown();
    await b.advance(20000);
    assert.equal(b.wifiState(), "no_ap_found");
    b.wifiUp();
    await b.advance(10000);
    assert.equal(b.wifiState(), "connected");
    const ev = events();
    assert.equal(ev[2], "down 200", "ESP32 reports ESP-IDF numeric reasons");
    assert.match(ev[ev.length - 1], /^up /);
  });

  it("ESP8266 reports reasons as strings and getStatus has its extra fields", async () => {
    boot("esp8266");
    b.eval("go('pw')");
    await b.advance(2000);
    b.wifiDown();
    await b.advance(10);
    assert.equal(events()[2], "down beacon_timeout");
    assert.equal(b.eval("W.getStatus().phy"), "11n");
  });
});
