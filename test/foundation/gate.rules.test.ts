// Each rule of the Espruino compatibility gate, fed a bad snippet (it must fail) and a good one.
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoard } from "../../tools/api";
import { buildBoard } from "../../tools/build";
import { Violation, checkBundle } from "../../tools/gate";

const esp32 = loadBoard("esp32");
const esp8266 = loadBoard("esp8266");

function rules(code: string, board = esp8266, budget?: number): Violation[] {
  return checkBundle(code, board, { budget });
}

function expectRule(code: string, rule: Violation["rule"], match: RegExp, board = esp8266): void {
  const v = rules(code, board);
  const hit = v.find((x) => x.rule === rule && match.test(x.message));
  assert.ok(hit, `expected a ${rule} violation matching ${match} for:\n${code}\ngot: ${JSON.stringify(v, null, 1)}`);
}

describe("gate: ES5 parse", () => {
  const bad = ["let x = 1;", "var f = () => 1;", "var s = `t`;", "class A {}", "var {a} = {a: 1};", "for (var x of [1]) {}", "async function f() {}"];
  for (const code of bad) {
    it(`rejects ${code}`, () => expectRule(code, "es5", /not ECMAScript 5/));
  }
  it("accepts plain ES5", () => assert.deepEqual(rules("var x = [1, 2].map(function (v) { return v * 2; }); x.push(3);"), []));
});

describe("gate: globals the board lacks", () => {
  for (const name of ["Map", "Set", "WeakMap", "Symbol", "Reflect", "Proxy", "Buffer"]) {
    it(`flags ${name} with a hint`, () => expectRule(`var x = new ${name}();`, "global", new RegExp(`${name}: no ${name} on Espruino`)));
  }
  it("flags a global that is neither ES5-on-Espruino nor in api.json", () => {
    expectRule("var e = new RangeError('x');", "global", /global RangeError does not exist/);
    expectRule("escape('x');", "global", /global escape/);
  });
  it("flags a pin the board does not have", () => {
    expectRule("D39.write(1);", "global", /global D39/, esp8266);
    assert.deepEqual(rules("D39.read();", esp32), []);
  });
  it("accepts the board's globals, pins and local names", () => {
    const ok = "var t = getTime(); D2.write(1); digitalWrite(D4, 0); setWatch(function(e){ print(e.state); }, D5, {repeat:true}); function f(a){ return a + arguments.length; } E.kickWatchdog(); JSON.stringify(process.memory());";
    assert.deepEqual(rules(ok), []);
  });
});

describe("gate: modules", () => {
  it("flags a Node module", () => expectRule('var fs = require("fs");', "module", /require\("fs"\): no such built-in module/));
  it("flags the other board's module", () => {
    expectRule('require("ESP32").reboot();', "module", /require\("ESP32"\)/, esp8266);
    assert.deepEqual(rules('require("ESP32").reboot();', esp32), []);
  });
  it("flags a computed module name", () => expectRule("var n = 'net'; require(n);", "module", /computed name/));
  it("checks members of a module, also through a variable", () => {
    expectRule('var net = require("net"); net.createConnection({});', "member", /net\.createConnection does not exist/);
    expectRule('require("Storage").writeFile("a", "b");', "member", /Storage\.writeFile/);
    assert.deepEqual(rules('var net = require("net"); net.connect({host: "h", port: 1}, function () {}); require("Storage").readJSON("jmqt.json", true);'), []);
  });
});

describe("gate: members of built-ins", () => {
  for (const [code, re] of [
    ["Object.freeze({});", /Object\.freeze/],
    ["Array.from([1]);", /Array\.from/],
    ["Number.isInteger(1);", /Number\.isInteger/],
    ["Promise.allSettled([]);", /Promise\.allSettled/],
    ["Date.UTC(2020, 1);", /Date\.UTC/],
    ["E.nope();", /E\.nope/],
  ] as [string, RegExp][]) {
    it(`flags ${code}`, () => expectRule(code, "member", re));
  }
  it("accepts members the board has", () => {
    assert.deepEqual(rules("Object.keys({}); Object.assign({}, {}); JSON.parse('1'); Math.round(1.5); E.getTemperature(); E.on('init', function(){}); String.fromCharCode(0); Date.now();"), []);
  });
});

