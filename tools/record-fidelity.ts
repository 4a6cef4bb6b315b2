// Records what the real Espruino 2v29 interpreter answers for each check of the fidelity corpus
// into test/fidelity/answers.espruino.json (the differential test compares the simulator to it).
//   npx tsx tools/record-fidelity.ts            (binary: $ESPRUINO_LARGE or ../shared/espruino/bin/espruino-large)
import * as fs from "node:fs";
import { ANSWERS_FILE, findEspruino, loadCorpus, runOnEspruino } from "../test/fidelity/harness";

async function main(): Promise<void> {
  const bin = findEspruino();
  if (!bin) throw new Error("no espruino-large: set ESPRUINO_LARGE or put shared/espruino/bin next to the worktree");
  const corpus = loadCorpus();
  const answers = await runOnEspruino(bin, corpus);
  const missing = corpus.filter((c) => answers[c.name] === undefined).map((c) => c.name);
  if (missing.length) throw new Error("no answer for: " + missing.join(", "));
  const sorted: Record<string, string> = {};
  for (const c of corpus) sorted[c.name] = answers[c.name];
  fs.writeFileSync(ANSWERS_FILE, JSON.stringify(sorted, null, 1) + "\n");
  console.log(`${corpus.length} answers from ${bin} -> ${ANSWERS_FILE}`);
}

main().catch((e) => {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
});
