// Differential test: the fidelity corpus run in the simulator's realm, compared with the answers
// recorded from the real Espruino 2v29 interpreter (tools/record-fidelity.ts). A difference must
// be fixed in the model or listed, with a reason, in known-differences.json; a listed check that
// no longer differs must leave the list.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import {
  ANSWERS_FILE, type Answers, differences, findEspruino, KNOWN_FILE, type KnownDifference, loadCorpus, runInSim, runOnEspruino,
} from "./harness";

const corpus = loadCorpus();
const recorded: Answers = JSON.parse(fs.readFileSync(ANSWERS_FILE, "utf8"));
const known: Record<string, KnownDifference> = JSON.parse(fs.readFileSync(KNOWN_FILE, "utf8"));

function show(names: string[], want: Answers, got: Answers): string {
  return names.map((n) => `  ${n}\n    espruino: ${want[n]}\n    sim:      ${got[n]}`).join("\n");
}

describe("fidelity: the sim's realm against Espruino 2v29's recorded answers", function () {
  this.timeout(30000);
  let sim: Answers;
  before(async () => {
    sim = await runInSim(corpus);
  });

  it("the corpus, the recorded answers and the list of differences name the same checks", () => {
    const names = corpus.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, "corpus names are unique");
    assert.deepEqual(names.filter((n) => recorded[n] === undefined), [], "checks without a recorded answer (run npx tsx tools/record-fidelity.ts)");
    assert.deepEqual(Object.keys(recorded).filter((n) => names.indexOf(n) < 0), [], "recorded answers for checks no longer in the corpus");
    assert.deepEqual(Object.keys(known).filter((n) => names.indexOf(n) < 0), [], "listed differences for checks not in the corpus");
    for (const [n, d] of Object.entries(known)) {
      assert.ok(d.reason && ["gate", "v8", "linux", "sim"].indexOf(d.kind) >= 0, `${n}: a listed difference needs a reason and a kind`);
    }
  });

  it("every check answers as on Espruino, or is a listed difference", () => {
    const diff = differences(recorded, sim);
    const unlisted = diff.filter((n) => !known[n]);
    assert.equal(unlisted.length, 0, `${unlisted.length} checks differ from Espruino and are not in known-differences.json:\n${show(unlisted, recorded, sim)}`);
  });

  it("every listed difference still differs (the list stays honest)", () => {
    const stale = Object.keys(known).filter((n) => sim[n] === recorded[n]);
    assert.equal(stale.length, 0, `listed in known-differences.json but the sim now answers like Espruino: ${stale.join(", ")}`);
  });
});

describe("fidelity: the recorded answers are what the real interpreter says", function () {
  this.timeout(60000);
  const bin = findEspruino();
  it("espruino-large answers the corpus as recorded in answers.espruino.json", async function () {
    if (!bin) {
      console.log("      skipped: no Espruino interpreter; set ESPRUINO_LARGE or put shared/espruino/bin/espruino-large (see shared/espruino/LINUX.md) next to the worktree");
      this.skip();
    }
    const got = await runOnEspruino(bin!, corpus);
    const diff = differences(recorded, got);
    assert.equal(diff.length, 0, `the interpreter now answers differently (re-record with tools/record-fidelity.ts after review):\n${show(diff, recorded, got)}`);
  });
});
