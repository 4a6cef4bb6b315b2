// Device configuration (jmqt.json): the pure validator that both the build (tools/build.ts) and
// the device (boot, `config` command) run. It never throws; it returns one message per problem,
// "<field>: <reason>". One top-level function (each costs RAM on the board for good; its helpers are local, created per call); the
// lists of names are string literals and the table of numeric ranges (RANGES) is packed into one by
// the build, so they stay in flash.

/** The board description: what the build puts in BOARD_JSON (tools/build.ts boardConstant). */
export interface BoardInfo {
  id: string;
  /** Pin lists as one string each, ",D0,D1,A0,": parsed on the board, 51 blocks for the ESP8266
   *  instead of 114 with arrays (measured with E.getSizeOf), which the `config` command needs free */
  pins: string;
  analog: string;
  inputOnly: string;
  pwm: string;
  noWatch: string;
  /** a pin list as above, or (boards/*.json form) pin name -> why it is reserved */
  reserved: string | { [pin: string]: string };
  hasTemperature: boolean;
  maxFrame: number;
  inflight: number;
  outQueue: number;
  offlineQueue: number;
  dedup: number;
  writeWindow: number;
  maxParse: number;
}

/** What a numeric rule applies to: an input or output kind (in the order of the type names below),
 *  the `server` object, or the top level of the config. */
export const enum Scope {
  Digital, Analog, Pulse, Temperature, Memory, Rssi, Uptime,
  Bme280, Bmp280, Ds18b20, Dht22, Dht11,
  DigitalOut, PwmOut,
  Server, Config,
}

/** A numeric field: its range, where it applies; whole: integers only; perQuantity: a sensor's
 *  field may also be one number per quantity, {t, p, h}, each checked. */
export interface RangeRule {
  field: string;
  min: number;
  max: number;
  scopes: Scope[];
  whole?: boolean;
  perQuantity?: boolean;
}

// (lists written out, not spread: a spread becomes a concat() call that the minifier keeps, and
// with it the lists, in the bundle; written out, the table and the lists leave it)
const ANY_INPUT = [
  Scope.Digital, Scope.Analog, Scope.Pulse, Scope.Temperature, Scope.Memory, Scope.Rssi, Scope.Uptime,
  Scope.Bme280, Scope.Bmp280, Scope.Ds18b20, Scope.Dht22, Scope.Dht11,
];
/** the inputs whose readings are numbers that can be scaled: analog, temperature, memory, rssi, uptime */
const SCALED = [Scope.Analog, Scope.Temperature, Scope.Memory, Scope.Rssi, Scope.Uptime];
const SCALED_OR_SENSOR = [
  Scope.Analog, Scope.Temperature, Scope.Memory, Scope.Rssi, Scope.Uptime,
  Scope.Bme280, Scope.Bmp280, Scope.Ds18b20, Scope.Dht22, Scope.Dht11,
];
const OUTPUTS = [Scope.DigitalOut, Scope.PwmOut];

/** Every numeric field of a config, checked by validateConfig. */
export const RANGES: RangeRule[] = [
  { field: "port", min: 1, max: 65535, scopes: [Scope.Server], whole: true },
  { field: "safeMs", min: 0, max: 86400000, scopes: [Scope.Config] },
  // at most 1 s: the tick is the client's timer too (runtime.ts tick, api.ts ClientOptions.polled)
  { field: "tick", min: 50, max: 1000, scopes: [Scope.Config] },
  { field: "q", min: 0, max: 1, scopes: ANY_INPUT },
  { field: "rt", min: 0, max: 1, scopes: ANY_INPUT },
  { field: "debounce", min: 0, max: 10000, scopes: [Scope.Digital, Scope.Pulse] },
  { field: "invert", min: 0, max: 1, scopes: [Scope.Digital, Scope.Pulse, Scope.DigitalOut] },
  { field: "period", min: 100, max: 86400000, scopes: [Scope.Analog, Scope.Pulse, Scope.Temperature, Scope.Memory, Scope.Rssi, Scope.Uptime] },
  { field: "period", min: 1000, max: 86400000, scopes: [Scope.Bme280, Scope.Bmp280, Scope.Ds18b20, Scope.Dht11] },
  { field: "period", min: 2000, max: 86400000, scopes: [Scope.Dht22] },
  { field: "addr", min: 118, max: 119, scopes: [Scope.Bme280, Scope.Bmp280], whole: true },
  { field: "osr", min: 1, max: 5, scopes: [Scope.Bme280, Scope.Bmp280], whole: true },
  { field: "res", min: 9, max: 12, scopes: [Scope.Ds18b20], whole: true },
  { field: "scale", min: -1e9, max: 1e9, scopes: SCALED },
  { field: "offset", min: -1e9, max: 1e9, scopes: SCALED },
  { field: "deadband", min: 0, max: 1e9, scopes: SCALED_OR_SENSOR, perQuantity: true },
  { field: "precision", min: 0, max: 6, scopes: ANY_INPUT, whole: true, perQuantity: true },
  { field: "safe", min: 0, max: 1, scopes: OUTPUTS },
  { field: "initial", min: 0, max: 1, scopes: OUTPUTS },
  { field: "freq", min: 1, max: 40000000, scopes: [Scope.PwmOut] },
];

