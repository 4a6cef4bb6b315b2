// Device configuration (jmqt.json): the pure validator that both the build (tools/build.ts) and
// the device (boot, `config` command) run. It never throws; it returns one message per problem,
// "<field>: <reason>". Two functions only (each function object costs RAM on the board); the
// lists of names are string literals inside the function body, so they stay in flash.

/** The board description: what the build puts in BOARD_JSON (tools/build.ts boardConstant). */
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

/** Pushes "<where>: <reason>" when v (undefined: not given, fine; a boolean counts as 0/1) is not a number or out of [min, max]. */
function checkNum(errs: string[], where: string, v: any, min: number, max: number): void {
  if (typeof v === "boolean") v = +v;
  if (v === undefined) return;
  if (typeof v !== "number" || !isFinite(v)) errs.push(where + ": must be a number");
  else if (v < min || v > max) errs.push(where + ": must be between " + min + " and " + max);
}

/**
 * Validates a device config against a board. Returns [] when valid, else one message per
 * problem. Items of inputs/outputs with an error are skipped by the runtime (it finds them by
 * the "inputs[i]" / "outputs[i]" prefix of the message).
 */
export function validateConfig(cfg: any, board: BoardInfo): string[] {
  const errs: string[] = [];
  if (!cfg || typeof cfg !== "object" || Array.isArray(cfg)) return ["config: must be a JSON object"];
  const on = " on " + board.id;
  const id = cfg.id;
  if (typeof id !== "string" || !id.length) errs.push("id: " + (id === undefined ? "missing" : "must be a non-empty string"));
  else if (/^[#$]/.test(id)) errs.push("id: must not start with # or $");
  const srv = cfg.server;
  if (!srv || typeof srv !== "object") errs.push("server: missing (needs host and port)");
  else {
    if (typeof srv.host !== "string" || !srv.host.length) errs.push("server.host: must be a host name or address");
    if (srv.port === undefined) errs.push("server.port: missing");
    checkNum(errs, "server.port", srv.port, 1, 65535);
    if (srv.port % 1) errs.push("server.port: must be a whole number");
    if (srv.token !== undefined && (typeof srv.token !== "string" || !srv.token.length)) errs.push("server.token: must be a non-empty string");
    if (srv.auth !== undefined && (srv.auth === null || (typeof srv.auth !== "object" && typeof srv.auth !== "string"))) errs.push("server.auth: must be an object or a string");
    if (srv.token === undefined && srv.auth === undefined) errs.push("server: needs token or auth");
  }
  const w = cfg.wifi;
  if (w !== undefined) {
    if (!w || typeof w !== "object") errs.push("wifi: must be an object with ssid and password");
    else {
      if (typeof w.ssid !== "string" || !w.ssid.length) errs.push("wifi.ssid: must be a non-empty string");
      if (w.password !== undefined && typeof w.password !== "string") errs.push("wifi.password: must be a string");
    }
  }
  if (cfg.prefix !== undefined && (typeof cfg.prefix !== "string" || /^[#$]/.test(cfg.prefix))) errs.push("prefix: must be a string not starting with # or $");
  if (cfg.group !== undefined && (typeof cfg.group !== "string" || !/^[^$]/.test(cfg.group))) errs.push("group: must be a non-empty channel name not starting with $");
  const allow = cfg.allow;
  if (allow !== undefined) {
    if (!Array.isArray(allow)) errs.push("allow: must be a list of client ids");
    else for (let i = 0; i < allow.length; i++) if (typeof allow[i] !== "string" || !allow[i].length) errs.push("allow[" + i + "]: must be a client id string");
  }
  checkNum(errs, "safeMs", cfg.safeMs, 0, 86400000);
  checkNum(errs, "tick", cfg.tick, 50, 60000);
  const reserved: any = board.reserved || [];
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
      if (!it || typeof it !== "object" || Array.isArray(it)) {
        errs.push(at + ": must be an object");
        continue;
      }
      const nm = it.name;
      if (typeof nm !== "string" || !/^[A-Za-z0-9_\-]{1,24}$/.test(nm)) errs.push(at + ".name: must be 1-24 letters, digits, _ or -");
      else if (nm === "status") errs.push(at + ".name: status is used by the runtime");
      else if (names[nm]) errs.push(at + ".name: duplicate name " + nm + " (also " + names[nm] + ")");
      else names[nm] = at;
      const t = it.type;
      const kinds = l ? "digital,pwm" : "digital,analog,pulse,temperature,memory,rssi,uptime";
      const k = kinds.split(",").indexOf(t);
      if (typeof t !== "string" || k < 0) {
        errs.push(at + ".type: unknown " + (l ? "output" : "input") + " type " + JSON.stringify(t) + " (one of " + kinds + ")");
        continue;
      }
      const watched = !l && (k === 0 || k === 2);
      const pin = it.pin;
      if (l || k <= 2) {
        const p = at + ".pin: " + pin;
        let why = "";
        if (typeof pin !== "string" || !pin.length) why = at + ".pin: missing";
        else if (board.pins.indexOf(pin) < 0) why = p + " is not a pin of " + board.id;
        else if (Array.isArray(reserved) ? reserved.indexOf(pin) >= 0 : reserved.hasOwnProperty(pin)) why = p + " is reserved" + (Array.isArray(reserved) ? "" : " (" + reserved[pin] + ")") + on;
        else if (used[pin]) why = p + " is already used by " + used[pin];
        else if (!l && k === 1 && board.analog.indexOf(pin) < 0) why = p + " cannot read analog" + on;
        else if (watched && board.noWatch.indexOf(pin) >= 0) why = p + " cannot be watched for edges" + on;
        else if (l && board.inputOnly.indexOf(pin) >= 0) why = p + " is input-only" + on;
        else if (l && k === 1 && board.pwm.indexOf(pin) < 0) why = p + " has no PWM" + on;
        if (why) errs.push(why);
        else used[pin] = at;
      } else if (pin !== undefined) errs.push(at + ".pin: a " + t + " input takes no pin");
      if (!l && k === 3 && !board.hasTemperature) errs.push(at + ".type: " + board.id + " has no temperature sensor");
      if (!l && k <= 2 && it.pull !== undefined && "up,down,none".split(",").indexOf(it.pull) < 0) errs.push(at + ".pull: must be up, down or none");
      if (l) {
        checkNum(errs, at + ".safe", it.safe, 0, 1);
        checkNum(errs, at + ".initial", it.initial, 0, 1);
        if (k) checkNum(errs, at + ".freq", it.freq, 1, 40000000);
        else checkNum(errs, at + ".invert", it.invert, 0, 1);
        continue;
      }
      checkNum(errs, at + ".q", it.q, 0, 1);
      checkNum(errs, at + ".rt", it.rt, 0, 1);
      if (watched) {
        checkNum(errs, at + ".debounce", it.debounce, 0, 10000);
        checkNum(errs, at + ".invert", it.invert, 0, 1);
        if (it.edge !== undefined && "rising,falling,both".split(",").indexOf(it.edge) < 0) errs.push(at + ".edge: must be rising, falling or both");
      }
      if (k === 0) {
        if (it.period !== undefined) errs.push(at + ".period: a digital input publishes on change, it takes no period");
      } else if (it.period === undefined) errs.push(at + ".period: missing");
      else checkNum(errs, at + ".period", it.period, 100, 86400000);
      if (!watched) {
        checkNum(errs, at + ".scale", it.scale, -1e9, 1e9);
        checkNum(errs, at + ".offset", it.offset, -1e9, 1e9);
        checkNum(errs, at + ".deadband", it.deadband, 0, 1e9);
      }
      checkNum(errs, at + ".precision", it.precision, 0, 6);
      if (it.precision % 1) errs.push(at + ".precision: must be a whole number");
    }
  }
  return errs;
}
