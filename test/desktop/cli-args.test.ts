// Unit tests of the jmqt CLI's argument handling (no network).
import { strict as assert } from "node:assert";
import { parseArgs, parseKeyValue, parseValue, UsageError } from "../../sim/cli-args";

describe("desktop: jmqt argument parsing", () => {
  it("reads commands, positionals and common flags", () => {
    const a = parseArgs(["cmd", "dev1", "set", "target=led", "value=1", "--port", "9000", "--id", "admin", "--json", "--timeout=750"]);
    assert.equal(a.command, "cmd");
    assert.deepEqual(a.positional, ["dev1", "set", "target=led", "value=1"]);
    assert.equal(a.port, 9000);
    assert.equal(a.id, "admin");
    assert.equal(a.json, true);
    assert.equal(a.timeout, 750);
    assert.equal(a.host, "127.0.0.1");
  });

  it("takes --server host:port", () => {
    const a = parseArgs(["status", "dev1", "--server", "10.0.0.5:8111"]);
    assert.equal(a.host, "10.0.0.5");
    assert.equal(a.port, 8111);
  });

  it("pub takes --q and --rt", () => {
    const a = parseArgs(["pub", "room/t", "21.5", "--q", "1", "--rt"]);
    assert.equal(a.q, 1);
    assert.equal(a.rt, 1);
  });

  const bad: Array<[string, string[]]> = [
    ["no command", []],
    ["unknown command", ["frobnicate"]],
    ["unknown flag", ["sub", "a", "--bogus"]],
    ["missing flag value", ["sub", "a", "--port"]],
    ["non-numeric port", ["sub", "a", "--port", "eighty"]],
    ["port out of range", ["sub", "a", "--port", "70000"]],
    ["q not 0/1", ["pub", "a", "b", "--q", "2"]],
    ["pub without message", ["pub", "a"]],
    ["cmd without command", ["cmd", "dev"]],
    ["status with two devices", ["status", "a", "b"]],
    ["bad --server", ["status", "a", "--server", "nohost"]],
  ];
  for (const [why, argv] of bad) {
    it(`refuses ${why} with a UsageError`, () => {
      assert.throws(() => parseArgs(argv), UsageError);
    });
  }

  it("parses k=v as JSON when it is JSON, else text", () => {
    assert.deepEqual(parseKeyValue("value=1"), ["value", 1]);
    assert.deepEqual(parseKeyValue("target=led"), ["target", "led"]);
    assert.deepEqual(parseKeyValue('x={"a":[1]}'), ["x", { a: [1] }]);
    assert.deepEqual(parseKeyValue("eq=a=b"), ["eq", "a=b"]);
    assert.throws(() => parseKeyValue("novalue"), UsageError);
    assert.equal(parseValue("hello world"), "hello world");
    assert.deepEqual(parseValue('{"on":true}'), { on: true });
  });
});
