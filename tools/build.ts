// npm run build [-- --board esp32] [--config device.json]
// For each board in boards/: esbuild bundles firmware/main.ts (TypeScript, board constants
// folded in with `define`), SWC lowers it to ES5 (the readable twin dist/<board>.debug.js with
// a source map back to the TypeScript), terser minifies it at ecma 5 (dist/<board>.js), the
// `espruino` tool pretokenises that (dist/<board>.bootcde, what is flashed: tools/pretokenise.ts),
// and the Espruino compatibility gate checks all three. Sizes are printed against the board's budget.
import { build as esbuild, type Plugin } from "esbuild";
import { transformSync } from "@swc/core";
import { minify } from "terser";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as acorn from "acorn";
import { BoardJson, ROOT, boardIds, loadApi, loadBoard, pinList } from "./api";
import { NET_OPTION_KEYS, PACKET_TYPES, Violation, WIRE_KEYS, checkBundle, checkMangled, definedNames, formatViolations } from "./gate";
import { checkPretokenised, pretokeniseFiles } from "./pretokenise";
import { COLD_FUNCTIONS, COLD_HOLDER, moveCold, splitCold } from "./cold";
import { KEEP_PARAMETERS, leafParametersAsLocals, parametersAsLocals } from "./params";
import { RANGES, packRanges, type BoardInfo } from "../firmware/runtime/config";

export interface BuildOptions {
  board: string;
  /** device config to bake in as DEFAULT_CONFIG */
  config?: any;
  /** entry file, default firmware/main.ts */
  entry?: string;
  outDir?: string;
}

export interface BuildResult {
  board: string;
  min: string;
  debug: string;
  map: string;
  minBytes: number;
  gzipBytes: number;
  debugBytes: number;
  budget: number;
  /** the bundle as Storage holds it (`.bootcde`): `min` pretokenised (tools/pretokenise.ts) */
  tok: string;
  tokBytes: number;
  files: { min: string; debug: string; map: string; tok: string };
  /** private field (without its trailing `_`... as written) -> the name terser gave it */
  mangled: Record<string, string>;
  /** the texts of the functions that run seldom, in the comments that end `min` and `tok` (tools/cold.ts); undefined for an entry without them */
  cold?: string[];
}

/** The board data the firmware gets (BOARD_JSON in firmware/types/build.d.ts), compacted from boards/<board>.json. */
export function boardConstant(b: BoardJson): BoardInfo {
  return {
    id: b.id,
    pins: pinList(b.pins),
    analog: pinList(b.analog),
    inputOnly: pinList(b.inputOnly),
    pwm: pinList(b.pwm),
    noWatch: pinList(b.noWatch),
    reserved: pinList(Object.keys(b.reserved)),
    hasTemperature: b.hasTemperature,
    maxFrame: b.defaults.maxFrame,
    inflight: b.defaults.inflight,
    outQueue: b.defaults.outQueue,
    offlineQueue: b.defaults.offlineQueue,
    dedup: b.defaults.dedup,
    writeWindow: b.defaults.writeWindow,
    maxParse: b.defaults.maxParse,
  };
}

/** Every Espruino library name: require() of these stays in the bundle as it is. */
function builtinModules(): string[] {
  return loadApi()
    .filter((e) => e.type === "library")
    .map((e) => e.class!);
}

// SWC: → ES5 for an IE 11-level engine, loose (no spec-only helpers), helpers inlined so the
// gate can see them. `instanceof` and `typeof` stay as they are: their ES2015 helpers test
// Symbol.hasInstance / Symbol, which Espruino does not have.
const SWC_ES5 = {
  isModule: false,
  env: { targets: { ie: "11" }, loose: true, exclude: ["transform-instanceof", "transform-typeof-symbol"] },
  jsc: {
    loose: true,
    externalHelpers: false,
    parser: { syntax: "ecmascript" as const },
    assumptions: {
      noClassCalls: true,
      setPublicClassFields: true,
      constantSuper: true,
      ignoreFunctionLength: true,
      ignoreToPrimitiveHint: true,
      iterableIsArray: true,
      arrayLikeIsIterable: false,
      skipForOfIteratorClosing: true,
      superIsCallableConstructor: true,
    },
  },
};

