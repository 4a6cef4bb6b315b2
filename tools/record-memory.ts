// Records what the real Espruino 2v29 interpreter reports for the memory corpus
// (test/sim/memory-corpus/*.js and dist/<board>.bootcde) into test/sim/memory-corpus/answers.json:
// process.memory().usage after GC, booted from Storage like a board, per program per board, with
// the baseline (empty program; for the firmware the board shim alone) and usage - baseline
// (test/sim/memory-harness.ts: EspruinoBoard, uploads over its TCP control connection).
//   npm run build && npx tsx tools/record-memory.ts [--check]   (--check: measure twice, fail on any difference beyond JITTER)
// The interpreters: ../shared/espruino/bin/espruino-esp8266, -esp32 (or $ESPRUINO_BIN_DIR).
import * as fs from "node:fs";
import { ANSWERS_FILE, BOARDS, Figures, JITTER, findInterpreter, loadCorpus, measureInterpreter } from "../test/sim/memory-harness";

async function recordAll(): Promise<Record<string, Record<string, Figures>>> {
  const out: Record<string, Record<string, Figures>> = {};
  // the two boards side by side; within a board one program at a time
  await Promise.all(
    BOARDS.map(async (board) => {
      const bin = findInterpreter(board);
      if (!bin) throw new Error("no espruino-" + board + ": see ../shared/espruino/LINUX.md");
      for (const p of loadCorpus(board)) (out[p.name] ||= {})[board] = await measureInterpreter(bin, p, board);
    }),
  );
  const sorted: Record<string, Record<string, Figures>> = {};
  for (const k of Object.keys(out).sort()) sorted[k] = { esp8266: out[k].esp8266, esp32: out[k].esp32 };
  return sorted;
}

async function main(): Promise<void> {
  const a = await recordAll();
  if (process.argv.includes("--check")) {
    const b = await recordAll();
    const off: string[] = [];
    for (const k of Object.keys(a))
      for (const bd of BOARDS)
        for (const f of ["usage", "baseline", "net"] as const)
          if (Math.abs(a[k][bd][f] - b[k][bd][f]) > (JITTER[k] || 0)) off.push(`${k} ${bd} ${f}: ${a[k][bd][f]} then ${b[k][bd][f]}`);
    if (off.length) throw new Error("not deterministic:\n" + off.join("\n"));
    console.log("two runs agree" + (Object.keys(JITTER).length ? ` (within ${JSON.stringify(JITTER)})` : ""));
  }
  const sorted: Record<string, Record<string, Figures>> = {};
  for (const k of Object.keys(a).sort()) sorted[k] = a[k];
  fs.writeFileSync(ANSWERS_FILE, JSON.stringify(sorted, null, 1) + "\n");
  for (const k of Object.keys(sorted)) console.log(k.padEnd(16), BOARDS.map((bd) => bd + " " + JSON.stringify(sorted[k][bd])).join("  "));
  console.log("-> " + ANSWERS_FILE);
  process.exit(0);
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
