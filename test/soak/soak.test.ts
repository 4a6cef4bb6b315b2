// A shortened soak in npm test (bench/soak.ts runs the full 24 hours): the built ESP8266 bundle in
// the V8 model against the real broker, a fault every 2-10 minutes of virtual time (WiFi drop,
// broker restart, TCP reset, slow or chunking link, oversized, deeply nested and garbage frames,
// reboot), QoS 0 and QoS 1 readings and commands flowing. About 1 s of real time per 3 hours.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../../tools/build";
import { checkSoak, soak } from "./soak";

describe("soak (V8 model, virtual time, a fault every 2-10 minutes)", function () {
  this.timeout(300000);
  let code = "";
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), "jmqt-soak-"));
    code = readFileSync((await buildBoard({ board: "esp8266", outDir: out })).files.min, "latin1");
  });
  for (const seed of [11, 23]) {
    it(`4 hours (seed ${seed}): no QoS 1 reading lost beyond the counted drops, none twice, no command run twice, no growth`, async () => {
      const res = await soak({ hours: 4, seed, code });
      console.log(`      ${res.produced} q1 readings, ${res.q0} q0, ${res.commands.answered} commands, faults ${JSON.stringify(res.faults)}, memory ${res.memory.start} -> ${res.memory.end}, ${res.realSeconds.toFixed(1)} s`);
      checkSoak(res);
    });
  }
});