const TERSER_ES5 = {
  ecma: 5 as const,
  toplevel: true,
  compress: { passes: 3, ecma: 5 as const, unsafe_arrows: false, keep_fargs: false, pure_getters: true },
  mangle: { toplevel: true },
  format: { ascii_only: true, ecma: 5 as const, comments: false },
};

/** The config validator's table of numeric ranges (firmware/runtime/config.ts RANGES) packed at
 *  build time: `packRanges(RANGES)` in the source becomes the string it returns, so that the board
 *  holds a literal in flash instead of the table's objects in RAM (and the table and packRanges
 *  leave the bundle). */
const packedRanges: Plugin = {
  name: "packed-ranges",
  setup(b) {
    b.onLoad({ filter: /firmware[\\/]runtime[\\/]config\.ts$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      const call = "packRanges(RANGES)";
      if (src.split(call).length !== 2) throw new Error(`${args.path}: expected ${call} once`);
      return { contents: src.replace(call, JSON.stringify(packRanges(RANGES))), loader: "ts" };
    });
  },
};

export async function buildBoard(opts: BuildOptions): Promise<BuildResult> {
  const board = loadBoard(opts.board);
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const entry = opts.entry || join(ROOT, "firmware", "main.ts");
  const bundled = await esbuild({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "neutral",
    target: "esnext",
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    outfile: join(ROOT, "dist", board.id + ".es.js"),
    sourcemap: "external",
    sourcesContent: true,
    external: builtinModules(),
    legalComments: "none",
    logLevel: "silent",
    plugins: [packedRanges],
    define: {
      BOARD_JSON: JSON.stringify(JSON.stringify(boardConstant(board))),
      DEFAULT_CONFIG: JSON.stringify(opts.config === undefined ? "" : JSON.stringify(opts.config)),
      FW_VERSION: JSON.stringify(version),
    },
  });
  const esCode = bundled.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
  const esMap = bundled.outputFiles.find((f) => f.path.endsWith(".map"))!.text;
  // SWC_ES5 (above). No outer wrapper: the bundle's functions are declared at the top level of
  // the program, where a function keeps no copied scope (measured: a wrapper costs one block per
  // function on the board).
  const lowered = transformSync(esCode, { filename: board.id + ".debug.js", sourceMaps: true, inputSourceMap: esMap, ...SWC_ES5 });
  const debug = lowered.code;
  const map = lowered.map!;
  // Top-level names become globals on the board: the mangler never picks an Espruino global's
  // name. Private fields end in `_` (readable in the source) and are shortened; wire-protocol
  // keys and Espruino API names are reserved so that no mangled name can collide with them.
  // The functions that run seldom leave the program for comments at the end of .bootcde
  // (tools/cold.ts), those the entry has (the bench's client-only entry has only the client's).
  const moved = COLD_FUNCTIONS.some((n) => new RegExp("^function " + n + "\\(", "m").test(debug)) ? moveCold(debug) : undefined;
  const nameCache: any = {};
  // Compressed first with the names as written, then mangled: told that names will be mangled,
  // terser keeps a constant used in many places as a variable (`var r=12`: a 2-digit literal
  // against a 1-letter name), which costs the board a block per constant, while a literal costs
  // none (ST_BUSY, measured: 1 block).
  const compressed = await minify(moved ? moved.code : debug, {
    ...TERSER_ES5,
    compress: { ...TERSER_ES5.compress, top_retain: [COLD_HOLDER] },
    mangle: false,
  });
  const minified = await minify(compressed.code!, {
    ...TERSER_ES5,
    compress: false,
    mangle: { ...TERSER_ES5.mangle, reserved: [...reservedGlobals(), COLD_HOLDER], properties: { regex: MANGLED_PROPERTIES, reserved: reservedProperties() } },
    nameCache,
  });
  const code = wholeLiterals(minified.code!);
  const split = moved ? splitCold(code, moved) : undefined;
  // the resident functions off the per-frame path take their arguments as locals (tools/params.ts)
  const vars = (nameCache.vars && nameCache.vars.props) || {};
  const minName = (n: string) => vars["$" + n] || n;
  const keep = new Set(KEEP_PARAMETERS.map((n) => n.split(".").map((part, i) => (i === 0 ? minName(part) : part)).join(".")));
  const program = parametersAsLocals(split ? split.program : code, keep).code;
  const min = split ? program + split.tail : program;
  const mangled: Record<string, string> = {};
  const props = (nameCache.props && nameCache.props.props) || {};
  for (const k of Object.keys(props)) mangled[k.replace(/^\$/, "")] = props[k];
  const outDir = opts.outDir || join(ROOT, "dist");
  mkdirSync(outDir, { recursive: true });
  const files = {
    min: join(outDir, board.id + ".js"),
    debug: join(outDir, board.id + ".debug.js"),
    map: join(outDir, board.id + ".debug.js.map"),
    tok: join(outDir, board.id + ".bootcde"),
  };
  writeFileSync(files.min, min);
  // the tool pretokenises the program; the cold functions' comments follow it as plain text
  // (they run seldom, and the V8 model evaluates them as they are)
  const programFile = join(outDir, board.id + ".program.js");
  writeFileSync(programFile, program);
  pretokeniseFiles([[programFile, files.tok]]);
  rmSync(programFile);
  const tok = readFileSync(files.tok, "latin1") + (split ? split.tail : "");
  writeFileSync(files.tok, tok, "latin1");
  // what the mangler named each top-level function/variable and private field (for reading a trace() on the board)
  const names: Record<string, string> = {};
  for (const k of Object.keys(vars)) names[vars[k]] = k.replace(/^\$/, "");
  for (const k of Object.keys(mangled)) names["." + mangled[k]] = k;
  writeFileSync(join(outDir, board.id + ".names.json"), JSON.stringify(names, null, 1));
  writeFileSync(files.debug, debug + "\n//# sourceMappingURL=" + board.id + ".debug.js.map\n");
  writeFileSync(files.map, map);
  return {
    board: board.id,
    min,
    debug,
    map,
    minBytes: Buffer.byteLength(min),
    gzipBytes: gzipSync(min).length,
    debugBytes: Buffer.byteLength(debug),
    budget: board.budget.bundleBytes,
    tok,
    tokBytes: tok.length,
    files,
    mangled,
    cold: split && split.functions,
  };
}

