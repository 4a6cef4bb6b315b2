// The scenario runner on the shipped example and on an expectation that must fail.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { runScenario } from "../../sim";

describe("sim scenarios", () => {
  it("runs examples/scenarios/button-wifi.json and every expectation holds", async () => {
    const r = await runScenario(path.join(__dirname, "../../examples/scenarios/button-wifi.json"));
    assert.deepEqual(r.failures, []);
    assert.equal(r.results.length, 12);
  });

  it("reports an expectation that does not hold", async () => {
    const r = await runScenario({
      board: "esp32",
      code: "setInterval(function () { D2.toggle(); }, 1000);",
      durationMs: 5000,
      expect: [{ changes: { pin: "D2", min: 10 } }, { output: { pin: "D2", value: 1 } }],
    });
    assert.equal(r.passed, false);
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0], /changes/);
  });

  it("rejects a malformed scenario with a clear error", async () => {
    await assert.rejects(runScenario({ board: "esp99", durationMs: 1 } as any), /board must be/);
    await assert.rejects(runScenario({ board: "esp32", code: "", durationMs: 10, events: [{ do: "wifiDown" } as any] }), /valid at/);
  });
});
