// Sensor drivers' idle cost on the real interpreter (bin/espruino-esp8266, ESP8266 layout), each
// built driver file loaded from Storage with no sensor attached (test/drivers/interp.ts). A device
// with no sensor configured loads none of them and pays 0.
// Then the whole device (dist/<board>.js booted from Storage with the drv.* files, connected to a
// broker, idle after its sensors' first failed readings): blocks over the same device without the
// sensor input, per type.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../tools/api";
import { buildDrivers } from "../tools/build";
import { CASES, ESPRUINO_ESP8266, haveInterpreter, measureDriver } from "../test/drivers/interp";
import { hasEspruino } from "../sim/espruino/board";
import { SENSOR_INPUTS, bundle, driverFiles, liveDevice } from "./espruino";

export async function run(): Promise<void> {
  if (!haveInterpreter()) {
    console.log(`skipped: no interpreter at ${ESPRUINO_ESP8266}`);
    return;
  }
  if (!existsSync(join(ROOT, "dist", "esp8266.drv.run.js"))) await buildDrivers("esp8266");
  console.log("| configured | bus file | factory | driver + bus object | first reading | idle in all | reported |");
  console.log("|---|---|---|---|---|---|---|");
  for (const c of CASES) {
    const m = await measureDriver(c.name, c.make);
    console.log(`| ${c.title} | ${m.bus} | ${m.factory} | ${m.instance} | +${m.first} | ${m.idle}${m.again === m.idle ? "" : ` (then ${m.again})`} | ${m.results[0]} |`);
  }
  for (const board of ["esp8266", "esp32"] as const) {
    if (!hasEspruino(board)) continue;
    console.log(`\nwhole device, ${board}: blocks over the same device without the sensor input (connected, idle, sensor missing)`);
    console.log("| sensor inputs | blocks | se |");
    console.log("|---|---|---|");
    const up = { name: "up", type: "uptime", period: 60000 };
    // one reading (2 s after boot), measured 2 s later: no reading in flight when measured
    const slow = (l: any[]) => l.map((x) => ({ ...x, period: 60000 }));
    const measure = async (inputs: any[]) => {
      const dev = await liveDevice(board, bundle(board), { id: "bench", inputs: [up, ...inputs] }, { files: inputs.length ? driverFiles(board) : {} });
      try {
        await new Promise((r) => setTimeout(r, inputs.length ? 4000 : 0));
        const u = await dev.usage();
        const st = inputs.length ? await dev.command({ cmd: "status" }) : {};
        return { u, se: st.se };
      } finally {
        await dev.close();
      }
    };
    try {
      const base = (await measure([])).u;
      const rows: [string, any[]][] = [
        ["bme280", slow([SENSOR_INPUTS[0]])],
        ["ds18b20 (search)", slow([SENSOR_INPUTS[1]])],
        ["dht22", slow([SENSOR_INPUTS[2]])],
        ["all three", slow(SENSOR_INPUTS)],
      ];
      for (const [title, inputs] of rows) {
        const m = await measure(inputs);
        console.log(`| ${title} | ${m.u - base} | ${JSON.stringify(m.se)} |`);
      }
    } catch (e) {
      console.log(`(${board}: the harness could not run: ${String((e as Error).message).split("\n")[0]})`);
    }
  }
}
