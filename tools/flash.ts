// npm run flash -- --board esp32 --port /dev/ttyUSB0 --config device.json [--baud 115200]
// npm run flash -- --board esp8266 --config device.json --dry-run [dist/esp8266.upload.js]
//
// Writes dist/<board>.bootcde (dist/<board>.js pretokenised) to the board's Storage as `.bootcde`
// (Espruino runs it from flash at boot: function bodies stay in flash, which costs far less RAM than
// code sent as text), then load()s it; the
// OTA boot guard dist/boot1.js as `.boot1` and receiver dist/<board>.ota.js as `jmqt.otr`, and the
// device config as `jmqt.json`, and the sensor files (docs/sensors.md) `drv.<name>` from
// dist/<board>.drv.<name>.js: `drv.run` and `drv.bus` plus the driver of each sensor type the
// config names (none when it names none; all of them when no config is given), with the
// `espruino` command-line tool. The tool is given the
// board description locally (from boards/<board>.json), so it needs no internet. With
// --dry-run it connects to nothing and writes exactly what it would send to a file.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BoardJson, ROOT, loadBoard } from "./api";
import { buildBoard, buildBootGuard, buildDrivers, buildOtaReceiver, gateBuild, validateForBoard } from "./build";
import { formatViolations } from "./gate";

export interface FlashOptions {
  board: string;
  port?: string;
  baud?: number;
  /** path of the device config (jmqt.json) to write, or the config itself */
  config?: string | object;
  /** write what would be sent to this file instead of a board */
  dryRun?: string;
  /** use dist/<board>.bootcde as it is (default: build it first) */
  noBuild?: boolean;
  quiet?: boolean;
}

export interface FlashResult {
  args: string[];
  /** the Storage files written besides .bootcde */
  files: string[];
  output: string;
  outFile?: string;
}

/** The board description the espruino tool wants (the format of espruino.com/json/<BOARD>.json). */
export function espruinoBoardJson(b: BoardJson): object {
  return {
    info: {
      id: b.family,
      name: b.name,
      binary_version: b.espruinoVersion,
      builtin_modules: b.modules,
    },
    chip: { family: b.family },
    VERSION: b.espruinoVersion,
    BOARD: b.family,
  };
}

function espruinoCli(): string {
  return require.resolve("espruino/bin/espruino-cli.js");
}

