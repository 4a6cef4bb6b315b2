// Sensor drivers' idle cost on the real interpreter (bin/espruino-esp8266, ESP8266 layout), each
// built driver file loaded from Storage with no sensor attached (test/drivers/interp.ts). A device
// with no sensor configured loads none of them and pays 0.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../tools/api";
import { buildDrivers } from "../tools/build";
import { CASES, ESPRUINO_ESP8266, haveInterpreter, measureDriver } from "../test/drivers/interp";

export async function run(): Promise<void> {
  if (!haveInterpreter()) {
    console.log(`skipped: no interpreter at ${ESPRUINO_ESP8266}`);
    return;
  }
  if (!existsSync(join(ROOT, "dist", "esp8266.drv.bus.js"))) await buildDrivers("esp8266");
  console.log("| configured | bus file | factory | driver + bus object | first reading | idle in all | reported |");
  console.log("|---|---|---|---|---|---|---|");
  for (const c of CASES) {
    const m = await measureDriver(c.name, c.make);
    console.log(`| ${c.title} | ${m.bus} | ${m.factory} | ${m.instance} | +${m.first} | ${m.idle}${m.again === m.idle ? "" : ` (then ${m.again})`} | ${m.results[0]} |`);
  }
}
