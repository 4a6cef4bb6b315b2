// Board shim for the Linux build of Espruino, stored as .boot0 by sim/espruino/board.ts (ES5: it
// runs on the interpreter). It stands in for what the Linux build lacks: the Wifi module, pin I/O,
// setWatch, E.getTemperature, the watchdog and E.reboot, all driven by the host.
//   host -> device: lines of code over a TCP connection the shim opens to the host at every boot
//     (127.0.0.1, port CTL_PORT, filled in by the host when it stores this file). Not the console:
//     the Linux build's console loses characters of input that arrives while socket events come
//     in. Lines are "__sim(op,pin,value)" with op "p" pin level ("D0",1),
//     "a" analog value ("A0",0.25), "t" temperature (,25), "r" RSSI (,-67), "w" WiFi up/down (,1|0),
//     "m" print process.memory().
//   device -> host: "\n@@SIM <json>": {"boot":1} shim loaded, {"o":"D2","v":1} output written,
//     {"w":"ssid"} Wifi.connect, {"w":0} Wifi.disconnect, {"W":s} watchdog enabled for s seconds,
//     {"k":1} watchdog kicked, {"b":1} E.reboot(), {"m":{...process.memory()}}.
// Its blocks count against the device (the host measures a boot with this file alone and
// subtracts that usage from the firmware's figures), so it is kept small: one dispatcher for the
// host, pin levels and analog values in one table, shared functions where the calls allow it.
// Built-in functions are replaced as properties of `global` (a plain `digitalRead = ...` throws
// "Unable to assign value to non-reference Function").
var __sim = (function () {
  var V = {}, W = [], T = NaN, R = -55, up = 0, cb = 0;
  function o(j) { print("\n@@SIM " + JSON.stringify(j)); }
  // a pin as a number: "D5" / "A0" (Pin("D5") in the firmware), or a pin value (D5 in code: typeof
  // "number" on this build, yet "D5" as a string and as an object key), which p|0 turns into 5
  function P(p) { return p == "A0" ? 17 : typeof p != "string" ? p | 0 : p[0] == "D" && p.length > 1 ? +p.substr(1) : undefined; }
  // w: {f: callback, p: pin, x: the options given (edge, debounce, repeat), s: last level reported, t: debounce timer}
  function chk(w) {
    w.t = 0;
    var v = V[w.p] | 0, e = w.x.edge || "both";
    if (v == w.s) return;
    w.s = v;
    if (e != "both" && (e == "rising") != !!v) return;
    if (!w.x.repeat) W[W.indexOf(w)] = 0;
    w.f({ state: !!v, time: getTime(), pin: w.p });
  }
  global.Pin = P;
  global.digitalRead = function (p) { return V[P(p)] | 0; };
  global.analogRead = function (p) { return V[P(p)] || 0; };
  // digitalWrite(pin, v) and analogWrite(pin, duty, {freq}): the third argument tells them apart
  global.digitalWrite = global.analogWrite = function (p, v, x) { V[p = P(p)] = v = x ? v : v ? 1 : 0; o({ o: "D" + p, v: v }); };
  global.pinMode = function (p, m) { if (!((p = P(p)) in V)) V[p] = m == "input_pullup" ? 1 : 0; };
  // (the methods of pin values, D2.toggle() ..., are added by PIN_METHODS in board.ts, stored as
  // .boot1 for code other than the firmware, which does not use them)
  global.setWatch = function (f, p, x) {
    var e = x.edge;
    if (e && e != "rising" && e != "falling" && e != "both") throw new Error("Invalid edge " + e);
    return W.push({ f: f, p: p = P(p), x: x, s: V[p] | 0 });
  };
  global.clearWatch = function (i) { if (i) W[i - 1] = 0; else W = []; };
  E.getTemperature = function () { return T; };
  E.enableWatchdog = function (s) { o({ W: s }); };
  E.kickWatchdog = function () { print('\n@@SIM {"k":1}'); };
  E.reboot = function () { print('\n@@SIM {"b":1}'); };
  // Modules.addCached evaluates a function's code text as a new module (its closure is lost and
  // the text costs RAM), so the module is added empty and its cached exports filled from here.
  Modules.addCached("Wifi", "");
  var x = require("Wifi");
  x.connect = function (s, x, c) { cb = c; o({ w: s }); };
  x.disconnect = function (c) { up = 0; print('\n@@SIM {"w":0}'); if (c) setTimeout(c, 1); };
  // listeners are Espruino's own (on(), `#on<event>`): what the board's Wifi module has, and costs
  x.setHostname = function () {};
  // getDetails and getStatus: one answer with both fields (status, station) and the RSSI
  x.getDetails = x.getStatus = function (c) { var d = { status: up ? "connected" : "off", station: up ? "connected" : "off", rssi: up ? R : 0 }; if (c) c(d); return d; };
  x.getIP = function (c) { var d = { ip: up ? "192.168.4.2" : "0.0.0.0" }; if (c) c(null, d); return d; };
  print('\n@@SIM {"boot":1}');
  var ctl = require("net").connect({ host: "127.0.0.1", port: CTL_PORT }, function () { ctl.write("shim\n"); }), line = "";
  ctl.on("data", function (d) {
    var i;
    line += d;
    while ((i = line.indexOf("\n")) >= 0) {
      d = line.substr(0, i);
      line = line.substr(i + 1);
      try { eval(d); } catch (e) { o({ e: "" + e }); }
    }
  });
  return function (k, p, v) {
    if (k == "p" || k == "a") {
      p = P(p);
      V[p] = v;
      if (k == "p") W.forEach(function (w) {
        if (!w || w.p != p) return;
        if (!w.x.debounce) return chk(w);
        if (w.t) clearTimeout(w.t);
        w.t = setTimeout(chk, w.x.debounce, w);
      });
    } else if (k == "t") T = v;
    else if (k == "r") R = v;
    else if (k == "m") o({ m: process.memory() });
    else if (k == "w") {
      up = v;
      k = cb;
      cb = 0;
      if (v && k) k(null);
      x.emit(v ? "connected" : "disconnected", v ? { ip: "192.168.4.2" } : { reason: "beacon_timeout" });
    }
  };
})();