export async function flash(opts: FlashOptions): Promise<FlashResult> {
  const board = loadBoard(opts.board);
  if (!opts.port && !opts.dryRun) throw new Error("give --port /dev/ttyUSB0 (or tcp://host) to flash a board, or --dry-run to write the upload to a file");
  let config: any;
  if (opts.config !== undefined) {
    config = typeof opts.config === "string" ? JSON.parse(readFileSync(opts.config, "utf8")) : opts.config;
    const errors = await validateForBoard(config, board);
    if (errors.length) throw new Error(`config is not valid for ${board.id}:\n  ` + errors.join("\n  "));
  }
  // the bundle pretokenised by the build (tools/pretokenise.ts), written as data: the tool reads a
  // code file as UTF-8, which would change its token bytes
  const bundle = join(ROOT, "dist", board.id + ".bootcde");
  if (!opts.noBuild) {
    const r = await buildBoard({ board: board.id });
    const v = gateBuild(r, board);
    if (v.length) throw new Error("the bundle fails the Espruino compatibility gate:\n" + formatViolations(v));
    await buildBootGuard();
    await buildOtaReceiver(board.id);
    await buildDrivers(board.id);
  }
  const drivers = sensorFiles(config);
  for (const d of drivers) {
    const f = join(ROOT, "dist", `${board.id}.${d}.js`);
    if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build`);
  }
  for (const f of [bundle, join(ROOT, "dist", "boot1.js"), join(ROOT, "dist", board.id + ".ota.js")])
    if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build`);
  const tmp = mkdtempSync(join(tmpdir(), "jmqt-flash-"));
  try {
    const boardFile = join(tmp, "board.json");
    writeFileSync(boardFile, JSON.stringify(espruinoBoardJson(board)));
    const args = [espruinoCli(), "--board", boardFile];
    if (config !== undefined) {
      const cfgFile = join(tmp, "jmqt.json");
      writeFileSync(cfgFile, JSON.stringify(config));
      args.push("--storage", "jmqt.json:" + cfgFile);
    }
    // OTA (docs/ota.md): the boot guard runs before .bootcde; the receiver waits in Storage
    args.push("--storage", ".boot1:" + join(ROOT, "dist", "boot1.js"));
    args.push("--storage", "jmqt.otr:" + join(ROOT, "dist", board.id + ".ota.js"));
    for (const d of drivers) args.push("--storage", d + ":" + join(ROOT, "dist", `${board.id}.${d}.js`));
    args.push("--storage", ".bootcde:" + bundle);
    if (opts.dryRun) args.push("-o", opts.dryRun);
    else {
      args.push("-p", opts.port!);
      if (opts.baud) args.push("-b", String(opts.baud));
    }
    // the code sent after the Storage files: as a code file (not -e) the tool resets the board
    // first, so that the firmware it replaces is not running while its .bootcde is rewritten
    const loader = join(tmp, "load.js");
    writeFileSync(loader, 'load(".bootcde")\n');
    args.push(loader);
    const output = await run(process.execPath, args, !!opts.quiet);
    const files = [...(config !== undefined ? ["jmqt.json"] : []), ".boot1", "jmqt.otr", ...drivers];
    if (!opts.quiet) console.log("Storage files: " + files.join(", ") + ", .bootcde");
    return { args, files, output, outFile: opts.dryRun };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The driver files (Storage names) a config needs: drv.run, drv.bus and one per sensor type in use;
 *  none for a config without sensor inputs; every one when there is no config. */
export function sensorFiles(config: any): string[] {
  const byType: Record<string, string> = { bme280: "bme280", bmp280: "bme280", ds18b20: "ds18b20", dht22: "dht", dht11: "dht" };
  const all = ["drv.run", "drv.bus", "drv.bme280", "drv.ds18b20", "drv.dht"];
  if (config === undefined) return all;
  const used = new Set<string>();
  for (const it of Array.isArray(config && config.inputs) ? config.inputs : []) if (it && byType[it.type]) used.add("drv." + byType[it.type]);
  return used.size ? all.filter((f) => f === "drv.run" || f === "drv.bus" || used.has(f)) : [];
}

function run(cmd: string, args: string[], quiet: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const take = (d: Buffer) => {
      out += d.toString();
      if (!quiet) process.stdout.write(d);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`espruino exited with ${code}:\n${out}`))));
  });
}

function parseArgs(argv: string[]): FlashOptions {
  const o: FlashOptions = { board: "" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--board") o.board = next();
    else if (a === "--port" || a === "-p") o.port = next();
    else if (a === "--baud" || a === "-b") o.baud = Number(next());
    else if (a === "--config") o.config = next();
    else if (a === "--no-build") o.noBuild = true;
    else if (a === "--dry-run") o.dryRun = argv[i + 1] && !argv[i + 1].startsWith("--") ? argv[++i] : "";
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.board) throw new Error("give --board esp32 or --board esp8266");
  if (o.dryRun === "") o.dryRun = join(ROOT, "dist", o.board + ".upload.js");
  return o;
}

if (require.main === module) {
  let opts: FlashOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e: any) {
    console.error(e.message + "\nusage: npm run flash -- --board esp32|esp8266 (--port /dev/ttyUSB0 | --dry-run [file]) [--config device.json] [--baud 115200] [--no-build]");
    process.exit(2);
  }
  flash(opts).then(
    (r) => {
      if (r.outFile) console.log(`dry run: wrote what would be sent to ${r.outFile}`);
      process.exit(0);
    },
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