/**
 * Sensor drivers: each its own ES5 file, apart from the main bundle (which does not change).
 *
 * Loading contract (docs/sensors.md): `dist/<board>.drv.<name>.js` is one expression. Flashing
 * writes it to Storage as `drv.<name>`; the runtime evaluates it only when the config names a type
 * that needs it, `var f = eval(require("Storage").read("drv.<name>"))`, and gets a factory:
 *   - drv.bus:     {i2c(sda, scl, bitrate?), ow(pin), pin(pin)} → the buses of firmware/drivers/bus.ts
 *                  made from Espruino's I2C / OneWire / digitalPulse + setWatch (evaluated once);
 *   - drv.bme280:  bme280(i2cBus, {addr, osr}) → {read(cb)} (BME280 and BMP280);
 *   - drv.ds18b20: ds18b20(oneWireBus, {rom, res}) → {read(cb)};
 *   - drv.dht:     dht(pinBus, {type: 22 | 11}) → {read(cb)}.
 * read(cb) calls cb(values) or cb(null, reason) once, later, and never throws. A driver file names
 * no Espruino global but setTimeout; only drv.bus touches the hardware objects.
 */
export const DRIVERS: { name: string; file: string; export: string }[] = [
  { name: "bus", file: "firmware/drivers/espruino-bus.ts", export: "buses" },
  { name: "bme280", file: "firmware/drivers/bme280.ts", export: "bme280" },
  { name: "ds18b20", file: "firmware/drivers/ds18b20.ts", export: "ds18b20" },
  { name: "dht", file: "firmware/drivers/dht.ts", export: "dht" },
  // the runtime's sensor glue (read callback, rounding, deadband, `se`): loaded with the first sensor input
  { name: "run", file: "firmware/drivers/run.ts", export: "sense" },
];

