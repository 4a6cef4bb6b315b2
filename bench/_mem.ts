// scratch (not run by npm run bench: the name starts with _): boots dist/<board>.js (or $BUNDLE)
// connected on the real interpreter (bench/espruino.ts liveDevice: EspruinoBoard) and prints its
// blocks over the shim, then E.getSizeOf(global,1) by source name (dist/<board>.names.json) and
// E.getSizeOf of the paths given, asked over the board's control connection.
//   npx tsx bench/_mem.ts [esp8266|esp32] [config.json] [1: globals] [path,path...]
import { readFileSync } from "node:fs";
import type { BoardId } from "../sim/hw/pins";
import { baseline, bundle, liveDevice } from "./espruino";

async function main() {
  const board = (process.argv[2] || "esp8266") as BoardId;
  const cfgFile = process.argv[3] || (board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json");
  const cfg = JSON.parse(readFileSync(cfgFile, "utf8"));
  const base = await baseline(board);
  const d = await liveDevice(board, process.env.BUNDLE ? readFileSync(process.env.BUNDLE, "latin1") : bundle(board), cfg, { idleMs: 500 });
  try {
    const usage = await d.usage();
    console.log(board, "baseline", base, "usage", usage, "over", usage - base);
    const nm = JSON.parse(readFileSync("dist/" + board + ".names.json", "utf8"));
    if (process.argv[4]) {
      const g = await d.dev.query("E.getSizeOf(global,1)", 20000);
      g.sort((a: any, b: any) => b.size - a.size);
      console.log(g.map((x: any) => (nm[x.name] || x.name) + ":" + x.size).join(" "));
    }
    const rev: any = {};
    for (const k of Object.keys(nm)) rev[nm[k]] = k.replace(/^\./, "");
    for (const x0 of (process.argv[5] || "").split(",").filter(Boolean)) {
      const x = x0.split(".").map((p) => (/^\d+$/.test(p) ? "[" + p + "]" : rev[p] || p)).join(".").replace(/\.\[/g, "[");
      const g = await d.dev.query("E.getSizeOf(" + x + ",1)");
      if (!Array.isArray(g)) {
        console.log(x, g);
        continue;
      }
      for (const y of g) y.name = nm["." + y.name] || y.name;
      g.sort((a: any, b: any) => b.size - a.size);
      console.log(x, g.map((y: any) => y.name + ":" + y.size).join(" "));
    }
    console.log(d.dev.console.filter((l) => /jmqt|Uncaught|Error/.test(l)).join("\n"));
  } finally {
    await d.close();
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
