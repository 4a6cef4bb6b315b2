// npm run bench -- memory: blocks per component on the REAL interpreter (bench/espruino.ts:
// EspruinoBoard, uploads over its TCP control connection), each figure over the shim-only
// baseline, connected to a broker and idle, and the bundle bytes.
// Components are measured by difference: the client alone (bench/entries/client-only.ts), the
// whole device with no inputs or outputs (runtime = that minus the client), then the example
// config's inputs and outputs one kind at a time.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../tools/build";
import { ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../sim/espruino/board";
import type { BoardId } from "../sim/hw/pins";
import { baseline, liveDevice } from "./espruino";
import { mqttModuleDevice } from "./load-espruino";

async function idle(board: BoardId, code: string, cfg: any, joined = false): Promise<number> {
  const d = await liveDevice(board, code, cfg, { joined });
  try {
    return await d.usage();
  } finally {
    await d.close();
  }
}

export async function run(): Promise<void> {
  for (const board of ["esp8266", "esp32"] as const) {
    if (!hasEspruino(board)) {
      console.log(`${board}: skipped, ${ESPRUINO_SKIP_MESSAGE}`);
      continue;
    }
    const out = mkdtempSync(join(tmpdir(), "bench-mem-"));
    const full = await buildBoard({ board, outDir: out });
    const clientOnly = await buildBoard({ board, outDir: join(out, "client"), entry: join(__dirname, "entries", "client-only.js") });
    const example = JSON.parse(readFileSync(board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json", "utf8"));
    const bare = { ...example, inputs: [], outputs: [] };
    const base = await baseline(board);
    // the client alone has no Wifi code: the station is associated from power-on
    const client = (await idle(board, clientOnly.min, bare, true)) - base;
    const device0 = (await idle(board, full.min, bare)) - base;
    const whole = (await idle(board, full.min, example)) - base;
    console.log(`${board}: bundle ${full.minBytes} bytes (${full.gzipBytes} gzip); baseline ${base} blocks (shim only)`);
    console.log(`  whole device, ${board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json"}, connected, idle: ${whole} blocks`);
    console.log(`  client alone (connected, one retained status): ${client}`);
    console.log(`  runtime (device with no inputs/outputs minus the client): ${device0 - client}`);
    const seen: Record<string, number> = {};
    for (const it of example.inputs) {
      const k = "input " + it.type;
      if (k in seen) continue;
      seen[k] = (await idle(board, full.min, { ...bare, inputs: [it] })) - base - device0;
      console.log(`  ${k} (${it.name}): ${seen[k]}`);
    }
    for (const it of example.outputs) {
      const k = "output " + it.type;
      if (k in seen) continue;
      seen[k] = (await idle(board, full.min, { ...bare, outputs: [it] })) - base - device0;
      console.log(`  ${k} (${it.name}): ${seen[k]}`);
    }
    await mqttModule(board, base, whole);
  }
}

/** The yardstick of issue 10: Espruino's own MQTT module (minified, from Storage, connected to
 *  mosquitto, one subscription, echoing) in the same harness over the same baseline. */
async function mqttModule(board: BoardId, base: number, whole: number): Promise<void> {
  const m = await mqttModuleDevice(board, false);
  if (typeof m === "string") {
    console.log(`  Espruino's MQTT module: not measured, ${m}`);
    return;
  }
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const used = (await m.board.memory()).usage - base;
    console.log(`  Espruino's MQTT module alone (minified, from Storage, mosquitto, one subscription): ${used}; the whole device is ${(whole / used).toFixed(2)}x`);
  } finally {
    await m.close();
  }
}

if (require.main === module) void run();
