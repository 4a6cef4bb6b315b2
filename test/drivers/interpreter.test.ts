// Each built driver file on the real interpreter (bin/espruino-esp8266), with no sensor attached:
// the Linux build's I2C, OneWire and pins drive nothing. The driver must report the missing sensor
// as a value, twice (the retry of the next period), with no `Uncaught` and memory flat. The idle
// cost of each loaded driver is measured with process.memory() and printed.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../tools/api";
import { ESPRUINO_ESP8266, Interp, haveInterpreter } from "./interp";

const dist = (name: string) => readFileSync(join(ROOT, "dist", `esp8266.drv.${name}.js`), "latin1");

interface Case {
  name: string;
  title: string;
  /** the bus and options, in the interpreter's terms */
  make: string;
  expect: RegExp;
}

const CASES: Case[] = [
  { name: "bme280", title: "bme280 on new I2C() D4/D5 at 0x76", make: "F(B.i2c(D4,D5),{addr:0x76})", expect: /^\[null,"no answer at 0x76"\]$/ },
  { name: "ds18b20", title: "ds18b20 on OneWire(D2), by search", make: "F(B.ow(D2))", expect: /^\[null,"no sensor"\]$/ },
  { name: "ds18b20", title: "ds18b20 on OneWire(D2), by ROM id", make: 'F(B.ow(D2),{rom:["28ff4a2b0416034e"]})', expect: /^\[null,"bad scratchpad"\]$/ },
  { name: "dht", title: "dht22 on D4", make: "F(B.pin(D4),{type:22})", expect: /^\[null,"no answer"\]$/ },
  { name: "dht", title: "dht11 on D4", make: "F(B.pin(D4),{type:11})", expect: /^\[null,"no answer"\]$/ },
];

export const measured: Record<string, { bus: number; factory: number; instance: number; idle: number }> = {};

describe("built drivers on the real interpreter (espruino-esp8266), no sensor attached", function () {
  this.timeout(30000);
  if (!haveInterpreter()) {
    it(`skipped: no interpreter at ${ESPRUINO_ESP8266}`, function () {
      this.skip();
    });
    return;
  }

  for (const c of CASES) {
    it(`${c.title}: reports the missing sensor, survives the retry, no Uncaught`, async () => {
      const e = new Interp();
      try {
        await e.until(/>/, 5000);
        e.line("echo(0)");
        e.store("drv.bus", dist("bus"));
        e.store(`drv.${c.name}`, dist(c.name));
        // identical statements, so that each costs the same text in RAM while it runs
        const mem = () => e.value("MEM", "process.memory().usage").then(Number);
        e.line("var B,F,D,R;");
        const m0 = await mem();
        e.line('B=eval(require("Storage").read("drv.bus"));');
        const m1 = await mem();
        e.line(`F=eval(require("Storage").read("drv.${c.name}"));`);
        const m2 = await mem();
        e.line(`D=${c.make};`);
        const m3 = await mem();
        const results: string[] = [];
        const readTwice = async () => {
          for (let i = 0; i < 2; i++) {
            const from = e.out.length;
            e.line('D.read(function(v,e){R=JSON.stringify([v,e]);print("\\nRES "+R)});');
            results.push((await e.until(/\nRES ([^\n]*)\n/, 5000, from))[1]);
          }
          e.line("R=undefined;");
          return mem();
        };
        const m4 = await readTwice();
        const m5 = await readTwice();
        for (const r of results) assert.match(r, c.expect);
        assert.doesNotMatch(e.out, /Uncaught|Error|ASSERT|LOW_MEMORY/, e.out.slice(-1500));
        const cost = { bus: m1 - m0, factory: m2 - m1, instance: m3 - m2, idle: m4 - m0 };
        measured[c.title] = cost;
        console.log(
          `      ${c.title}: blocks: bus file ${cost.bus}, factory ${cost.factory}, driver object ${cost.instance}, ` +
            `first reading +${m4 - m3}; idle after readings ${cost.idle} in all; after 2 more readings ${m5 - m0}`,
        );
        assert.equal(m5, m4, "memory flat over the retries");
      } finally {
        e.stop();
      }
    });
  }
});
