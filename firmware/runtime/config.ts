// Device configuration (jmqt.json): the pure validator that both the build and the device run.
// It never throws; it returns one message per problem, each naming the field and the reason.

/** The board description: the shape of the build-time BOARD constant (firmware/types/build.d.ts). */
export interface BoardInfo {
  id: string;
  family: "ESP32" | "ESP8266";
  pins: string[];
  analog: string[];
  inputOnly: string[];
  pwm: string[];
  noWatch: string[];
  /** pin names, or (boards/*.json form) pin name -> why it is reserved */
  reserved: string[] | { [pin: string]: string };
  led: string;
  ledActiveLow: boolean;
  button: string;
  hasTemperature: boolean;
  blocks: number;
  maxFrame: number;
  inflight: number;
  outQueue: number;
  offlineQueue: number;
  dedup: number;
}

/** Input kinds: pin-based ones first, then the board built-ins (no pin). One string, not an
 *  array: a string constant costs far fewer blocks on the board than an array of strings. */
const INPUT_KINDS = "digital,analog,pulse,temperature,memory,rssi,uptime";
const OUTPUT_KINDS = "digital,pwm";

/** Position of `t` in a comma-separated list, -1 when absent. */
function listIndex(list: string, t: any): number {
  return typeof t === "string" && t.indexOf(",") < 0 ? list.split(",").indexOf(t) : -1;
}
/** The input kind number (runtime K_*) of a type name, -1 for unknown types. */
export function inputKind(t: any): number {
  return listIndex(INPUT_KINDS, t);
}

/** A plain object (typeof "object" and instanceof make the ES5 lowering emit Symbol helpers). */
export function isObj(x: any): boolean {
  return x != null && typeof x != "string" && typeof x != "number" && typeof x != "boolean" && typeof x != "function" && !Array.isArray(x);
}
function isNum(x: any): boolean {
  return typeof x === "number" && isFinite(x);
}
function has(list: string[], x: string): boolean {
  return list.indexOf(x) >= 0;
}
function reservedWhy(board: BoardInfo, pin: string): string | null {
  const r: any = board.reserved;
  if (!r) return null;
  if (Array.isArray(r)) return has(r, pin) ? "reserved" : null;
  return r.hasOwnProperty(pin) ? "reserved (" + r[pin] + ")" : null;
}

function checkNum(errs: string[], where: string, v: any, min: number, max: number, required: boolean): void {
  if (v === undefined) {
    if (required) errs.push(where + ": missing");
    return;
  }
  if (!isNum(v)) errs.push(where + ": must be a number");
  else if (v < min || v > max) errs.push(where + ": must be between " + min + " and " + max);
}
function checkFlag(errs: string[], where: string, v: any): void {
  if (v !== undefined && v !== 0 && v !== 1 && v !== true && v !== false) errs.push(where + ": must be 0 or 1");
}
function checkStr(errs: string[], where: string, v: any, required: boolean): void {
  if (v === undefined) {
    if (required) errs.push(where + ": missing");
  } else if (typeof v !== "string" || !v.length) errs.push(where + ": must be a non-empty string");
}

/** Checks the pin of an input or output against the board; returns the pin name when usable. */
function checkPin(errs: string[], where: string, pin: any, board: BoardInfo, used: { [p: string]: string }): string | null {
  if (typeof pin !== "string" || !pin.length) {
    errs.push(where + ".pin: missing");
    return null;
  }
  if (!has(board.pins, pin)) {
    errs.push(where + ".pin: unknown pin " + pin + " on " + board.id);
    return null;
  }
  const why = reservedWhy(board, pin);
  if (why) {
    errs.push(where + ".pin: " + pin + " is " + why + " on " + board.id);
    return null;
  }
  if (used[pin]) {
    errs.push(where + ".pin: " + pin + " is already used by " + used[pin]);
    return null;
  }
  used[pin] = where;
  return pin;
}

function checkInput(errs: string[], where: string, inp: any, board: BoardInfo, used: { [p: string]: string }): void {
  const k = inp.type;
  if (listIndex(INPUT_KINDS, k) < 0) {
    errs.push(where + ".type: unknown input type " + JSON.stringify(k) + " (one of " + INPUT_KINDS + ")");
    return;
  }
  checkNum(errs, where + ".q", inp.q, 0, 1, false);
  checkFlag(errs, where + ".rt", inp.rt);
  if (k === "digital" || k === "pulse" || k === "analog") {
    const pin = checkPin(errs, where, inp.pin, board, used);
    if (pin && k === "analog" && !has(board.analog, pin)) errs.push(where + ".pin: " + pin + " cannot read analog on " + board.id);
    if (pin && k !== "analog" && has(board.noWatch, pin)) errs.push(where + ".pin: " + pin + " cannot be watched for edges on " + board.id);
    if (inp.pull !== undefined && listIndex("up,down,none", inp.pull) < 0) errs.push(where + ".pull: must be up, down or none");
  } else if (inp.pin !== undefined) {
    errs.push(where + ".pin: a " + k + " input takes no pin");
  }
  if (k === "temperature" && !board.hasTemperature) errs.push(where + ".type: " + board.id + " has no temperature sensor");
  if (k === "digital" || k === "pulse") {
    checkNum(errs, where + ".debounce", inp.debounce, 0, 10000, false);
    checkFlag(errs, where + ".invert", inp.invert);
    if (inp.edge !== undefined && listIndex("rising,falling,both", inp.edge) < 0) errs.push(where + ".edge: must be rising, falling or both");
  }
  if (k === "digital") {
    if (inp.period !== undefined) errs.push(where + ".period: a digital input publishes on change, it takes no period");
  } else {
    checkNum(errs, where + ".period", inp.period, 100, 86400000, true);
  }
  if (k !== "digital" && k !== "pulse") {
    checkNum(errs, where + ".scale", inp.scale, -1e9, 1e9, false);
    checkNum(errs, where + ".offset", inp.offset, -1e9, 1e9, false);
    checkNum(errs, where + ".deadband", inp.deadband, 0, 1e9, false);
  }
  checkNum(errs, where + ".precision", inp.precision, 0, 6, false);
  if (isNum(inp.precision) && inp.precision % 1) errs.push(where + ".precision: must be a whole number");
}