export interface DriverBuild {
  board: string;
  name: string;
  /** the Storage file name flashing writes it to */
  storage: string;
  min: string;
  debug: string;
  map: string;
  minBytes: number;
  files: { min: string; debug: string; map: string };
}

/** One driver → dist/<board>.drv.<name>.js (+ readable twin and map): the main bundle's toolchain
 *  (esbuild, SWC to ES5, terser at ecma 5), but the file is an expression whose value is the factory. */
export async function buildDriver(boardId: string, name: string, outDir?: string, mangled?: Record<string, string>): Promise<DriverBuild> {
  const board = loadBoard(boardId);
  const dir = outDir || join(ROOT, "dist");
  const drv = DRIVERS.find((d) => d.name === name);
  if (!drv) throw new Error("unknown driver " + name);
  const base = board.id + ".drv." + name;
  const bundled = await esbuild({
    stdin: {
      contents: `import { ${drv.export} } from "./${drv.file}";\nDRV = ${drv.export};\n`,
      resolveDir: ROOT,
      sourcefile: base + ".entry.ts",
      loader: "ts",
    },
    bundle: true,
    write: false,
    // cjs: a `require("Storage")` stays a plain call (esm would wrap it in a __require shim)
    format: "cjs",
    platform: "neutral",
    target: "esnext",
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    outfile: join(ROOT, "dist", base + ".es.js"),
    sourcemap: "external",
    sourcesContent: true,
    external: builtinModules(),
    legalComments: "none",
    logLevel: "silent",
  });
  const esCode = bundled.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
  const esMap = bundled.outputFiles.find((f) => f.path.endsWith(".map"))!.text;
  const lowered = transformSync("(function(){var DRV;\n" + esCode + "\nreturn DRV;})();\n", {
    filename: base + ".debug.js",
    sourceMaps: true,
    inputSourceMap: shiftMap(esMap, 1),
    ...SWC_ES5,
  });
  const debug = lowered.code;
  const map = lowered.map!;
  // drv.run works on the device's and the inputs' records: their private fields get the names the
  // main bundle's mangler gave them (its name cache, from the build or dist/<board>.names.json); a
  // field only drv.run names (driver_, rom_, statusPending_: the main bundle never reads them) gets
  // a name here that the main bundle gives no other field, since it can be on the same record
  const props: Record<string, string> = {};
  if (name === "run") {
    const fromMain = mangled || mainBundleMangled(board.id, dir);
    const taken = new Set([...Object.values(fromMain), ...reservedProperties()]);
    for (const [k, v] of Object.entries(fromMain)) props["$" + k] = v;
    let n = 0;
    for (const m of debug.matchAll(/\.([A-Za-z0-9$]+_)\b/g)) {
      if (props["$" + m[1]]) continue;
      while (taken.has("x" + n)) n++;
      props["$" + m[1]] = "x" + n;
      taken.add("x" + n);
    }
  }
  // `expression`: keep the completion value (the factory) that eval() returns
  const minified = await minify(debug, {
    ecma: 5,
    compress: { passes: 3, ecma: 5, unsafe_arrows: false, keep_fargs: false, pure_getters: true, expression: true },
    mangle: name === "run" ? { properties: { regex: MANGLED_PROPERTIES, reserved: reservedProperties() } } : true,
    nameCache: name === "run" ? { props: { props } } : undefined,
    format: { ascii_only: true, ecma: 5, comments: false },
  });
  // a driver's functions stay alive once a sensor is configured: the innermost ones take their arguments as locals (tools/params.ts)
  const min = leafParametersAsLocals(minified.code!).code;
  mkdirSync(dir, { recursive: true });
  const files = { min: join(dir, base + ".js"), debug: join(dir, base + ".debug.js"), map: join(dir, base + ".debug.js.map") };
  writeFileSync(files.min, min);
  writeFileSync(files.debug, debug + "\n//# sourceMappingURL=" + base + ".debug.js.map\n");
  writeFileSync(files.map, map);
  return { board: board.id, name, storage: "drv." + name, min, debug, map, minBytes: Buffer.byteLength(min), files };
}

