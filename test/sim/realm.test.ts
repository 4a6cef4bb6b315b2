// The Espruino world inside the sim: what exists, what is hidden, and the reproduced traps.
import { strict as assert } from "node:assert";
import { SimBoard } from "../../sim";

function boot(code: string, board: "esp32" | "esp8266" = "esp32"): SimBoard {
  const b = new SimBoard({ board, code });
  b.boot();
  return b;
}

describe("sim realm: Espruino globals", () => {
  let b: SimBoard;
  afterEach(() => b && b.stop());

  it("hides what Node/V8 has and Espruino lacks", () => {
    b = boot("");
    for (const name of ["Map", "Set", "WeakMap", "Symbol", "Reflect", "Proxy", "Buffer", "WeakRef", "Intl", "WebAssembly", "queueMicrotask", "setImmediate", "RangeError"]) {
      assert.equal(b.eval(`typeof ${name}`), "undefined", name);
    }
    assert.equal(b.eval("typeof Array.from"), "undefined");
    assert.equal(b.eval("typeof Object.freeze"), "undefined");
    assert.equal(b.eval("typeof Promise.allSettled"), "undefined");
    assert.equal(b.eval("typeof Promise.resolve"), "function");
    assert.equal(b.eval("typeof [].flat"), "undefined");
    assert.equal(b.eval("typeof ''.codePointAt"), "undefined");
    assert.equal(b.eval("typeof process.exit"), "undefined");
    assert.equal(b.eval("typeof process.memory"), "function");
    assert.equal(b.eval("process.version"), "2v29");
    assert.equal(b.eval("typeof module"), "undefined");
  });

  it("uses the realm's own Object/Array (instanceof works inside)", () => {
    b = boot("var ok = [] instanceof Array && ({}) instanceof Object && new Date() instanceof Date;");
    assert.equal(b.eval("ok"), true);
  });

  it("offers the board's pins as numbers with methods, and Pin(name)", () => {
    b = boot("");
    assert.equal(b.eval("typeof D2"), "number");
    assert.equal(b.eval("typeof D34"), "number");
    assert.equal(b.eval("typeof D24"), "undefined", "ESP32 has no D24");
    assert.equal(b.eval("typeof A0"), "undefined");
    assert.equal(b.eval('Pin("D5")'), 5);
    assert.equal(b.eval('Pin("D99")'), undefined);
    b.eval("D2.set()");
    assert.equal(b.output("D2"), 1);
    b.eval("D2.toggle()");
    assert.equal(b.output("D2"), 0);
    assert.throws(() => b.eval("digitalWrite(77, 1)"), /Invalid pin/);
  });

  it("ESP8266 has A0, NodeMCU aliases and require('ESP8266') but not ESP32", () => {
    b = boot("", "esp8266");
    assert.equal(b.eval("typeof A0"), "number");
    assert.equal(b.eval("NodeMCU.D4"), 2);
    assert.equal(b.eval('typeof require("ESP8266").getResetInfo'), "function");
    assert.throws(() => b.eval('require("ESP32")'), /Module "ESP32" not found/);
    assert.equal(b.eval("isNaN(E.getTemperature())"), true);
  });

  it("Modules.addCached registers a JS module for require()", () => {
    b = boot('Modules.addCached("m", function (module, exports) { exports.x = 42; }); var v = require("m").x;');
    assert.equal(b.eval("v"), 42);
  });
});

describe("sim realm: reproduced Espruino traps", () => {
  let b: SimBoard;
  afterEach(() => b && b.stop());

  it("JSON.stringify prints numbers with Espruino's ~12 significant digits", () => {
    b = boot("");
    assert.equal(b.eval("JSON.stringify(0.1 + 0.2)"), "0.3");
    assert.equal(b.eval("JSON.stringify(1 / 3)"), "0.33333333333");
    assert.equal(b.eval("JSON.stringify({ a: [1.5, 2 / 3, 7, -0.25], b: 'x' })"), '{"a":[1.5,0.66666666667,7,-0.25],"b":"x"}');
    assert.equal(b.eval("JSON.stringify({ t: 0.1 + 0.2 }, function (k, v) { return v; })"), '{"t":0.3}');
  });

  it("Object.create with a second argument throws 'propertiesObject is not supported yet'", () => {
    b = boot("");
    assert.throws(() => b.eval("Object.create({}, { a: { value: 1 } })"), /propertiesObject is not supported yet/);
    assert.equal(b.eval("Object.getPrototypeOf(Object.create(Array.prototype)) === Array.prototype"), true);
  });

  it("Array.prototype.slice and Function.prototype.bind read as properties are undefined; instance methods work", () => {
    b = boot("");
    assert.equal(b.eval("Array.prototype.slice"), undefined);
    assert.equal(b.eval("Function.prototype.bind"), undefined);
    assert.throws(() => b.eval("(function () { return Array.prototype.slice.call(arguments); })(1, 2)"), /undefined/);
    assert.deepEqual(b.eval("JSON.stringify((function () { return [].slice.call(arguments, 1); })(1, 2, 3))"), "[2,3]");
    assert.equal(b.eval("(function (a) { return this.x + a; }).bind({ x: 1 })(2)"), 3);
    b.eval("Array.prototype.slice = function () { return 'mine'; }");
    assert.equal(b.eval("[1].slice()"), "mine", "assigning to the prototype still works");
  });

  it("an exception in an interval prints 'Uncaught ...' and the interval keeps running", async () => {
    b = boot("var n = 0; setInterval(function () { n++; throw new Error('boom ' + n); }, 100);");
    await b.advance(350);
    assert.equal(b.eval("n"), 3);
    assert.deepEqual(b.console.filter((l) => l.startsWith("Uncaught")), ["Uncaught Error: boom 1", "Uncaught Error: boom 2", "Uncaught Error: boom 3"]);
  });

  it("an exception at load time is printed and the board keeps running its timers", async () => {
    b = boot("var t = 0; setInterval(function () { t++; }, 10); null.x;");
    assert.match(b.console[0], /^Uncaught TypeError/);
    await b.advance(100);
    assert.equal(b.eval("t"), 10);
  });

  it("process.on('uncaughtException') receives errors instead of the console", async () => {
    b = boot("var got; process.on('uncaughtException', function (e) { got = e.message; }); setTimeout(function () { throw new Error('x'); }, 5);");
    await b.advance(10);
    assert.equal(b.eval("got"), "x");
    assert.equal(b.console.length, 0);
  });

  it("Object.prototype.on/emit as on Espruino: emit queues, listeners run after the current code", async () => {
    b = boot("var o = {}, seen = []; o.on('ev', function (a) { seen.push(a); }); var r = o.emit('ev', 1); o.emit('ev', 2); var now = seen.join();");
    assert.equal(b.eval("now"), "");
    assert.equal(b.eval("r"), undefined, "emit returns undefined");
    await b.advance(1);
    assert.equal(b.eval("seen.join()"), "1,2");
  });
});
