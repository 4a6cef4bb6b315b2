// require("Storage") in the sim: memory- or file-backed, the firmware-visible API.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SimBoard } from "../../sim";

describe("sim Storage", () => {
  const boards: SimBoard[] = [];
  function boot(opts: { storage?: Record<string, string>; storageFile?: string; code?: string } = {}): SimBoard {
    const b = new SimBoard({ board: "esp8266", code: opts.code || "var S = require('Storage');", storage: opts.storage, storageFile: opts.storageFile });
    boards.push(b);
    b.boot();
    return b;
  }
  afterEach(() => boards.splice(0).forEach((b) => b.stop()));

  it("starts with the given files plus .bootcde; read/readJSON/write/erase/list", () => {
    const b = boot({ storage: { "jmqt.json": '{"id":"x"}', bad: "{nope" } });
    assert.deepEqual(JSON.parse(b.eval("JSON.stringify(S.list())")).sort(), [".bootcde", "bad", "jmqt.json"]);
    assert.equal(b.eval("S.readJSON('jmqt.json').id"), "x");
    assert.equal(b.eval("S.readJSON('missing')"), undefined);
    assert.equal(b.eval("S.read('missing')"), undefined);
    assert.equal(b.eval("S.readJSON('bad', true)"), undefined);
    assert.throws(() => b.eval("S.readJSON('bad')"), /JSON|Unexpected|token|expected/i);
    assert.equal(b.eval("S.write('a', 'hello\\u0000world')"), true);
    assert.equal(b.storage.read("a"), "hello\0world");
    assert.equal(b.eval("S.read('a', 6, 5)"), "world");
    b.eval("S.erase('a')");
    assert.equal(b.storage.read("a"), undefined);
    assert.equal(b.eval("S.list(/json/).length"), 1);
  });

  it("partial writes: create with a size, fill at offsets", () => {
    const b = boot();
    b.eval("S.write('f', 'ab', 0, 6); S.write('f', 'cd', 2); S.write('f', 'ef', 4);");
    assert.equal(b.storage.read("f"), "abcdef");
    assert.throws(() => b.eval("S.write('f', 'xyz', 5)"), /beyond the end/);
    assert.throws(() => b.eval("S.write('this-file-name-is-far-too-long-for-it', 'x')"), /1\.\.28/);
  });

  it("getFree shrinks as files are written and a write that does not fit returns false", () => {
    const b = boot();
    const free0 = b.eval("S.getFree()");
    b.eval("S.write('big', new Array(1001).join('x'))");
    const free1 = b.eval("S.getFree()");
    assert.ok(free0 - free1 >= 1000 && free0 - free1 <= 1040, `${free0} -> ${free1}`);
    assert.equal(b.eval(`S.write('huge', new Array(${free1 + 10}).join('y'))`), false);
    assert.equal(b.storage.read("huge"), undefined);
  });

  it("storageFile persists across boards (a power cycle)", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "simst-")), "flash.json");
    const a = boot({ storageFile: file, code: "require('Storage').write('count', String((+require('Storage').read('count') || 0) + 1));" });
    assert.equal(a.storage.read("count"), "1");
    a.stop();
    const c = boot({ storageFile: file, code: "require('Storage').write('count', String((+require('Storage').read('count') || 0) + 1));" });
    assert.equal(c.storage.read("count"), "2");
    assert.equal(JSON.parse(fs.readFileSync(file, "latin1")).count, "2");
  });

  it("the test side can write files that the program then reads (a config pushed before boot)", () => {
    const b = new SimBoard({ board: "esp32", code: "var cfg = require('Storage').readJSON('jmqt.json', true);" });
    boards.push(b);
    b.storage.write("jmqt.json", JSON.stringify({ id: "dev1" }));
    b.boot();
    assert.equal(b.eval("cfg.id"), "dev1");
  });
});