/** The main bundle's private field → mangled name, from the <board>.names.json its build wrote. */
function mainBundleMangled(boardId: string, dir: string): Record<string, string> {
  const file = join(dir, boardId + ".names.json");
  let names: Record<string, string>;
  try {
    names = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new Error(`${file} is missing: build the board's bundle before drv.run (its field names come from it)`);
  }
  const out: Record<string, string> = {};
  for (const k of Object.keys(names)) if (k.charAt(0) === ".") out[names[k]] = k.slice(1);
  return out;
}

export async function buildDrivers(boardId: string, outDir?: string, mangled?: Record<string, string>): Promise<DriverBuild[]> {
  const out: DriverBuild[] = [];
  for (const d of DRIVERS) out.push(await buildDriver(boardId, d.name, outDir, mangled));
  return out;
}

/** The gate on one driver file, readable twin and minified. A driver calls its bus's methods
 *  (low, watch, ...), which drv.bus defines: those names count as defined, as in one program. */
export function gateDriver(r: DriverBuild, board: BoardJson, busCode?: string): Violation[] {
  const defined = busCode ? definedNames(busCode) : [];
  return [
    ...checkBundle(r.debug, board, { map: r.map, file: r.files.debug, defined }),
    ...checkBundle(r.min, board, { file: r.files.min, defined }),
    ...checkMangled(r.min, {}, reservedProperties(), { file: r.files.min }),
  ];
}

export interface PartResult {
  code: string;
  file: string;
  bytes: number;
}

/** esbuild (one entry, TypeScript) → SWC ES5 → terser, the same settings as the firmware bundle. */
async function lowerPart(entry: { file?: string; stdin?: string }, name: string): Promise<string> {
  const bundled = await esbuild({
    ...(entry.stdin !== undefined ? { stdin: { contents: entry.stdin, resolveDir: join(ROOT, "firmware", "ota"), loader: "ts" as const } } : { entryPoints: [entry.file!] }),
    bundle: true,
    write: false,
    format: "cjs",
    platform: "neutral",
    target: "esnext",
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    external: builtinModules(),
    legalComments: "none",
    logLevel: "silent",
  });
  const lowered = transformSync(bundled.outputFiles[0].text, { filename: name, ...SWC_ES5 });
  return (await minify(lowered.code, TERSER_ES5)).code!;
}

/**
 * dist/<board>.ota.js: the OTA receiver (firmware/ota/receiver.ts) as one parenthesised function
 * expression, so `eval(require("Storage").read("jmqt.otr"))` gives receiver(S).
 */
export async function buildOtaReceiver(boardId: string, outDir = join(ROOT, "dist")): Promise<PartResult> {
  const min = await lowerPart({ stdin: 'import { receiver } from "./receiver";\nOTA_EXPORT(receiver);\n' }, boardId + ".ota.js");
  const m = /^OTA_EXPORT\((function\b[\s\S]*)\);?\s*$/.exec(min);
  if (!m) throw new Error("the OTA receiver did not minify to OTA_EXPORT(function ...): " + min.slice(0, 80));
  const code = "(" + m[1] + ")";
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, boardId + ".ota.js");
  writeFileSync(file, code);
  return { code, file, bytes: Buffer.byteLength(code) };
}

/** dist/boot1.js: the boot guard (firmware/ota/guard.ts), written to Storage as .boot1. */
export async function buildBootGuard(outDir = join(ROOT, "dist")): Promise<PartResult> {
  const code = await lowerPart({ file: join(ROOT, "firmware", "ota", "guard.ts") }, "boot1.js");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, "boot1.js");
  writeFileSync(file, code);
  return { code, file, bytes: Buffer.byteLength(code) };
}

/** Every global name Espruino has on any board (api.json globals and classes, pins): never a mangled top-level name. */
export function reservedGlobals(): string[] {
  const out = new Set<string>(["global", "exports", "module", "Modules", "require", "eval", "arguments", "undefined", "NaN", "Infinity"]);
  for (const e of loadApi()) {
    if (e.class && /^[A-Za-z_$][\w$]*$/.test(e.class)) out.add(e.class);
    if (!e.class && e.name && /^[A-Za-z_$][\w$]*$/.test(e.name)) out.add(e.name);
  }
  for (const id of boardIds()) for (const p of loadBoard(id).pins) out.add(p);
  for (let i = 0; i < 48; i++) out.add("D" + i), out.add("A" + i);
  return [...out];
}

