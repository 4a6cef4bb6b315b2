// scratch (not run by npm run bench: the name starts with _): boots dist/<board>.js connected and prints E.getSizeOf(global,1) by source name (dist/<board>.names.json). It types at the console while the firmware runs, which the Linux build sometimes garbles: rerun when it times out.
import { readFileSync } from "node:fs";
import { startBroker } from "../sim/broker";
import { bootWith, bundle, interpreter, baseline } from "./espruino";
async function main() {
  const board = (process.argv[2] || "esp8266") as any;
  const cfgFile = process.argv[3] || (board === "esp32" ? "examples/device.json" : "examples/device-esp8266.json");
  const bin = interpreter(board)!;
  const broker = await startBroker({ port: 0 });
  const cfg = JSON.parse(readFileSync(cfgFile, "utf8"));
  cfg.server = { host: "127.0.0.1", port: broker.port, token: "test-token" };
  cfg.wifi = { ssid: "stub", password: "x" };
  let subs = 0;
  broker.on("packet", (ev: any) => { if (ev.dir === "in" && (ev.type === "sub")) subs++; });
  const base = await baseline(bin);
  const e = await bootWith(bin, { "jmqt.json": JSON.stringify(cfg), ".bootcde": process.env.BUNDLE ? require("fs").readFileSync(process.env.BUNDLE, "latin1") : bundle(board) });
  const t0 = Date.now();
  while (!subs && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  const m = await e.memory();
  console.log(board, "baseline", base, "usage", m.usage, "over", m.usage - base, "subs", subs);
  if (process.argv[4]) {
    const g = await e.eval("E.getSizeOf(global,1)", 20000);
    g.sort((a: any, b: any) => b.size - a.size);
    const names = JSON.parse(require("fs").readFileSync("dist/" + board + ".names.json", "utf8"));
    console.log(g.map((x: any) => (names[x.name] || x.name) + ":" + x.size).join(" "));
  }
  const nm = JSON.parse(require("fs").readFileSync("dist/" + board + ".names.json", "utf8"));
  const rev: any = {};
  for (const k of Object.keys(nm)) rev[nm[k]] = k.replace(/^\./, "");
  for (const x0 of (process.argv[5] || "").split(",").filter(Boolean)) {
    const x = x0.split(".").map((p) => rev[p] || p).join(".");
    const g = await e.eval("E.getSizeOf(" + x + ",1)");
    if (Array.isArray(g)) for (const y of g) y.name = nm["." + y.name] || y.name;
    if (Array.isArray(g)) { g.sort((a: any, b: any) => b.size - a.size); console.log(x, g.map((y: any) => y.name + ":" + y.size).join(" ")); }
    else console.log(x, g);
  }
  console.log(e.console.split("\n").filter((l) => /jmqt|Uncaught|Error/.test(l)).join("\n"));
  e.close();
  await broker.close();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
