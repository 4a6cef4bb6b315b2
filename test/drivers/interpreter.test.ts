// Each built driver file on the real interpreter (bin/espruino-esp8266), with no sensor attached:
// the Linux build's I2C, OneWire and pins drive nothing. The driver must report the missing sensor
// as a value, again and again (the retries of the next periods), with no `Uncaught` and memory flat
// (within one block after ten more readings: a loaded machine measures one block apart now and then). The idle
// cost of each loaded driver is measured with process.memory() and printed.
import { strict as assert } from "node:assert";
import { CASES, ESPRUINO_ESP8266, haveInterpreter, measureDriver } from "./interp";

describe("built drivers on the real interpreter (espruino-esp8266), no sensor attached", function () {
  this.timeout(30000);
  if (!haveInterpreter()) {
    it(`skipped: no interpreter at ${ESPRUINO_ESP8266}`, function () {
      this.skip();
    });
    return;
  }

  for (const c of CASES) {
    it(`${c.title}: reports the missing sensor, survives the retry, no Uncaught, memory flat`, async () => {
      const m = await measureDriver(c.name, c.make);
      for (const r of m.results) assert.match(r, c.expect);
      assert.doesNotMatch(m.console, /Uncaught|Error|ASSERT|LOW_MEMORY/, m.console.slice(-1500));
      console.log(
        `      ${c.title}: blocks: bus file ${m.bus}, factory ${m.factory}, driver object ${m.instance}, ` +
          `first reading +${m.first}; idle after readings ${m.idle} in all; after 10 more readings ${m.again}`,
      );
      assert.ok(Math.abs(m.again - m.idle) <= 1, `memory flat over the retries: ${m.idle} -> ${m.again} after 10 more readings`);
    });
  }
});
