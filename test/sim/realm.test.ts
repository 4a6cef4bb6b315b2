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

describe("sim realm: Espruino 2v29 behaviours V8 can imitate (measured on espruino-large)", () => {
  let b: SimBoard;
  afterEach(() => b && b.stop());
  const ev = (s: string) => b.eval(s);

  it("indexOf finds a needle that runs off the end of the string", () => {
    b = boot("");
    assert.equal(ev('",up,down,none,".indexOf(",sideways,")'), 13);
    assert.equal(ev('",rising,falling,both,".indexOf(",up,")'), 20);
    assert.equal(ev('"abcdef".indexOf("fz")'), 5);
    assert.equal(ev('"abc".indexOf("bcd")'), 1);
    assert.equal(ev('"abc".indexOf("abcd")'), -1, "a longer needle is never found");
    assert.equal(ev('"abc".indexOf("cq", 3)'), 2, "the start is clamped to length - needle + 1");
    assert.equal(ev('"".indexOf("")'), -1);
    assert.equal(ev('"abc".includes("cd")'), true);
    assert.equal(ev('"abc".indexOf("")'), 0);
  });

  it("Math.round halves away from zero", () => {
    b = boot("");
    assert.equal(ev("JSON.stringify([Math.round(-1.5), Math.round(-30.5), Math.round(-2.5), Math.round(2.5), Math.round(-0.5), Math.round(0.49999999999999994)])"), "[-2,-31,-3,3,-1,1]");
  });

  it("JSON.stringify escapes each byte >= 0x7F as \\u00XX; undefined is \"null\"; functions in arrays are undefined", () => {
    b = boot("");
    assert.equal(ev('JSON.stringify("\\u00e9")'), '"\\u00E9"');
    assert.equal(ev('JSON.stringify("\\u00c3\\u00a9\\u007f\\u0001")'), '"\\u00C3\\u00A9\\u007F\\u0001"');
    assert.equal(ev("JSON.stringify(undefined)"), "null");
    assert.equal(ev("JSON.stringify([undefined, function () {}])"), "[null,undefined]");
    assert.equal(ev('JSON.stringify({ a: 1, b: 2 }, ["a"])'), '{"a":1,"b":2}', "a replacer array is ignored");
  });

  it("JSON.parse: \\u escapes keep the low byte, Espruino's leniencies, the first duplicate key wins", () => {
    b = boot("");
    assert.equal(ev('JSON.parse("\\"\\\\u20ac\\"").charCodeAt(0)'), 0xac);
    assert.equal(ev("JSON.stringify(JSON.parse(\"[01, .5, 0x10, 'a', {'b':1,},] trailing\"))"), '[1,0.5,16,"a",{"b":1}]');
    assert.equal(ev('JSON.parse("{\\"a\\":1,\\"a\\":2}").a'), 1);
    assert.throws(() => ev('JSON.parse("{bad")'), /Got ID:bad expected STRING/);
    assert.throws(() => ev('JSON.parse("")'), /Expecting valid value, got EOF/);
  });

  it("Number() does not skip trailing whitespace; split ignores its limit; trim keeps NBSP; case changes are ASCII only", () => {
    b = boot("");
    assert.equal(ev('isNaN(Number(" 15 "))'), true);
    assert.equal(ev('Number(" 15")'), 15);
    assert.equal(ev("new Number(2) instanceof Number && (2).constructor === Number"), true);
    assert.equal(ev('"a,b,c".split(",", 2).length'), 3);
    assert.equal(ev('"\\u00a0a ".trim()'), "\u00a0a");
    assert.equal(ev('"a\\u00e9".toUpperCase()'), "A\u00e9");
  });

  it("setWatch throws for an edge other than rising/falling/both/1/-1/0; clear*(undefined) throws", () => {
    b = boot("");
    assert.throws(() => ev('setWatch(function () {}, D4, { edge: "up" })'), /'edge' in setWatch should be/);
    assert.equal(typeof ev('setWatch(function () {}, D4, { edge: -1 })'), "number");
    assert.throws(() => ev("clearTimeout(undefined)"), /clearTimeout\(undefined\) not allowed/);
    assert.throws(() => ev("clearInterval(undefined)"), /clearInterval\(undefined\) not allowed/);
    assert.throws(() => ev("clearWatch(undefined)"), /clearWatch\(undefined\) not allowed/);
    ev("clearTimeout(); clearTimeout(null); clearWatch()");
  });

  it("timer ids: the highest id in use + 1 (freed ids come back); watches count apart", async () => {
    b = boot("");
    assert.equal(ev("var f = function () {}, r = [], a = setTimeout(f, 1e6), c = setTimeout(f, 1e6), d = setInterval(f, 1e6); clearTimeout(c); r.push(setTimeout(f, 1e6)); clearTimeout(); r.push(setTimeout(f, 1e6)); clearTimeout(); r.join()"), "4,1");
    assert.equal(ev("var w = setWatch(f, D4, { repeat: true }); clearWatch(w); w"), 1);
    ev("var inner; var outer = setTimeout(function () { inner = setTimeout(f, 1e6); }, 1);");
    await b.advance(5);
    assert.notEqual(ev("inner"), ev("outer"), "a timeout still holds its id while its callback runs");
  });

  it("emit queues each listener (run after the current code, before timers, with the listeners of the time of emit)", async () => {
    b = boot("var o = {}, log = []; o.on('x', function (v) { log.push('L' + v); }); o.emit('x', 1); setTimeout(function () { log.push('T0'); }, 0); o.emit('x', 2); o.emit('late'); o.on('late', function () { log.push('late'); }); log.push('end');");
    await b.advance(5);
    assert.equal(ev("log.join()"), "end,L1,L2,T0");
  });

  it("listeners are enumerable #on<event> arrays: for-in, Object.keys and JSON.stringify see them", () => {
    b = boot("");
    assert.equal(ev('var o = { a: 1 }; o.on("data", function () {}); Object.keys(o).join() + "|" + JSON.stringify(o)'), 'a,#ondata|{"a":1,"#ondata":[undefined]}');
  });

  it("quirks can be switched off for code written against V8", () => {
    b = new SimBoard({ board: "esp32", code: "", quirks: false });
    b.boot();
    assert.equal(ev('",up,down,none,".indexOf(",sideways,")'), -1);
    assert.equal(ev("Math.round(-1.5)"), -1);
    assert.equal(ev('var o = {}, n = 0; o.on("x", function () { n++; }); o.emit("x"); n'), 1);
  });
});
