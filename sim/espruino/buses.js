// Sensor buses for the Linux build of Espruino, stored as .boot2 by sim/espruino/board.ts only when
// the host has wired virtual sensors to the board (ES5: it runs on the interpreter, after the shim
// .boot0, before the firmware). It replaces Espruino's I2C, OneWire and digitalPulse with ones that
// ask the host's chip models (sim/hw/buses.ts, the same objects the V8 engine uses) for every
// transaction, and keeps a list of the watches setWatch makes so that a DHT's answer reaches them
// with its own edge times. The host fills in WIRED: "i" I2C, "o" 1-Wire, "d" DHT, the kinds it has
// wired (a kind left out keeps the Linux build's own, and costs no blocks).
//
// A transaction is synchronous, as on the board (I2C reads return the bytes, a missing chip
// throws): the request goes out as a console line "\n@@SIM {"s": [op, bus, ...], "t": getTime()}"
// (print is synchronous on the Linux build; `t` is the clock the models count conversion times
// in, so that the host's latency does not shorten them), and the answer, one JSON value, is read
// from the FIFO "sensors.fifo" in the board's directory (the interpreter's cwd), which the host
// writes once it has run the request on its model: readFileSync blocks until then (about 0.25 ms
// a transaction, measured). Bytes come back as a string of char codes (a Uint8Array of them costs
// a few blocks where an array of numbers costs two per byte: the ESP8266 layout has 1600), every
// char from 0x7F up escaped as \u00XX (raw 0xD1/0xD2 bytes crash JSON.parse on 2v29). Requests:
//   ["iw", "D21,D22", addr, data]  I2C write        -> 1, or 0 for no ACK
//   ["ir", "D21,D22", addr, n]     I2C read         -> the bytes, or 0 for no ACK
//   ["or", "D4"]                   1-Wire reset     -> true when some device gave a presence pulse
//   ["os", "D4", command]          1-Wire search    -> ["28...", ...]
//   ["ow", "D4", data | rom]       1-Wire write     -> 1 (a ROM id string: MATCH ROM + the ROM)
//   ["od", "D4", n]                1-Wire read      -> the bytes
//   ["dp", "D5", level, ms]        digitalPulse     -> the falling edges of a DHT's answer to a low
//                                                      pulse, two chars each: tenths of µs after
//                                                      the release, high byte first ("" if none)
// The pin names are "D" + the pin number, as the shim reports pins and the host names them.
(function (K) {
  var fs = require("fs"), P = Pin, sw, cw, W;
  // one transaction with the host's models
  function ask(r) {
    print("\n@@SIM " + JSON.stringify({ s: r, t: getTime() }));
    return JSON.parse(fs.readFileSync("sensors.fifo"));
  }

  if (K.indexOf("i") >= 0) {
    // `new I2C()`; setup({sda, scl}) names the bus by its pins
    global.I2C = function () {};
    I2C.prototype.setup = function (o) { this.k = "D" + P(o.sda) + ",D" + P(o.scl); };
    I2C.prototype.writeTo = function (a, d) { if (!ask(["iw", this.k, a, d])) throw new Error("I2C Error: No ACK"); };
    I2C.prototype.readFrom = function (a, n) {
      var r = ask(["ir", this.k, a, n]);
      if (r === 0) throw new Error("I2C Error: No ACK");
      return E.toUint8Array(r);
    };
  }

  if (K.indexOf("o") >= 0) {
    global.OneWire = function (p) { this.p = "D" + P(p); };
    OneWire.prototype.reset = function () { return ask(["or", this.p]); };
    OneWire.prototype.search = function (c) { return ask(["os", this.p, c === undefined ? 0xf0 : c]); };
    // select(rom), skip() (SKIP ROM, 0xCC) and write(data) are one write for the host
    OneWire.prototype.select = OneWire.prototype.skip = OneWire.prototype.write = function (d) { ask(["ow", this.p, d === undefined ? 0xcc : d]); };
    // read() is one byte, read(n) n of them (a Uint8Array where Espruino's gives an array)
    OneWire.prototype.read = function (n) {
      var r = E.toUint8Array(ask(["od", this.p, n === undefined ? 1 : n]));
      return n === undefined ? r[0] : r;
    };
  }

  if (K.indexOf("d") >= 0) {
    // every watch by its id: [callback, pin number, edge]
    W = {};
    sw = setWatch;
    cw = clearWatch;
    global.setWatch = function (f, p, x) {
      var i = sw(f, p, x);
      W[i] = [f, P(p), x.edge];
      return i;
    };
    global.clearWatch = function (i) {
      if (i) delete W[i];
      else W = {};
      cw(i);
    };
    // The line is at `v` for ms (the shim's own level, so the pin's watches see the host's edges),
    // then released; the sensor's falling edges then reach the falling/both watches of the pin,
    // each with its time, as Espruino queues watch events with the time they happened.
    global.digitalPulse = function (p, v, t) {
      var ms = typeof t == "number" ? t : t[0], t0 = getTime() + ms / 1000, e;
      p = P(p);
      v = v ? 1 : 0;
      __sim("p", p, v);
      e = ask(["dp", "D" + p, v, ms]);
      setTimeout(function () {
        var f = [], i, k;
        __sim("p", p, 1 - v);
        // the callbacks first, then the calls: a callback that clears a watch must not end the loop
        for (i in W) if (W[i][1] == p && W[i][2] != "rising") f.push(W[i][0]);
        for (i = 0; i < f.length; i++)
          for (k = 0; k < e.length; k += 2) f[i]({ state: false, time: t0 + (e.charCodeAt(k) * 256 + e.charCodeAt(k + 1)) / 1e7, pin: p });
      }, ms);
    };
  }
})("WIRED");