/** A scope as the one character that stands for it in packed rows. */
export function scopeChar(s: Scope): string {
  return String.fromCharCode(65 + s);
}

/**
 * The rules as validateConfig reads them on the board: one string, rows "field min max scopes
 * [flags]" joined by ",", scopes one character each (scopeChar), flags i (whole) and q (per
 * quantity); a power of ten from 1e6 up is written 1e<n>, as the messages show it. The build
 * packs RANGES at build time (tools/build.ts): a string literal stays in flash, where the
 * table's objects would each take RAM while the validator runs.
 */
export function packRanges(rules: RangeRule[]): string {
  const show = (n: number): string => {
    const e = Math.round(Math.log(Math.abs(n)) / Math.LN10);
    return e >= 6 && Math.abs(n) === Math.pow(10, e) ? (n < 0 ? "-" : "") + "1e" + e : String(n);
  };
  const rows: string[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    let scopes = "";
    for (let j = 0; j < r.scopes.length; j++) scopes += scopeChar(r.scopes[j]);
    const flags = (r.whole ? "i" : "") + (r.perQuantity ? "q" : "");
    rows.push(r.field + " " + show(r.min) + " " + show(r.max) + " " + scopes + (flags ? " " + flags : ""));
  }
  return rows.join(",");
}

/**
 * Validates a device config against a board. Returns [] when valid, else one message per
 * problem ("<field>: <reason>"). When `bad` is given, it gets a key per input or output that has
 * an error ("inputs[1]", "outputs[0]"): the runtime skips those items.
 */