function checkOutput(errs: string[], where: string, out: any, board: BoardInfo, used: { [p: string]: string }): void {
  const k = out.type;
  if (listIndex(OUTPUT_KINDS, k) < 0) {
    errs.push(where + ".type: unknown output type " + JSON.stringify(k) + " (one of " + OUTPUT_KINDS + ")");
    return;
  }
  const pin = checkPin(errs, where, out.pin, board, used);
  if (pin && has(board.inputOnly, pin)) errs.push(where + ".pin: " + pin + " is input-only on " + board.id);
  else if (pin && k === "pwm" && !has(board.pwm, pin)) errs.push(where + ".pin: " + pin + " has no PWM on " + board.id);
  if (k === "digital") {
    checkNum(errs, where + ".safe", out.safe, 0, 1, false);
    checkNum(errs, where + ".initial", out.initial, 0, 1, false);
    checkFlag(errs, where + ".invert", out.invert);
  } else {
    checkNum(errs, where + ".safe", out.safe, 0, 1, false);
    checkNum(errs, where + ".initial", out.initial, 0, 1, false);
    checkNum(errs, where + ".freq", out.freq, 1, 40000000, false);
  }
}

/**
 * Validates a device config against a board. Returns [] when valid, else one message per
 * problem: "<field>: <reason>". Used by the build (tools/build.ts) and at boot (firmware/main.ts).
 */
export function validateConfig(cfg: any, board: BoardInfo): string[] {
  const errs: string[] = [];
  if (!isObj(cfg)) return ["config: must be a JSON object"];
  checkStr(errs, "id", cfg.id, true);
  if (typeof cfg.id === "string" && (cfg.id.charAt(0) === "#" || cfg.id.charAt(0) === "$")) errs.push("id: must not start with # or $");
  const srv = cfg.server;
  if (!isObj(srv)) errs.push("server: missing (needs host and port)");
  else {
    checkStr(errs, "server.host", srv.host, true);
    checkNum(errs, "server.port", srv.port, 1, 65535, true);
    if (isNum(srv.port) && srv.port % 1) errs.push("server.port: must be a whole number");
    checkStr(errs, "server.token", srv.token, false);
    if (srv.auth !== undefined && !isObj(srv.auth) && typeof srv.auth !== "string") errs.push("server.auth: must be an object or a string");
    if (srv.token === undefined && srv.auth === undefined) errs.push("server: needs token or auth");
  }
  const w = cfg.wifi;
  if (w !== undefined) {
    if (!isObj(w)) errs.push("wifi: must be an object with ssid and password");
    else {
      checkStr(errs, "wifi.ssid", w.ssid, true);
      if (w.password !== undefined && typeof w.password !== "string") errs.push("wifi.password: must be a string");
    }
  }
  if (cfg.prefix !== undefined && (typeof cfg.prefix !== "string" || /^[#$]/.test(cfg.prefix)))
    errs.push("prefix: must be a string not starting with # or $");
  if (cfg.group !== undefined && (typeof cfg.group !== "string" || !cfg.group.length || cfg.group.charAt(0) === "$"))
    errs.push("group: must be a non-empty channel name not starting with $");
  if (cfg.allow !== undefined) {
    if (!Array.isArray(cfg.allow)) errs.push("allow: must be a list of client ids");
    else for (let i = 0; i < cfg.allow.length; i++) if (typeof cfg.allow[i] !== "string" || !cfg.allow[i].length) errs.push("allow[" + i + "]: must be a client id string");
  }
  checkNum(errs, "safeMs", cfg.safeMs, 0, 86400000, false);
  checkNum(errs, "tick", cfg.tick, 50, 60000, false);
  const used: { [p: string]: string } = {};
  const names: { [n: string]: string } = {};
  const lists = ["inputs", "outputs"];
  for (let l = 0; l < 2; l++) {
    const key = lists[l];
    const list = cfg[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errs.push(key + ": must be a list");
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const where = key + "[" + i + "]";
      const it = list[i];
      if (!isObj(it)) {
        errs.push(where + ": must be an object");
        continue;
      }
      if (typeof it.name !== "string" || !/^[A-Za-z0-9_\-]{1,24}$/.test(it.name)) errs.push(where + ".name: must be 1-24 letters, digits, _ or -");
      else if (it.name === "status") errs.push(where + ".name: " + it.name + " is used by the runtime");
      else if (names[it.name]) errs.push(where + ".name: duplicate name " + it.name + " (also " + names[it.name] + ")");
      else names[it.name] = where;
      if (l === 0) checkInput(errs, where, it, board, used);
      else checkOutput(errs, where, it, board, used);
    }
  }
  return errs;
}
