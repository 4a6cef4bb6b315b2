// boards/*.json are data the build, the firmware and the simulator share: keep them consistent.
import { strict as assert } from "node:assert";
import { boardIds, loadBoard } from "../../tools/api";

describe("boards/*.json", () => {
  for (const id of boardIds()) {
    const b = loadBoard(id);
    it(`${id}: every pin list names pins the board has`, () => {
      const pins = new Set(b.pins);
      for (const list of ["analog", "inputOnly", "pwm", "noWatch"] as const) {
        for (const p of b[list]) assert.ok(pins.has(p), `${id}.${list}: ${p} is not in pins`);
      }
      for (const p of Object.keys(b.reserved)) assert.ok(pins.has(p), `${id}.reserved: ${p}`);
      assert.ok(pins.has(b.led) && pins.has(b.button));
    });
    it(`${id}: no PWM on input-only or reserved pins; LED is an output pin`, () => {
      for (const p of b.pwm) {
        assert.ok(!b.inputOnly.includes(p), `${p} is input-only`);
        assert.ok(!(p in b.reserved), `${p} is reserved`);
      }
      assert.ok(!b.inputOnly.includes(b.led) && !(b.led in b.reserved));
    });
    it(`${id}: bounds are positive integers`, () => {
      for (const [k, v] of Object.entries(b.defaults)) assert.ok(Number.isInteger(v) && v > 0, `${k}=${v}`);
      assert.ok(Number.isInteger(b.memory.blocks) && b.memory.blocks > 0);
      assert.ok(b.budget.bundleBytes > 0);
    });
  }
  it("matches the hardware facts of the issue", () => {
    const e32 = loadBoard("esp32");
    const e82 = loadBoard("esp8266");
    assert.deepEqual(e32.analog, ["D32", "D33", "D34", "D35", "D36", "D37", "D38", "D39"]);
    assert.deepEqual(e32.inputOnly, ["D34", "D35", "D36", "D37", "D38", "D39"]);
    for (const p of ["D6", "D7", "D8", "D9", "D10", "D11"]) assert.equal(e32.reserved[p], "flash");
    assert.deepEqual(e82.analog, ["A0"]);
    assert.equal(e82.memory.blocks, 1600);
    assert.equal(e82.defaults.maxFrame, 1024);
  });
});