/**
 * The minified code with every integer literal of at most 1023 that terser wrote in exponent form
 * (`1e3`) written out (`1000`). Espruino reads a literal with an exponent as a float, and a
 * property or variable holding a float costs a block more than one holding an integer in
 * -1024..1023 (measured with E.getSizeOf on espruino-esp8266: {a:1e3} 3 blocks, {a:1000} 2): the
 * client's backoff, the device's tick period and the WiFi backoff held 1e3 at idle. One byte more
 * per literal; above 1023 an integer takes the extra block too, so those stay as terser wrote them.
 */
export function wholeLiterals(code: string): string {
  let out = "";
  let from = 0;
  for (const t of acorn.tokenizer(code, { ecmaVersion: 5 }) as Iterable<any>) {
    if (t.type !== acorn.tokTypes.num) continue;
    const raw = code.slice(t.start, t.end);
    if (!/e/i.test(raw) || !Number.isInteger(t.value) || t.value > 1023) continue;
    out += code.slice(from, t.start) + String(t.value);
    from = t.end;
  }
  return out + code.slice(from);
}

/**
 * The properties the mangler shortens: private fields (a name ending in `_`), and the JMQT
 * client's public fields whose names are longer than 4 characters. On the ESP8266 a name of up
 * to 4 characters is held in the block of its value and a longer one takes a block more
 * (measured with E.getSizeOf on espruino-esp8266: {abcd:1} 2 blocks, {abcde:1} 3), so `counters`,
 * `onPush`, `onState` and `onRepeat` cost the client 4 blocks. The source keeps the names (the
 * client's API, README "JMQT client"); the bundle is one program, so every use is renamed alike
 * (drv.run, built apart, gets the same names: buildDriver), and dist/<board>.names.json maps them
 * back. `state`, `start`, `stop` and `unsub` stay as they are (the first three are in terser's list
 * of built-in property names, which it never mangles, and must stay: `state` is also the field of
 * Espruino's setWatch event that the runtime reads; `unsub` is a packet type, reserved).
 */
export const MANGLED_PROPERTIES = /_$|^(counters|onPush|onState|onRepeat)$/;

/** Property names the mangler must never produce: the JMQT wire keys and packet types, and every Espruino API name. */
export function reservedProperties(): string[] {
  const out = new Set<string>([...WIRE_KEYS, ...PACKET_TYPES, ...NET_OPTION_KEYS]);
  for (const e of loadApi()) {
    if (e.name) out.add(e.name);
    if (e.class) out.add(e.class);
  }
  return [...out];
}

/** The gate on a fresh build: every rule on the readable twin (its source map names the TypeScript
 *  line), and the rules plus the size budget on the minified bundle. */
export function gateBuild(r: BuildResult, board: BoardJson, config?: any): Violation[] {
  return [
    ...checkBundle(r.debug, board, { map: r.map, file: r.files.debug }),
    // (the methods its cold functions define count as the bundle's: they are evaluated on the board)
    ...checkBundle(r.min, board, { file: r.files.min, budget: r.budget + bakedBytes(config), defined: r.cold === undefined ? [] : definedNames(r.cold.join(";\n")) }),
    ...checkMangled(r.min, r.mangled, reservedProperties(), { file: r.files.min }),
    // the cold functions, checked as the code they are, with the program that defines their globals
    ...(r.cold === undefined ? [] : checkBundle(r.min + "\n;" + r.cold.join(";\n"), board, { file: r.files.min + " (its cold comments)" })),
    ...(r.cold === undefined ? [] : checkMangled(r.cold.join(";\n"), r.mangled, reservedProperties(), { file: r.files.min + " (its cold comments)" })),
    ...pretokenisedViolations(r),
  ];
}

/** The pretokenised bundle must read as the same tokens as the minified one (the tool's tokeniser
 *  has a flaw the check catches: tools/pretokenise.ts). */
