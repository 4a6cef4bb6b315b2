// The full soak: 24 hours of virtual time for the built ESP8266 bundle in the V8 model, a fault
// every 2-10 minutes (test/soak/soak.ts). Prints its figures; the same checks as the shortened run
// in npm test decide whether it passed.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../tools/build";
import { checkSoak, soak } from "../test/soak/soak";

export async function run(hours = 24): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), "jmqt-soak-bench-"));
  const code = readFileSync((await buildBoard({ board: "esp8266", outDir: out })).files.min, "latin1");
  const r = await soak({ hours, seed: 2026, code });
  const faults = Object.values(r.faults).reduce((a, b) => a + b, 0);
  console.log(`soak, V8 model, ${hours} h virtual in ${r.realSeconds.toFixed(1)} s real (${Math.round((hours * 3600) / r.realSeconds)}x real time)`);
  console.log(`  faults: ${faults} (${Object.entries(r.faults).map(([k, v]) => `${k} ${v}`).join(", ")})`);
  console.log(`  QoS 1 readings: ${r.produced} produced, ${r.received} received once, ${r.duplicates} twice, ${r.missing} missing, ${r.dropped} dropped by the offline queue (counted)`);
  console.log(`  QoS 0 readings received: ${r.q0}; commands: ${r.commands.sent} sent, ${r.commands.answered} answered, ${r.commands.answeredTwice} answered twice, ${r.commands.refusedOffline} refused (device offline)`);
  console.log(`  frames refused by the device: ${r.device.big} oversized, ${r.device.heavy} too heavy to parse, ${r.device.bad} malformed; ${r.device.reconnects} reconnect attempts`);
  console.log(`  memory (model, after GC): ${r.memory.start} blocks after warm-up, ${r.memory.end} at the end`);
  try {
    checkSoak(r);
    console.log("  checks: passed");
  } catch (e) {
    console.log("  checks: FAILED: " + (e as Error).message);
    process.exitCode = 1;
  }
}

if (require.main === module) void run(Number(process.argv[2]) || 24);