describe("gate: method calls", () => {
  it("flags a method no built-in has and the bundle does not define", () => {
    expectRule("var a = [[1]]; a.flatMap(function (x) { return x; });", "method", /\.flatMap\(\)/);
    expectRule("'x'.codePointAt(0);", "method", /\.codePointAt\(\)/);
    expectRule("(1).toLocaleString();", "method", /\.toLocaleString\(\)/);
  });
  it("accepts a method the bundle defines on its own objects", () => {
    assert.deepEqual(rules("function C() {} C.prototype.flatMap = function () {}; new C().flatMap(); var o = {frob: function () {}}; o.frob();"), []);
  });
});

describe("gate: traps of ../shared/espruino/README.md", () => {
  it("flags Object.create with two arguments", () => expectRule("Object.create(null, {a: {value: 1}});", "object-create", /second argument throws/));
  it("accepts Object.create with one argument", () => assert.deepEqual(rules("Object.create(null);"), []));
  it("flags Array.prototype.slice read as a property", () => expectRule("function f() { return Array.prototype.slice.call(arguments); }", "prototype-read", /Array\.prototype\.slice read as a property/));
  it("flags Function.prototype.bind read as a property", () => expectRule("var b = Function.prototype.bind;", "prototype-read", /Function\.prototype\.bind/));
  it("accepts calls on instances and assignments to user prototypes", () => {
    assert.deepEqual(rules("function f() { return [].slice.call(arguments); } function C() {} C.prototype.go = f; var g = f.bind(null);"), []);
  });
});

describe("gate: size budget", () => {
  it("fails a bundle over the budget and passes one under it", () => {
    const code = "var s = '" + "x".repeat(200) + "';";
    assert.ok(rules(code, esp8266, 100).some((v) => v.rule === "size" && /over the esp8266 budget of 100 bytes/.test(v.message)));
    assert.deepEqual(rules(code, esp8266, 1000), []);
  });
});

describe("gate: transpiler helpers name the helper and the TypeScript line", function () {
  this.timeout(30000);
  it("a class with extends → _inherits (Object.create with 2 args) at the line of the class", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-"));
    const entry = join(dir, "main.ts");
    writeFileSync(entry, ["class Base { x = 1; }", "class Child extends Base { y = 2; }", "print(new Child().y);", ""].join("\n"));
    const r = await buildBoard({ board: "esp8266", entry, outDir: dir });
    const v = checkBundle(r.debug, esp8266, { map: r.map });
    const hit = v.find((x) => x.helper === "_inherits");
    assert.ok(hit, JSON.stringify(v, null, 1));
    assert.equal(hit!.rule, "object-create");
    assert.match(hit!.origin!, /main\.ts:2: `class Child extends Base \{ y = 2; \}`/);
  });
  it("for..of over a non-array → an iterator helper that needs Symbol, at the loop's line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-"));
    const entry = join(dir, "main.ts");
    writeFileSync(entry, ["const o: any = { a: 1 };", "const keys: any = Object.keys(o);", "for (const k of keys) print(k);", ""].join("\n"));
    const r = await buildBoard({ board: "esp8266", entry, outDir: dir });
    const v = checkBundle(r.debug, esp8266, { map: r.map });
    const hit = v.find((x) => x.helper && x.rule === "global" && /Symbol/.test(x.message));
    assert.ok(hit, JSON.stringify(v, null, 1));
    assert.match(hit!.origin!, /main\.ts:3: `for \(const k of keys\) print\(k\);`/);
  });
  it("plain TypeScript classes without extends pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-"));
    const entry = join(dir, "main.ts");
    writeFileSync(entry, ["class Counter { n = 0; inc(): number { return ++this.n; } }", "const c = new Counter();", "setInterval(() => print(c.inc()), 1000);", ""].join("\n"));
    const r = await buildBoard({ board: "esp8266", entry, outDir: dir });
    assert.deepEqual([...checkBundle(r.debug, esp8266, { map: r.map }), ...checkBundle(r.min, esp8266)], []);
  });
});
