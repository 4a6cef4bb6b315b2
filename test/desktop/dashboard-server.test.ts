// The dashboard HTTP server on its own: static page, snapshot, SSE stream, command endpoint
// (with a fake command sender standing in for the JMQT client). Loopback, ephemeral port.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import { DashboardHub, HISTORY_POINTS, numericValue } from "../../sim/dashboard/hub";
import { startDashboard, type DashboardServer } from "../../sim/dashboard/server";

function request(url: string, method = "GET", body?: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode || 0, type: String(res.headers["content-type"]), text }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Opens /events and collects SSE events until `until` says stop. */
function collectEvents(url: string, until: (events: Array<{ event: string; data: any }>) => boolean): Promise<Array<{ event: string; data: any }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: any }> = [];
    const req = http.get(url + "events", (res) => {
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (ev && data) events.push({ event: ev[1], data: JSON.parse(data[1]) });
          if (until(events)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
    });
    req.on("error", (e: any) => (e.code === "ECONNRESET" ? undefined : reject(e)));
  });
}

describe("desktop: dashboard server", () => {
  let hub: DashboardHub;
  let server: DashboardServer;
  const sent: any[] = [];

  beforeEach(async () => {
    sent.length = 0;
    hub = new DashboardHub({
      deviceId: "dev1",
      boardName: "ESP32 test",
      pins: [
        { pin: "D2", name: "led", kind: "out", led: true },
        { pin: "D34", name: "light", kind: "analog" },
      ],
      channelNames: { "home/light": "light" },
    });
    hub.setCommandSender(async (dt) => {
      sent.push(dt);
      if (dt.cmd === "toggle" && dt.target !== "led") return { re: dt.id, ok: 0, err: "unknown target" };
      return { re: dt.id, ok: 1 };
    });
    server = await startDashboard(hub, { port: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  it("serves the page, its script and a JSON snapshot", async () => {
    const page = await request(server.url);
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.text, /<script src="\/app.js">/);
    const js = await request(server.url + "app.js");
    assert.equal(js.status, 200);
    assert.match(js.text, /EventSource/);
    hub.addReading("home/light", 42.5, 1000);
    const snap = JSON.parse((await request(server.url + "api/state")).text);
    assert.equal(snap.deviceId, "dev1");
    assert.equal(snap.readings["home/light"].last, 42.5);
    assert.equal(snap.readings["home/light"].name, "light");
  });

  it("streams a snapshot then changes as Server-Sent Events", async () => {
    const done = collectEvents(server.url, (ev) => ev.some((e) => e.event === "pins"));
    await new Promise((r) => setTimeout(r, 50));
    hub.addReading("home/light", 7, 2000);
    hub.addLog("pub", "home/light 7");
    hub.setLevels({ D2: 1 });
    const events = await done;
    assert.equal(events[0].event, "snapshot");
    const reading = events.find((e) => e.event === "reading");
    assert.ok(reading, "a reading event");
    assert.equal(reading!.data.v, 7);
    assert.ok(events.find((e) => e.event === "log" && e.data.text === "home/light 7"));
    assert.deepEqual(events.find((e) => e.event === "pins")!.data, { D2: 1 });
  });

  it("streams the device status and gives the reading channels, so the page can mark failing sensors (status.se)", async () => {
    const done = collectEvents(server.url, (ev) => ev.some((e) => e.event === "status"));
    await new Promise((r) => setTimeout(r, 50));
    hub.setStatus({ online: 1, id: "dev1", fw: "0.1.0", se: { light: "no answer at 0x76" } });
    const events = await done;
    assert.equal(events[0].event, "snapshot");
    assert.deepEqual(events[0].data.channels, { "home/light": "light" });
    assert.deepEqual(events.find((e) => e.event === "status")!.data.se, { light: "no answer at 0x76" });
    const snap = JSON.parse((await request(server.url + "api/state")).text);
    assert.deepEqual(snap.status.se, { light: "no answer at 0x76" });
  });

  it("draws a sensor's bus pins (describePins): sda/scl of a BME280, the pin of a DS18B20 or DHT", async () => {
    const { describePins } = await import("../../sim/dashboard/pins");
    const pins = describePins({ pins: ["D4", "D5", "D21", "D22", "D23"], reserved: {} }, {
      inputs: [
        { name: "air", type: "bme280", sda: "D21", scl: "D22" },
        { name: "baro", type: "bmp280", sda: "D21", scl: "D22", addr: 119 },
        { name: "water", type: "ds18b20", pin: "D4" },
        { name: "room", type: "dht22", pin: "D5" },
      ],
    });
    const role = (pin: string) => pins.find((p) => p.pin === pin)!;
    assert.deepEqual([role("D21").name, role("D21").kind, role("D22").name], ["air", "sensor", "air"]);
    assert.deepEqual([role("D4").name, role("D5").name, role("D5").kind, role("D23").kind], ["water", "room", "sensor", ""]);
  });

  it("forwards commands and returns the device reply", async () => {
    const ok = await request(server.url + "api/cmd", "POST", JSON.stringify({ cmd: "toggle", target: "led" }));
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.text).ok, 1);
    const err = await request(server.url + "api/cmd", "POST", JSON.stringify({ cmd: "toggle", target: "nope" }));
    assert.equal(JSON.parse(err.text).ok, 0);
    assert.deepEqual(sent.map((d) => d.target), ["led", "nope"]);
  });

  it("passes the read-only ota state (update progress) to the device", async () => {
    const r = await request(server.url + "api/cmd", "POST", JSON.stringify({ cmd: "ota", op: "state" }));
    assert.equal(r.status, 200);
    assert.deepEqual(sent.map((d) => [d.cmd, d.op]), [["ota", "state"]]);
  });

  it("refuses bad command requests without reaching the device", async () => {
    for (const body of ["{not json", "[1,2]", JSON.stringify({ target: "led" }), JSON.stringify({ cmd: "reboot" }), JSON.stringify({ cmd: "ota", op: "begin" })]) {
      const r = await request(server.url + "api/cmd", "POST", body);
      assert.equal(r.status, 400, body);
      assert.equal(JSON.parse(r.text).ok, 0);
    }
    const big = await request(server.url + "api/cmd", "POST", JSON.stringify({ cmd: "ping", pad: "x".repeat(10000) })).catch(() => ({ status: 413 }));
    assert.notEqual(big.status, 200);
    assert.equal(sent.length, 0);
    assert.equal((await request(server.url + "nothing-here")).status, 404);
  });

  it("keeps history and log bounded and extracts numbers from payloads", () => {
    for (let i = 0; i < HISTORY_POINTS + 50; i++) hub.addReading("home/light", i, i);
    assert.equal(hub.readings["home/light"].hist.length, HISTORY_POINTS);
    assert.equal(hub.readings["home/light"].hist[HISTORY_POINTS - 1].v, HISTORY_POINTS + 49);
    for (let i = 0; i < 1000; i++) hub.addLog("info", "x" + i);
    assert.ok(hub.log.length <= 300);
    assert.equal(numericValue({ v: 3 }), 3);
    assert.equal(numericValue("12.5"), 12.5);
    assert.ok(isNaN(numericValue({ online: 1 })));
  });
});
