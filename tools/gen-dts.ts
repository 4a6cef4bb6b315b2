// Generates firmware/types/espruino.d.ts from ../shared/espruino/api.json: the Espruino
// built-ins that lib.es5 lacks (globals, pins, E, Pin, console, process, and the modules
// net, Wifi, Storage, ESP32, ESP8266, ...), for the union of the boards in boards/.
// Run: npm run gen:types. A test checks the committed file is up to date.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiEntry, ROOT, availableOn, boardIds, loadApi, loadBoard } from "./api";

/** Members lib.es5 already declares; api.json names outside these are added by merging. */
const ES5: Record<string, string[]> = {
  Array: "toString toLocaleString concat join pop push reverse shift slice sort splice unshift indexOf lastIndexOf every some forEach map filter reduce reduceRight length".split(" "),
  ArrayStatic: ["isArray"],
  String: "toString charAt charCodeAt concat indexOf lastIndexOf localeCompare match replace search slice split substring toLowerCase toLocaleLowerCase toUpperCase toLocaleUpperCase trim length substr valueOf".split(" "),
  StringStatic: ["fromCharCode"],
  ObjectStatic: "getPrototypeOf getOwnPropertyDescriptor getOwnPropertyNames create defineProperty defineProperties seal freeze preventExtensions isSealed isFrozen isExtensible keys".split(" "),
  Object: "constructor toString toLocaleString valueOf hasOwnProperty isPrototypeOf propertyIsEnumerable".split(" "),
  Function: "apply call bind toString prototype length".split(" "),
  Number: "toString toFixed toExponential toPrecision valueOf".split(" "),
  NumberStatic: "MAX_VALUE MIN_VALUE NaN NEGATIVE_INFINITY POSITIVE_INFINITY".split(" "),
  Math: "E LN10 LN2 LOG2E LOG10E PI SQRT1_2 SQRT2 abs acos asin atan atan2 ceil cos exp floor log max min pow random round sin sqrt tan".split(" "),
  DateStatic: "parse UTC now".split(" "),
  JSONStatic: ["parse", "stringify"],
};

/** Built-in classes lib.es5 declares: we only merge missing members into them. */
const ES_CLASSES: Record<string, { inst: string; stat: string }> = {
  Array: { inst: "Array<T>", stat: "ArrayConstructor" },
  String: { inst: "String", stat: "StringConstructor" },
  Object: { inst: "Object", stat: "ObjectConstructor" },
  Function: { inst: "Function", stat: "FunctionConstructor" },
  Number: { inst: "Number", stat: "NumberConstructor" },
  Math: { inst: "", stat: "Math" },
  Date: { inst: "Date", stat: "DateConstructor" },
  JSON: { inst: "", stat: "JSON" },
};

/** Hand-written signatures where `any` would hide mistakes the firmware is likely to make. */
const PRECISE: Record<string, string> = {
  "Array.find": "find(predicate: (value: T, index: number, obj: T[]) => unknown): T | undefined;",
  "Array.findIndex": "findIndex(predicate: (value: T, index: number, obj: T[]) => unknown): number;",
  "Array.includes": "includes(searchElement: T, fromIndex?: number): boolean;",
  "Array.fill": "fill(value: T, start?: number, end?: number): this;",
  "String.startsWith": "startsWith(searchString: string, position?: number): boolean;",
  "String.endsWith": "endsWith(searchString: string, endPosition?: number): boolean;",
  "String.includes": "includes(searchString: string, position?: number): boolean;",
  "String.repeat": "repeat(count: number): string;",
  "String.padStart": "padStart(maxLength: number, fillString?: string): string;",
  "String.padEnd": "padEnd(maxLength: number, fillString?: string): string;",
  "Object.assign": "assign(target: any, ...sources: any[]): any;",
  "Object.values": "values(o: any): any[];",
  "Object.entries": "entries(o: any): [string, any][];",
  "net.connect": "connect(options: { host: string; port: number }, callback?: () => void): Socket;",
  "Storage.read": "read(name: string, offset?: number, length?: number): string | undefined;",
  "Storage.write": "write(name: string, data: string, offset?: number, size?: number): boolean;",
};

function tsType(t: string | undefined, ret = false): string {
  switch (t) {
    case undefined:
      return ret ? "void" : "any";
    case "int":
    case "int32":
    case "float":
      return "number";
    case "bool":
      return "boolean";
    case "pin":
      return ret ? "Pin" : "Pin | number";
    case "JsVarArray":
      return "any[]";
    default:
      return "any";
  }
}

function params(e: ApiEntry): string {
  return (e.params || [])
    .map(([n, t]) => (t === "JsVarArray" ? `...${safe(n)}: any[]` : `${safe(n)}?: ${tsType(t)}`))
    .join(", ");
}

const RESERVED = new Set(["function", "this", "var", "arguments", "default", "delete", "new", "class", "in"]);
function safe(n: string): string {
  return RESERVED.has(n) ? "_" + n : n;
}

function sig(e: ApiEntry): string {
  return `${e.name}(${params(e)}): ${tsType(e.return, true)};`;
}

