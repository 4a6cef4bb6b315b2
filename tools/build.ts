// npm run build [-- --board esp32] [--config device.json]
// For each board in boards/: esbuild bundles firmware/main.ts (TypeScript, board constants
// folded in with `define`), SWC lowers it to ES5 (the readable twin dist/<board>.debug.js with
// a source map back to the TypeScript), terser minifies it at ecma 5 (dist/<board>.js), and the
// Espruino compatibility gate checks both. Sizes are printed against the board's budget.
import { build as esbuild } from "esbuild";
import { transformSync } from "@swc/core";
import { minify } from "terser";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BoardJson, ROOT, boardIds, loadApi, loadBoard } from "./api";
import { PACKET_TYPES, Violation, WIRE_KEYS, checkBundle, checkMangled, formatViolations } from "./gate";
import type { BoardInfo } from "../firmware/runtime/config";

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
  files: { min: string; debug: string; map: string };
  /** private field (without its trailing `_`... as written) -> the name terser gave it */
  mangled: Record<string, string>;
}

/** The board data the firmware gets (BOARD_JSON in firmware/types/build.d.ts), compacted from boards/<board>.json. */
export function boardConstant(b: BoardJson): BoardInfo {
  return {
    id: b.id,
    pins: b.pins,
    analog: b.analog,
    inputOnly: b.inputOnly,
    pwm: b.pwm,
    noWatch: b.noWatch,
    reserved: Object.keys(b.reserved),
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
    define: {
      BOARD_JSON: JSON.stringify(JSON.stringify(boardConstant(board))),
      DEFAULT_CONFIG: JSON.stringify(opts.config === undefined ? "" : JSON.stringify(opts.config)),
      FW_VERSION: JSON.stringify(version),
    },
  });
  const esCode = bundled.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
  const esMap = bundled.outputFiles.find((f) => f.path.endsWith(".map"))!.text;
  // SWC: → ES5 for an IE 11-level engine, loose (no spec-only helpers), helpers inlined so the
  // gate can see them. `instanceof` and `typeof` stay as they are: their ES2015 helpers test
  // Symbol.hasInstance / Symbol, which Espruino does not have.
  // No outer wrapper: the bundle's functions are declared at the top level of the program, where a
  // function keeps no copied scope (measured: a wrapper costs one block per function on the board).
  const lowered = transformSync(esCode, {
    filename: board.id + ".debug.js",
    sourceMaps: true,
    inputSourceMap: esMap,
    isModule: false,
    env: { targets: { ie: "11" }, loose: true, exclude: ["transform-instanceof", "transform-typeof-symbol"] },
    jsc: {
      loose: true,
      externalHelpers: false,
      parser: { syntax: "ecmascript" },
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
  });
  const debug = lowered.code;
  const map = lowered.map!;
  // Top-level names become globals on the board: the mangler never picks an Espruino global's
  // name. Private fields end in `_` (readable in the source) and are shortened; wire-protocol
  // keys and Espruino API names are reserved so that no mangled name can collide with them.
  const nameCache: any = {};
  const minified = await minify(debug, {
    ecma: 5,
    toplevel: true,
    compress: { passes: 3, ecma: 5, unsafe_arrows: false, keep_fargs: false, pure_getters: true },
    mangle: { toplevel: true, reserved: reservedGlobals(), properties: { regex: /_$/, reserved: reservedProperties() } },
    nameCache,
    format: { ascii_only: true, ecma: 5, comments: false },
  });
  const min = minified.code!;
  const mangled: Record<string, string> = {};
  const props = (nameCache.props && nameCache.props.props) || {};
  for (const k of Object.keys(props)) mangled[k.replace(/^\$/, "")] = props[k];
  const outDir = opts.outDir || join(ROOT, "dist");
  mkdirSync(outDir, { recursive: true });
  const files = {
    min: join(outDir, board.id + ".js"),
    debug: join(outDir, board.id + ".debug.js"),
    map: join(outDir, board.id + ".debug.js.map"),
  };
  writeFileSync(files.min, min);
  // what the mangler named each top-level function/variable and private field (for reading a trace() on the board)
  const vars = (nameCache.vars && nameCache.vars.props) || {};
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
    files,
    mangled,
  };
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

/** Property names the mangler must never produce: the JMQT wire keys and packet types, and every Espruino API name. */
export function reservedProperties(): string[] {
  const out = new Set<string>([...WIRE_KEYS, ...PACKET_TYPES]);
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
    ...checkBundle(r.min, board, { file: r.files.min, budget: r.budget + bakedBytes(config) }),
    ...checkMangled(r.min, r.mangled, reservedProperties(), { file: r.files.min }),
  ];
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
        ` (firmware: ${pct}% of the ${r.budget}-byte budget), ` +
        `${r.gzipBytes} gzip, readable twin ${r.debugBytes} bytes`,
    );
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