export function validateConfig(cfg: any, board: BoardInfo, bad?: { [item: string]: number }): string[] {
  if (!cfg || typeof cfg !== "object" || Array.isArray(cfg)) return ["config: must be a JSON object"];
  const errs: string[] = [];
  const on = " on " + board.id;
  // The helpers are local functions: created for each validation and freed after it, instead of
  // 12 blocks for good (measured on the interpreter); only the config paths call the validator.
  // The range checks of RANGES, packed into one string. The build writes this call's result in its
  // place (tools/build.ts packedRanges), so that on the board the table is a string literal in
  // flash. Pushes "<at><field>: <reason>" for each field of `o` whose rule applies to `scope`,
  // that is given (a boolean counts as 0/1) and is not a number in range.
  const rows = packRanges(RANGES);
  const checkNums = (at: string, o: any, scope: Scope): void => {
    const sc = scopeChar(scope);
    const sensor = scope >= Scope.Bme280 && scope <= Scope.Dht11;
    // one row at a time (indexOf, not split): the pieces of all the rows at once cost 66 blocks,
    // more than the ESP8266 had to spare during the `config` command (measured on the interpreter)
    for (let from = 0; from < rows.length; ) {
      let end = rows.indexOf(",", from);
      if (end < 0) end = rows.length;
      const f = rows.substring(from, end).split(" ");
      from = end + 1;
      const given = o[f[0]];
      if (given === undefined || f[3].indexOf(sc) < 0) continue;
      const flags = f[4] || "";
      const whole = flags.indexOf("i") >= 0;
      // q: for a sensor, an object is one value per quantity, each checked ("" stands for the one number)
      const each = flags.indexOf("q") >= 0 && sensor && given && typeof given === "object" ? given : { "": given };
      for (const c in each) {
        let v = each[c];
        if (typeof v === "boolean") v = +v;
        if (typeof v !== "number" || !isFinite(v) || v < +f[1] || v > +f[2] || (whole && v % 1))
          errs.push(at + f[0] + (c ? "." + c : "") + ": must be a " + (whole ? "whole " : "") + "number between " + f[1] + " and " + f[2]);
      }
    }
  };
  // whether s is 1 to 24 letters, digits, _ or - (a loop: Espruino's regexps have no {n,m})
  const isName = (s: any): boolean => {
    if (typeof s !== "string" || !s || s.length > 24) return false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charAt(i);
      if (!((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_" || c === "-")) return false;
    }
    return true;
  };
  const srv = cfg.server;
  if (!srv || typeof srv !== "object") errs.push("server: missing");
  else {
    checkNums("server.", srv, Scope.Server);
    if (srv.auth === null || (srv.auth !== undefined && typeof srv.auth !== "object" && typeof srv.auth !== "string")) errs.push("server.auth: must be an object or string");
    if (srv.token === undefined && srv.auth === undefined) errs.push("server: needs token or auth");
  }
  if (cfg.wifi !== undefined && (!cfg.wifi || typeof cfg.wifi !== "object")) errs.push("wifi: must be an object");
  // One call per string field of the config (path "key" or "object.key"; nonEmpty: the string may
  // not be empty; notFirst: characters it may not start with; what: what it must be, for the
  // message, "" when only its presence is checked here).
  const stringField = (path: string, required: boolean, nonEmpty: boolean, notFirst: string, what: string): void => {
    const dot = path.indexOf(".");
    const o = dot < 0 ? cfg : cfg[path.substring(0, dot)];
    if (!o || typeof o !== "object") return;
    const v = o[path.substring(dot + 1)];
    if (v === undefined) {
      if (required) errs.push(path + ": missing");
    } else if (what && (typeof v !== "string" || (nonEmpty && !v) || (v && notFirst.indexOf(v.charAt(0)) >= 0)))
      errs.push(path + ": must be a " + what);
  };
  stringField("id", true, true, "#$", "non-empty string not starting with # or $");
  stringField("server.host", true, true, "", "non-empty string");
  stringField("server.port", true, false, "", "");
  stringField("server.token", false, true, "", "non-empty string");
  stringField("wifi.ssid", true, true, "", "non-empty string");
  stringField("wifi.password", false, false, "", "string");
  stringField("prefix", false, false, "#$", "string not starting with # or $");
  stringField("group", false, true, "$", "non-empty string not starting with $");
  const allow = cfg.allow;
  if (allow !== undefined) {
    if (!Array.isArray(allow)) errs.push("allow: must be a list");
    else for (let i = 0; i < allow.length; i++) if (typeof allow[i] !== "string" || !allow[i]) errs.push("allow[" + i + "]: must be a non-empty string (a client id)");
  }
  checkNums("", cfg, Scope.Config);
  const reserved: any = board.reserved || ",";
  const listed = typeof reserved === "string";
  // whether pin is in a list ",D0,D1,": the match must be whole, because Espruino's indexOf counts
  // a needle that only starts at the end of the string as found (",D0,".indexOf(",D9,") is 3)
  const has = (list: string, pin: string): boolean => {
    const at = list.indexOf("," + pin + ",");
    return at >= 0 && at + pin.length + 2 <= list.length && pin.indexOf(",") < 0;
  };
  // keyed "=" + name: a bare name such as "constructor" or "toString" would find the prototype's
  const used: any = {};
  const names: any = {};
  for (let l = 0; l < 2; l++) {
    const key = l ? "outputs" : "inputs";
    const list = cfg[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errs.push(key + ": must be a list");
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const at = key + "[" + i + "]";
      const it = list[i];
      const before = errs.length;
      if (bad) bad[at] = 1;
      if (!it || typeof it !== "object" || Array.isArray(it)) {
        errs.push(at + ": must be an object");
        continue;
      }
      const nm = it.name;
      if (!isName(nm)) errs.push(at + ".name: must be 1-24 letters, digits, _ or -");
      else if (nm === "status") errs.push(at + ".name: status is reserved");
      else if (names["=" + nm]) errs.push(at + ".name: duplicate name " + nm + " (also " + names["=" + nm] + ")");
      else names["=" + nm] = at;
      const t = it.type;
      const kinds = l ? "digital,pwm" : "digital,analog,pulse,temperature,memory,rssi,uptime,bme280,bmp280,ds18b20,dht22,dht11";
      const k = kinds.split(",").indexOf(t);
      if (k < 0) {
        errs.push(at + ".type: unknown " + key.slice(0, -1) + " type " + JSON.stringify(t) + " (one of " + kinds + ")");
        continue;
      }
      // the Scope of the item: the input types in order, then the output types
      const scope: Scope = l ? Scope.DigitalOut + k : k;
      const watched = !l && (k === 0 || k === 2);
      // the pin fields: a BME280/BMP280 has sda and scl (one pair may carry two chips), the others pin
      const pf = (l || k <= 2 || k > 8 ? "pin" : k > 6 ? "sda,scl" : "").split(",");
      const pair = k === 7 || k === 8 ? it.sda + "," + it.scl : "";
      for (let j = 0; pf[0] && j < pf.length; j++) {
        const pin = it[pf[j]];
        const p = at + "." + pf[j] + ": " + pin;
        let why = "";
        if (typeof pin !== "string" || !pin) why = at + "." + pf[j] + ": missing";
        else if (!has(board.pins, pin)) why = p + " is not a pin of " + board.id;
        else if (listed ? has(reserved, pin) : reserved.hasOwnProperty(pin)) why = p + " is reserved" + (listed ? "" : " (" + reserved[pin] + ")") + on;
        else if (used["=" + pin] && (!pair || used["@" + pin] !== pair || j && it.sda === it.scl)) why = p + " is already used by " + used["=" + pin];
        else if (!l && k === 1 && !has(board.analog, pin)) why = p + " cannot read analog" + on;
        else if ((watched || k > 9) && has(board.noWatch, pin)) why = p + " cannot be watched" + on;
        else if ((l || k > 6) && has(board.inputOnly, pin)) why = p + " is input-only" + on;
        else if (l && k && !has(board.pwm, pin)) why = p + " has no PWM" + on;
        if (why) errs.push(why);
        else {
          used["=" + pin] = at;
          if (pair) used["@" + pin] = pair;
        }
      }
      if (pf[0] !== "pin" && it.pin !== undefined) errs.push(at + ".pin: not for " + t + " inputs");
      if (pair) {
        const ak = "#" + pair + "," + (it.addr || 118);
        if (used[ak]) errs.push(at + ".addr: " + (it.addr || 118) + " is already used on that bus by " + used[ak]);
        else used[ak] = at;
      }
      if (!l && k === 3 && !board.hasTemperature) errs.push(at + ".type: " + board.id + " has no temperature sensor");
      if (!l && k <= 2 && it.pull !== undefined && ["up", "down", "none"].indexOf(it.pull) < 0) errs.push(at + ".pull: must be up, down or none");
      if (watched && it.edge !== undefined && ["rising", "falling", "both"].indexOf(it.edge) < 0) errs.push(at + ".edge: must be rising, falling or both");
      if (!l && (k ? k < 7 && it.period === undefined : it.period !== undefined)) errs.push(at + ".period: " + (k ? "missing" : "not for digital inputs"));
      checkNums(at + ".", it, scope);
      // a ds18b20's rom: ROM ids as OneWire.search() gives them, family 28 first, CRC8 of the 8 bytes 0
      const rom = it.rom;
      if (!l && rom !== undefined) {
        let ok: any = k === 9 && Array.isArray(rom) && rom.length;
        for (let j = 0; ok && j < rom.length; j++) {
          const r = rom[j];
          // (the pattern also rules out a non-string of length 16: an array prints with commas)
          ok = r && r.length === 16 && /^28[0-9a-f]*$/.test(r);
          let crc = 0;
          for (let x = 0; ok && x < 16; x += 2)
            for (let n = 0, b = parseInt(r.substr(x, 2), 16); n < 8; n++, b >>= 1) crc = (crc >> 1) ^ ((crc ^ b) & 1 ? 0x8c : 0);
          if (crc) ok = false;
        }
        if (!ok) errs.push(at + ".rom: must be ds18b20 ROM ids (16 lower-case hex digits, 28 first, valid CRC)");
      }
      if (bad && errs.length === before) delete bad[at];
    }
  }
  return errs;
}