export function generate(): string {
  const api = loadApi();
  const boards = boardIds().map(loadBoard);
  const onAny = (e: ApiEntry) => boards.some((b) => availableOn(e, b));
  const entries = api.filter(onAny);
  const libraries = new Set(entries.filter((e) => e.type === "library").map((e) => e.class!));
  const classes = new Set(entries.filter((e) => e.type === "class").map((e) => e.class!));
  const moduleNames = new Set(boards.flatMap((b) => b.modules).filter((m) => libraries.has(m) || classes.has(m)));
  const byClass = new Map<string, ApiEntry[]>();
  for (const e of entries) {
    if (!e.class) continue;
    if (!byClass.has(e.class)) byClass.set(e.class, []);
    byClass.get(e.class)!.push(e);
  }
  const out: string[] = [];
  out.push("// GENERATED by tools/gen-dts.ts from ../shared/espruino/api.json (Espruino 2v29). Do not edit.");
  out.push("// Built-ins of the boards in boards/ that lib.es5 lacks; firmware/tsconfig.json uses lib es5 + this.");
  out.push("/* eslint-disable */");
  out.push("");
  out.push("/** A pin: a number on the board (typeof \"number\") with methods. */");
  out.push("interface PinMethods {");
  for (const e of byClass.get("Pin") || []) if (e.type === "method") out.push("  " + sig(e));
  out.push("}");
  out.push("type Pin = number & PinMethods;");
  out.push("/** Pin(\"D3\"): the pin named by a string, undefined when the board has none. */");
  out.push("declare function Pin(name: string | number): Pin | undefined;");
  const pins = new Set(boards.flatMap((b) => b.pins));
  out.push([...pins].map((p) => `declare const ${p}: Pin;`).join("\n"));
  out.push("");
  // global functions and variables
  const es5Globals = new Set(["eval", "parseInt", "parseFloat", "isFinite", "isNaN", "encodeURIComponent", "decodeURIComponent", "NaN", "Infinity", "arguments", "globalThis"]);
  for (const e of entries) {
    if (e.class) continue;
    if (es5Globals.has(e.name!)) continue;
    if (e.type === "function") {
      if (e.name === "setWatch") {
        out.push("declare function setWatch(fn: (e: { state: boolean; time: number; lastTime?: number; pin: Pin }) => void, pin: Pin | number, options?: { repeat?: boolean; edge?: \"rising\" | \"falling\" | \"both\" | number; debounce?: number; irq?: boolean; data?: Pin }): number;");
      } else if (e.name === "setTimeout" || e.name === "setInterval") {
        out.push(`declare function ${e.name}(fn: (...args: any[]) => void, timeout?: number, ...args: any[]): number;`);
      } else if (e.name === "clearTimeout" || e.name === "clearInterval" || e.name === "clearWatch") {
        out.push(`declare function ${e.name}(id?: any): void;`);
      } else if (e.name === "require") {
        for (const m of moduleNames) out.push(`declare function require(moduleName: "${m}"): ${libraries.has(m) ? `Espruino${m}Module` : m + "Static"};`);
      } else {
        out.push(`declare function ${sig(e)}`);
      }
    } else if (e.type === "variable") {
      out.push(`declare var ${e.name}: ${e.name === "HIGH" ? "1" : e.name === "LOW" ? "0" : "any"};`);
    }
  }
  out.push("");
  // classes: instance interfaces, static namespaces, modules
  for (const [cls, list] of byClass) {
    if (cls === "Pin") continue;
    const isLib = libraries.has(cls);
    const es = ES_CLASSES[cls];
    const inst = list.filter((e) => e.type === "method" || e.type === "property");
    const events = list.filter((e) => e.type === "event");
    const stat = list.filter((e) => e.type === "staticmethod" || e.type === "staticproperty");
    if (es) {
      const instNew = inst.filter((e) => !(ES5[cls] || []).includes(e.name!));
      const statNew = stat.filter((e) => !(ES5[cls + "Static"] || ES5[cls] || []).includes(e.name!));
      if (instNew.length && es.inst) {
        out.push(`interface ${es.inst} {`);
        for (const e of instNew) out.push("  " + (PRECISE[`${cls}.${e.name}`] || (e.type === "property" ? `${e.name}: any;` : sig(e))));
        out.push("}");
      }
      if (statNew.length) {
        out.push(`interface ${es.stat} {`);
        for (const e of statNew) out.push("  " + (PRECISE[`${cls}.${e.name}`] || (e.type === "staticproperty" ? `${e.name}: ${tsType(e.return, true)};` : sig(e))));
        out.push("}");
      }
      continue;
    }
    const typeName = isLib ? `Espruino${cls}Module` : cls;
    if (inst.length || events.length || !isLib) {
      const iname = isLib ? `Espruino${cls}` : cls;
      out.push(`interface ${iname} {`);
      for (const e of inst) out.push("  " + (e.type === "property" ? `${e.name}: ${tsType(e.return, true)};` : sig(e)));
      for (const e of events) out.push(`  on(event: "${e.name}", fn: (${params(e)}) => void): void;`);
      if (events.length) out.push("  removeAllListeners(event?: string): void;");
      out.push("}");
    }
    if (isLib || stat.length || list.some((e) => e.type === "constructor")) {
      out.push(`interface ${isLib ? typeName : cls + "Static"} {`);
      for (const e of stat) out.push("  " + (PRECISE[`${cls}.${e.name}`] || (e.type === "staticproperty" ? `${e.name}: ${tsType(e.return, true)};` : sig(e))));
      const ctor = list.find((e) => e.type === "constructor");
      if (ctor && !isLib) out.push(`  new (${params(ctor)}): ${cls};`);
      if (isLib && events.length) {
        for (const e of events) out.push(`  on(event: "${e.name}", fn: (${params(e)}) => void): void;`);
      }
      out.push("}");
      if (!isLib) out.push(`declare var ${cls}: ${cls}Static;`);
    }
  }
  // global objects (Serial1, USB, ...)
  for (const e of entries) if (e.type === "object") out.push(`declare var ${e.name}: ${e.instanceof || "any"};`);
  return out.join("\n") + "\n";
}

if (require.main === module) {
  const file = join(ROOT, "firmware", "types", "espruino.d.ts");
  writeFileSync(file, generate());
  console.log("wrote " + file);
}
