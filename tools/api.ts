// Espruino 2v29's built-ins (../shared/espruino/api.json) filtered for one board's build.
// Used by the type generator, the compatibility gate and the simulator.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ApiEntry {
  type: string;
  class?: string;
  name?: string;
  params?: [string, string][];
  return?: string;
  ifdef?: string;
  ifndef?: string;
  "#if"?: string;
  only?: string;
  instanceof?: string;
}

export interface BoardJson {
  id: string;
  name: string;
  family: "ESP32" | "ESP8266";
  espruinoVersion: string;
  defines: string[];
  modules: string[];
  pins: string[];
  analog: string[];
  inputOnly: string[];
  pwm: string[];
  noWatch: string[];
  reserved: Record<string, string>;
  led: string;
  ledActiveLow: boolean;
  button: string;
  buttonActiveLow: boolean;
  hasTemperature: boolean;
  memory: { blocks: number; blockBytes: number };
  defaults: { maxFrame: number; inflight: number; outQueue: number; offlineQueue: number; dedup: number; writeWindow: number; maxParse: number };
  budget: { bundleBytes: number };
}

export const ROOT = join(__dirname, "..");
export const SHARED = process.env.JMQT_SHARED || join(ROOT, "..", "shared");

export function loadApi(): ApiEntry[] {
  return JSON.parse(readFileSync(join(SHARED, "espruino", "api.json"), "utf8"));
}

/** A pin list in the firmware's BoardInfo form: ",D0,D1,A0," (one string on the board instead of an array). */
export const pinList = (pins: string[]): string => "," + pins.join(",") + ",";

export function loadBoard(id: string): BoardJson {
  return JSON.parse(readFileSync(join(ROOT, "boards", id + ".json"), "utf8"));
}

export function boardIds(): string[] {
  return ["esp32", "esp8266"];
}

/** Numeric build settings the `#if` conditions of api.json compare against. */
function numericDefines(board: BoardJson): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of board.defines) {
    const m = /^(\w+)=(\d+)$/.exec(d);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Evaluates an api.json `#if` expression: defined(X), !defined(X), X>=N, &&, ||. */
export function evalCondition(expr: string, board: BoardJson): boolean {
  const has = new Set(board.defines.map((d) => d.split("=")[0]));
  const nums = numericDefines(board);
  const js = expr
    .replace(/defined\s*\(\s*(\w+)\s*\)/g, (_m, n) => (has.has(n) ? "true" : "false"))
    .replace(/\b([A-Z_][A-Z0-9_]*)\b/g, (m) => (m === "true" || m === "false" ? m : String(nums[m] ?? (has.has(m) ? 1 : 0))));
  if (!/^[\w\s!&|()<>=.]+$/.test(js)) throw new Error("unsupported #if: " + expr);
  return Boolean(new Function("return (" + js + ");")());
}

/** True when the entry is compiled into this board's firmware. */
export function availableOn(e: ApiEntry, board: BoardJson): boolean {
  const has = new Set(board.defines.map((d) => d.split("=")[0]));
  if (e.only && e.only !== board.family) return false;
  if (e.ifdef && !has.has(e.ifdef)) return false;
  if (e.ifndef && has.has(e.ifndef)) return false;
  if (e["#if"] && !evalCondition(e["#if"], board)) return false;
  return true;
}

export interface BoardApi {
  /** names usable as free identifiers */
  globals: Set<string>;
  /** require()-able built-in modules */
  modules: Set<string>;
  /** class/library/object name → its static members */
  statics: Map<string, Set<string>>;
  /** every instance method/property/event name on any class */
  members: Set<string>;
  /** class name → its instance methods and properties */
  instance: Map<string, Set<string>>;
  /** methods every object has (Object's and Function's instance methods: on, emit, call, ...) */
  objectMembers: Set<string>;
}

export function boardApi(board: BoardJson, api: ApiEntry[] = loadApi()): BoardApi {
  const globals = new Set<string>(["undefined", "NaN", "Infinity", "arguments"]);
  const modules = new Set<string>();
  const statics = new Map<string, Set<string>>();
  const members = new Set<string>();
  const objectMembers = new Set<string>();
  const instance = new Map<string, Set<string>>();
  const libraries = new Set(api.filter((e) => e.type === "library").map((e) => e.class!));
  for (const e of api) {
    if (!availableOn(e, board)) continue;
    switch (e.type) {
      case "library":
        if (board.modules.includes(e.class!)) modules.add(e.class!);
        break;
      case "class":
        if (!libraries.has(e.class!)) globals.add(e.class!);
        if (board.modules.includes(e.class!)) modules.add(e.class!);
        if (!statics.has(e.class!)) statics.set(e.class!, new Set());
        break;
      case "object":
        globals.add(e.name!);
        break;
      case "function":
      case "variable":
        globals.add(e.name!);
        break;
      case "constructor":
        if (!libraries.has(e.class!)) globals.add(e.name!);
        break;
      case "staticmethod":
      case "staticproperty": {
        if (!statics.has(e.class!)) statics.set(e.class!, new Set());
        statics.get(e.class!)!.add(e.name!);
        break;
      }
      case "method":
      case "property":
      case "event":
        members.add(e.name!);
        if (e.class === "Object" || e.class === "Function") objectMembers.add(e.name!);
        if (e.type !== "event") {
          if (!instance.has(e.class!)) instance.set(e.class!, new Set());
          instance.get(e.class!)!.add(e.name!);
        }
        break;
    }
  }
  for (const p of board.pins) globals.add(p);
  return { globals, modules, statics, members, instance, objectMembers };
}
