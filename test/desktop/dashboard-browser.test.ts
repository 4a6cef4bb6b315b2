// The live dashboard in a real browser (headless Chromium via playwright-core): the page loads,
// a reading changes on screen, and clicking the LED's toggle switches the simulated board's pin.
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type Demo } from "../../sim/demo";
import { DashboardHub } from "../../sim/dashboard/hub";
import { startDashboard } from "../../sim/dashboard/server";
import { ROOT, waitFor } from "./helpers";

const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOT = join(tmpdir(), "jmqt-dashboard.png");

describe("desktop: dashboard in headless Chromium", function () {
  this.timeout(90000);
  let demo: Demo | null = null;
  let browser: any = null;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    (skipped: ${CHROMIUM} is not installed; apt-get install -y chromium)`);
      this.skip();
    }
    if (!existsSync(join(ROOT, "dist", "esp32.js"))) throw new Error("dist/esp32.js is missing: run `npm run build` first");
  });

  after(async () => {
    if (browser) await browser.close();
    if (demo) await demo.stop();
  });

  it("shows a changing reading, a click switches the LED, the update state shows", async () => {
    demo = await startDemo({ board: "esp32", host: "127.0.0.1", port: 0, httpPort: 0, print: () => undefined });
    await demo.ready;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e: Error) => errors.push(e.message));
    await page.goto(demo.dashboard!.url);
    await page.waitForSelector("#conn-page[data-state=live]");
    assert.equal(await page.textContent("#device"), demo.config.id);

    const card = '.card[data-cn="home/kitchen/light"] .value';
    await page.waitForSelector(card, { timeout: 15000 });
    const first = (await page.textContent(card))!.trim();
    await page.waitForFunction(
      ([sel, was]: [string, string]) => {
        const e = (globalThis as any).document.querySelector(sel);
        return !!e && e.textContent!.trim() !== was && e.textContent!.trim() !== "–";
      },
      [card, first],
      { timeout: 20000 },
    );

    const led = demo.config.outputs.find((o: any) => o.name === "led").pin;
    const before = Number(demo.sim.output(led));
    await page.click("#toggle-led");
    await waitFor(() => Number(demo!.sim.output(led)) === 1 - before, 10000, "the LED pin to switch");
    await page.waitForSelector(`#toggle-led${before ? ":not(.on)" : ".on"}`, { timeout: 5000 });
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("#log li").length > 3);
    // the update's state, read from the device (idle: no update, no result yet)
    await page.click("#btn-ota");
    await page.waitForFunction(() => /firmware update: idle/.test((globalThis as any).document.getElementById("ota").textContent), undefined, { timeout: 5000 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(errors, [], "no script errors on the page");
  });

  it("highlights the inputs in status.se (failing sensors), cards and bus pins, and clears them when they read again", async () => {
    const hub = new DashboardHub({
      deviceId: "greenhouse",
      boardName: "ESP32 test",
      pins: [
        { pin: "D4", name: "soil", kind: "sensor" },
        { pin: "D21", name: "air", kind: "sensor" },
        { pin: "D22", name: "air", kind: "sensor" },
      ],
      channelNames: { "gh/air": "air", "gh/soil": "soil", "gh/room": "room" },
    });
    const server = await startDashboard(hub, { port: 0 });
    const { chromium } = await import("playwright-core");
    if (!browser)
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e: Error) => errors.push(e.message));
    try {
      hub.addReading("gh/air", { t: 22.3, p: 1001.2, h: 41 }, Date.now());
      hub.addReading("gh/soil", 14.5, Date.now());
      // failing at load (the snapshot): air; room never published, its card appears for the failure
      hub.setStatus({ online: 1, id: "greenhouse", fw: "0.1.0", se: { air: "no answer at 0x76", room: "checksum" } });
      await page.goto(server.url);
      await page.waitForSelector("#conn-page[data-state=live]");
      const failing = () => page.$$eval(".card.failing", (cs: any[]) => cs.map((c) => c.dataset.cn + " " + c.querySelector(".why").textContent).sort());
      assert.deepEqual(await failing(), ["gh/air failing: no answer at 0x76", "gh/room failing: checksum"]);
      assert.equal(await page.textContent('.card[data-cn="gh/air"] .value'), "t 22.3 · p 1001.2 · h 41", "the last good reading stays shown");
      assert.equal(await page.$$eval("circle[data-failing]", (cs: any[]) => cs.map((c) => c.dataset.pin).join(",")), "D21,D22");
      // live: the DS18B20 fails too, then everything reads again (a status without se)
      hub.setStatus({ online: 1, id: "greenhouse", fw: "0.1.0", se: { soil: "crc error" } });
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll(".card.failing").length === 1);
      assert.deepEqual(await failing(), ["gh/soil failing: crc error"]);
      assert.equal(await page.$$eval("circle[data-failing]", (cs: any[]) => cs.map((c) => c.dataset.pin).join(",")), "D4");
      hub.setStatus({ online: 1, id: "greenhouse", fw: "0.1.0" });
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll(".card.failing, circle[data-failing]").length === 0);
      assert.equal(await page.textContent('.card[data-cn="gh/soil"] .why'), "");
      assert.deepEqual(errors, [], "no script errors on the page");
    } finally {
      await page.close();
      await server.close();
    }
  });
});