function pretokenisedViolations(r: BuildResult): Violation[] {
  const why = checkPretokenised(r.min, r.tok);
  return why === undefined ? [] : [{ rule: "pretokenise", file: r.files.tok, message: why }];
}

/** Moves a source map's generated lines down by `lines` (for the wrapper line a driver file gets). */
function shiftMap(mapText: string, lines: number): string {
  const map = JSON.parse(mapText);
  map.mappings = ";".repeat(lines) + map.mappings;
  return JSON.stringify(map);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const only = arg("board");
  const configFile = arg("config");
  let config: any;
  const ids = only ? [only] : boardIds();
  let failed = false;
  for (const id of ids) {
    if (configFile) {
      config = JSON.parse(readFileSync(configFile, "utf8"));
      const errors = await validateForBoard(config, loadBoard(id));
      if (errors.length) {
        console.error(`config ${configFile} is not valid for ${id}:\n  ` + errors.join("\n  "));
        process.exit(1);
      }
    }
    const r = await buildBoard({ board: id, config });
    const board = loadBoard(id);
    const violations = gateBuild(r, board, config);
    const pct = ((100 * (r.minBytes - bakedBytes(config))) / r.budget).toFixed(0);
    console.log(
      `${id.padEnd(8)} ${r.files.min.replace(ROOT + "/", "")}: ${r.minBytes} bytes minified` +
        (config === undefined ? "" : ` with a ${bakedBytes(config)}-byte baked config`) +
        ` (firmware: ${pct}% of the ${r.budget}-byte budget), ${r.tokBytes} pretokenised (${r.files.tok.replace(ROOT + "/", "")}, .bootcde), ` +
        `${r.gzipBytes} gzip, readable twin ${r.debugBytes} bytes`,
    );
    if (violations.length) {
      failed = true;
      console.error(formatViolations(violations));
    }
    // sensor drivers: separate files, loaded only when configured (they leave the bundle as it is)
    const drivers = await buildDrivers(id, undefined, r.mangled);
    const bus = drivers.find((d) => d.name === "bus")!;
    // drv.run calls the runtime's methods (sys, publish_): the main bundle's names count as defined
    // too (its readable twin's for drv.run's readable twin)
    const dv = drivers.flatMap((d) => gateDriver(d, board, d.name === "run" ? bus.min + ";\n" + r.min + ";\n" + (r.cold || []).join(";\n") + ";\n" + r.debug : bus.min));
    console.log(`${"".padEnd(8)} drivers: ` + drivers.map((d) => `${d.name} ${d.minBytes}`).join(", ") + " bytes (dist/" + id + ".drv.<name>.js)");
    if (dv.length) {
      failed = true;
      console.error(formatViolations(dv));
    }
  }
  const guard = await buildBootGuard();
  for (const id of ids) {
    const board = loadBoard(id);
    const ota = await buildOtaReceiver(id);
    const violations = [...checkBundle(ota.code, board, { file: ota.file }), ...checkBundle(guard.code, board, { file: guard.file })];
    console.log(`${id.padEnd(8)} ${ota.file.replace(ROOT + "/", "")}: ${ota.bytes} bytes (OTA receiver, Storage jmqt.otr); dist/boot1.js: ${guard.bytes} bytes (boot guard, .boot1)`);
    if (violations.length) {
      failed = true;
      console.error(formatViolations(violations));
    }
  }
  if (failed) {
    console.error("Espruino compatibility gate: FAILED");
    process.exit(1);
  }
  console.log("Espruino compatibility gate: passed");
}

/** The budget is the firmware's; a baked config (user data, in the bundle as a JSON string) adds its own size. */
function bakedBytes(config: any): number {
  return config === undefined ? 0 : JSON.stringify(JSON.stringify(config)).length;
}

/** Build-time config validation with the firmware's own validator (firmware/runtime/config.ts). */
export async function validateForBoard(config: any, board: BoardJson): Promise<string[]> {
  const mod = await import("../firmware/runtime/config");
  return mod.validateConfig(config, boardConstant(board));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e && e.message ? e.message : e);
    process.exit(1);
  });
}
