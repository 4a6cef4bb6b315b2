// The live dashboard in a real browser (headless Chromium via playwright-core): the page loads,
// a reading changes on screen, and clicking the LED's toggle switches the simulated board's pin.
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type Demo } from "../../sim/demo";
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
});
