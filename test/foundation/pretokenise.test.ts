// The bundle is flashed pretokenised (tools/pretokenise.ts): the espruino tool's tokeniser, checked
// token by token against the minified bundle at every build, and read back for V8 by detokenise().
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vm from "node:vm";
import { TOKEN_TEXT, checkPretokenised, detokenise, isPretokenised, pretokeniseFiles, toolTokenTable } from "../../tools/pretokenise";
import { boardIds } from "../../tools/api";
import { SimBoard } from "../../sim/board";

const ROOT = join(__dirname, "..", "..");

function tokenise(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tok-"));
  writeFileSync(join(dir, "in.js"), code);
  pretokeniseFiles([[join(dir, "in.js"), join(dir, "out.js")]]);
  return readFileSync(join(dir, "out.js"), "latin1");
}

describe("pretokenised bundle (tools/pretokenise.ts)", function () {
  this.timeout(30000);

  it("the token table is the espruino tool's (jslex.h of 2v29)", () => {
    assert.deepEqual(toolTokenTable(), TOKEN_TEXT);
  });

  it("words and operators become one byte each, strings and numbers stay text", () => {
    const code = 'function f(a){if(a===void 0)return"function";return typeof a!=="string"&&a>=10}';
    const tok = tokenise(code);
    assert.ok(tok.length < code.length - 20, `${tok.length} bytes from ${code.length}`);
    assert.ok(tok.includes('"function"') && tok.includes("10"), "the string and the number are as written");
    assert.equal(tok.charCodeAt(0), 0x8a + TOKEN_TEXT.indexOf("function"));
    assert.equal(checkPretokenised(code, tok), undefined);
  });

  it("catches the tool's flaw: a+ +b written as a++b", () => {
    const bad = 'var a=""+ +b;';
    const why = checkPretokenised(bad, tokenise(bad));
    assert.match(why || "", /reads as \+\+/);
    // the firmware writes +v+"" instead (codec.ts), which the tool keeps apart
    assert.equal(checkPretokenised('var a=+b+"";', tokenise('var a=+b+"";')), undefined);
  });

  it("refuses raw string and integer bytes, and a plain text that is not ASCII", () => {
    assert.match(checkPretokenised('x="ab"', 'x=\xd1\x02ab') || "", /raw string/);
    assert.match(checkPretokenised('x="\xe9"', 'x="\xe9"') || "", /not ASCII/);
  });

  it("detokenise() gives V8 the same program, also where the tool's untokenise() would not", () => {
    const code = 'var n=1,s=""+ ++n,t=typeof s,u=n in{2:1}?"in":"out";[s,t,u]';
    const tok = tokenise(code);
    assert.ok(isPretokenised(tok) && !isPretokenised(code));
    const run = (c: string) => JSON.stringify(vm.runInNewContext(c));
    assert.equal(run(detokenise(tok)), run(code));
    assert.equal(run(detokenise(tok)), '["2","string","in"]');
  });

  it("the V8 model runs a pretokenised boot file written out, and plain code with such bytes in its strings as it is", () => {
    const tokenised = tokenise('function f(a){return typeof a==="string"?"s":"n"}print("t:"+f(""))');
    assert.ok(isPretokenised(tokenised));
    for (const [code, want] of [[tokenised, "t:s"], ['print("caf\xe9 \xa6 \xc3\xa9")', "caf\xe9 \xa6 \xc3\xa9"]]) {
      const b = new SimBoard({ board: "esp32", code, wifi: null as any });
      b.boot();
      try {
        assert.ok(b.console.includes(want), `${JSON.stringify(want)} in ${JSON.stringify(b.console)}`);
      } finally {
        b.stop();
      }
    }
  });

  for (const id of boardIds())
    it(`${id}: dist/${id}.bootcde is dist/${id}.js pretokenised, token for token, and smaller`, () => {
      const min = readFileSync(join(ROOT, "dist", id + ".js"), "latin1");
      const tok = readFileSync(join(ROOT, "dist", id + ".bootcde"), "latin1");
      assert.equal(checkPretokenised(min, tok), undefined);
      // the program, without the cold functions' comments at the end, which stay plain text (tools/cold.ts)
      const program = (code: string) => code.slice(0, code.indexOf("\n/*(") >= 0 ? code.indexOf("\n/*(") : code.length);
      const tokProgram = program(tok).length;
      const minProgram = program(min).length;
      assert.ok(tok.length < min.length, `${tok.length} bytes pretokenised, ${min.length} plain`);
      assert.ok(tokProgram < minProgram * 0.9, `the program: ${tokProgram} bytes pretokenised, ${minProgram} plain`);
    });
});
