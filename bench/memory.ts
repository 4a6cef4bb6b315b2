// npm run bench -- memory: blocks per component on the REAL interpreter (bench/espruino.ts), each
// figure over the shim-only baseline, connected to a broker and idle, and the bundle bytes.
// Components are measured by difference: the client alone (bench/entries/client-only.ts), the
// whole device with no inputs or outputs (runtime = that minus the client), then the example
// config's inputs and outputs one kind at a time.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../tools/build";
import { baseline, interpreter, liveDevice } from "./espruino";

async function idle(bin: string, code: string, cfg: any): Promise<number> {
  const d = await liveDevice(bin, code, cfg);
  try {
    return await d.usage();
  } finally {
    await d.close();
  }
}

export async function run(): Promise<void> {
  for (const board of ["esp8266", "esp32"] as const) {
    const bin = interpreter(board);
    if (!bin) {
      console.log(`${board}: skipped, no interpreter (ESPRUINO_${board.toUpperCase()} or ../shared/espruino/bin/espruino-${board})`);
      continue;
    }
    const out = mkdtempSync(join(tmpdir(), "bench-mem-"));
    const full = await buildBoard({ board, outDir: out });
    const clientOnly = await buildBoard({ board, outDir: join(out, "client"), entry: join(__dirname, "entries", "client-only.js") });
    const example = JSON.parse(readFileSync(board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json", "utf8"));
    const bare = { ...example, inputs: [], outputs: [] };
    const base = await baseline(bin);
    const client = (await idle(bin, clientOnly.min, bare)) - base;
    const device0 = (await idle(bin, full.min, bare)) - base;
    const whole = (await idle(bin, full.min, example)) - base;
    console.log(`${board}: bundle ${full.minBytes} bytes (${full.gzipBytes} gzip); baseline ${base} blocks (shim only)`);
    console.log(`  whole device, ${board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json"}, connected, idle: ${whole} blocks`);
    console.log(`  client alone (connected, one retained status): ${client}`);
    console.log(`  runtime (device with no inputs/outputs minus the client): ${device0 - client}`);
    const seen: Record<string, number> = {};
    for (const it of example.inputs) {
      const k = "input " + it.type;
      if (k in seen) continue;
      seen[k] = (await idle(bin, full.min, { ...bare, inputs: [it] })) - base - device0;
      console.log(`  ${k} (${it.name}): ${seen[k]}`);
    }
    for (const it of example.outputs) {
      const k = "output " + it.type;
      if (k in seen) continue;
      seen[k] = (await idle(bin, full.min, { ...bare, outputs: [it] })) - base - device0;
      console.log(`  ${k} (${it.name}): ${seen[k]}`);
    }
  }
}

if (require.main === module) void run();
