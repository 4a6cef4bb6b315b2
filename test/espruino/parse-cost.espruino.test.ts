// What JSON.parse costs on the board, per character of the frame: the bound the framer relies on
// (firmware/jmqt/framer.ts feedChunk) to hand a frame of up to maxParse characters without a "["
// to the parser uncounted. Espruino's parser makes an object only with a quoted key after its "{"
// (src/jswrap_json.c), so without arrays a frame costs at most a block per two characters, while
// arrays cost more (one per character nested). Measured with process.memory() on espruino-esp8266.
import { strict as assert } from "node:assert";
import { ESPRUINO_SKIP_MESSAGE, espruinoBinary, hasEspruino } from "../../sim/espruino/board";
import { Interp } from "../drivers/interp";

/** FrameBound.MaxParse, the ESP8266's (firmware/jmqt/framer.ts) */
const LIMIT = 256;

/** Frames of about LIMIT characters: without arrays (the worst cases for objects) and with them. */
function frames(): Record<string, string> {
  const fill = (open: string, item: string, last: string, close: string) => {
    let f = open;
    while (f.length + item.length + last.length + close.length <= LIMIT) f += item;
    return f + last + close;
  };
  // (valid frames: a frame cut short holds at its peak what the whole one holds at the end, then
  // fails and frees it. "objects nested, cut" is such a frame's whole: its first LIMIT characters,
  // 4 per object with none closed, are what a frame of LIMIT characters can open)
  const levels = Math.floor((LIMIT - 1) / 5);
  return {
    "objects nested": '{"":'.repeat(levels) + "0" + "}".repeat(levels),
    "objects nested, cut": '{"":'.repeat(LIMIT / 4) + "0" + "}".repeat(LIMIT / 4),
    "pairs of digits": fill("{", '"":0,', '"":0', "}"),
    "pairs of empty objects": fill("{", '"":{},', '"":{}', "}"),
    "pairs of empty strings": fill("{", '"":"",', '"":""', "}"),
    "array of digits": fill("[", "0,", "0", "]"),
    "arrays nested": "[".repeat(LIMIT / 2) + "]".repeat(LIMIT / 2),
  };
}

/** Blocks that JSON.parse of each frame held, on the interpreter (test/drivers/interp.ts). */
async function costs(): Promise<Record<string, number>> {
  const e = new Interp(espruinoBinary("esp8266"));
  const found: Record<string, number> = {};
  try {
    await e.start();
    await e.line("function cost(s){var a=process.memory().usage,v;try{v=JSON.parse(s);}catch(x){}var b=process.memory().usage;v=0;return b-a;}");
    for (const [k, f] of Object.entries(frames())) {
      await e.line("F=" + JSON.stringify(f));
      found[k] = Number(await e.value("COST", "cost(F)"));
    }
  } finally {
    e.stop();
  }
  return found;
}

describe("JSON.parse's cost per character on the real interpreter (espruino-esp8266)", function () {
  this.timeout(20000);
  before(function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
  });

  it("a frame without '[' costs at most a block per two characters (and a few); nested arrays one per character", async () => {
    const f = frames();
    const c = await costs();
    assert.deepEqual(Object.keys(c), Object.keys(f), "a figure for every frame");
    // the characters a frame of at most LIMIT has: the cut frame's first LIMIT
    const chars = (k: string) => Math.min(f[k].length, LIMIT);
    for (const k of Object.keys(f)) console.log(`      ${k}: ${chars(k)} characters, ${c[k]} blocks (${(c[k] / chars(k)).toFixed(2)} per character)`);
    for (const k of Object.keys(f)) {
      assert.ok(k.endsWith(", cut") || f[k].length <= LIMIT, `${k}: ${f[k].length} characters`);
      // without arrays: half a block per character and the outer object's few, far within LIMIT
      if (!f[k].includes("[")) assert.ok(c[k] <= chars(k) / 2 + 4, `${k}: ${c[k]} blocks for ${chars(k)} characters, over the framer's bound`);
    }
    // what the framer counts: nested arrays take a block per character (two at the peak of one cut short)
    assert.ok(c["arrays nested"] >= chars("arrays nested"), `arrays nested: ${c["arrays nested"]} blocks`);
    for (const k of Object.keys(f)) {
      assert.ok(c[k] > 0, `${k}: parsed (${c[k]} blocks)`);
    }
  });
});
