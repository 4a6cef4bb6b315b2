// Shared by the driver tests: each driver runs twice, as its TypeScript source and as the built
// driver file (dist/esp8266.drv.<name>.js, the ES5 text the board evaluates), on fake timers.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runInThisContext } from "node:vm";
import sinon from "sinon";
import { ROOT } from "../../tools/api";
import type { Driver } from "../../firmware/drivers/bus";

export function builtDriver(name: string, board = "esp8266"): any {
  const file = join(ROOT, "dist", `${board}.drv.${name}.js`);
  assert.ok(existsSync(file), `${file} is missing: run npm run build`);
  const f = runInThisContext(readFileSync(file, "utf8"), { filename: file });
  assert.equal(typeof f, "function", `${file} does not evaluate to a factory`);
  return f;
}

/** [label, factory] for the source and the built file */
export function variants<F>(name: string, src: F): [string, () => F][] {
  return [
    ["source", () => src],
    [`built dist/esp8266.drv.${name}.js`, () => builtDriver(name) as F],
  ];
}

export interface Outcome {
  v: any;
  err: string | undefined;
  calls: number;
  /** the callback ran before read() returned */
  sync: boolean;
}

let clock: sinon.SinonFakeTimers | null = null;

export function useClock(): () => sinon.SinonFakeTimers {
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    clock!.restore();
    clock = null;
  });
  return () => clock!;
}

/** one read(), the clock run on by `ms`; the callback must have run exactly once */
export async function reading(d: Driver, ms = 1000): Promise<Outcome> {
  const o: Outcome = { v: undefined, err: undefined, calls: 0, sync: false };
  let returned = false;
  d.read((v, err) => {
    o.calls++;
    o.v = v;
    o.err = err;
    if (!returned) o.sync = true;
  });
  returned = true;
  await clock!.tickAsync(ms);
  assert.equal(o.calls, 1, `callback ran ${o.calls} times`);
  assert.equal(o.sync, false, "callback ran before read() returned");
  return o;
}

export function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(typeof actual === "number" && Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} ± ${tol}`);
}
