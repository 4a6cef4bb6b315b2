// `npm start -- --engine espruino`: the demo with its device on the REAL Espruino interpreter
// (sim/espruino/board.ts, real time), as a process like test/desktop/demo.test.ts runs the V8 one:
// it says "ready", publishes readings, the dashboard shows the board (outputs, inputs driven from
// the page, memory), and SIGINT ends it with {"online":0}, disconn and exit 0. Skipped with one
// line when the interpreter is not there; the missing-interpreter error is checked either way.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDemo } from "../../sim/demo";
import { ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import { ROOT } from "./helpers";

function startDemoProcess(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "sim", "demo.ts"), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const out = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out.stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (out.stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, out, exited };
}

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string, out?: { stdout: string; stderr: string }): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}` + (out ? `\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}` : ""));
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("desktop: npm start -- --engine espruino (the demo on the real interpreter)", function () {
  this.timeout(60000);

  it("without the interpreter: one clear error and exit 1", async () => {
    const d = startDemoProcess(["--engine", "espruino", "--port", "0", "--no-dashboard"], { ESPRUINO_ESP32: "/nonexistent/espruino-esp32" });
    const r = await d.exited;
    assert.equal(r.code, 1, d.out.stderr);
    assert.match(d.out.stderr, /^demo: cannot start: --engine espruino needs the real interpreter: no Espruino Linux build at \/nonexistent\/espruino-esp32 /m);
  });

  it("a bad --engine: a clear message and exit 2", async () => {
    const d = startDemoProcess(["--engine", "node"]);
    assert.equal((await d.exited).code, 2);
    assert.match(d.out.stderr, /--engine must be v8 or espruino/);
  });

  describe("with the interpreter", () => {
    before(function () {
      if (!hasEspruino("esp32")) {
        console.log("      " + ESPRUINO_SKIP_MESSAGE);
        this.skip();
      }
      if (!existsSync(join(ROOT, "dist", "esp32.js"))) throw new Error("dist/esp32.js is missing: run `npm run build` first");
    });

    it("starts, shows readings and the board on the dashboard, takes inputs from it, and stops on SIGINT with {online:0} (exit 0)", async () => {
      const d = startDemoProcess(["--engine", "espruino", "--port", "0", "--http-port", "0"]);
      try {
        await until(() => /^ready: /m.test(d.out.stdout), 30000, '"ready"', d.out);
        assert.match(d.out.stdout, /\(esp32, real Espruino interpreter\)/);
        const dash = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(d.out.stdout);
        assert.ok(dash, "the dashboard URL is printed");
        const url = dash![1];
        assert.equal((await fetch(url)).status, 200);
        await until(() => / pub +home\/kitchen\/light /.test(d.out.stdout), 15000, "a light reading", d.out);
        // the board view: the engine, the output levels the device wrote, memory from process.memory()
        let st: any = null;
        await until(async () => (st = (await (await fetch(url + "api/state")).json()) as any).memory !== null, 8000, "memory in the dashboard state", d.out);
        assert.equal(st.engine, "espruino");
        assert.ok(st.memory.total === 5000 && st.memory.usage > 0 && st.memory.usage < st.memory.total, JSON.stringify(st.memory));
        assert.equal(typeof st.levels.D2, "number", `the LED output's level: ${JSON.stringify(st.levels)}`);
        // an input driven from the page: the button (D0, pulled up, inverted) pressed, then released
        const press = async (value: number) =>
          (await fetch(url + "api/input", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pin: "D0", value }) })).json();
        const n = (d.out.stdout.match(/ pub +home\/kitchen\/button 1\b/g) || []).length;
        assert.deepEqual(await press(0), { ok: 1 });
        await until(() => (d.out.stdout.match(/ pub +home\/kitchen\/button 1\b/g) || []).length > n, 5000, "the press published", d.out);
        assert.deepEqual(await press(1), { ok: 1 });
        const bad = (await (await fetch(url + "api/input", { method: "POST", body: JSON.stringify({ pin: "D2", value: 1 }) })).json()) as any;
        assert.match(bad.err, /not an input/);
        d.child.kill("SIGINT");
        const r = await d.exited;
        assert.equal(r.code, 0, `exit code; stderr:\n${d.out.stderr}`);
        assert.match(d.out.stdout, /kitchen-esp32 offline: \{"online":0\}/);
        assert.match(d.out.stdout, /kitchen-esp32 disconnecting/);
        assert.match(d.out.stdout, /demo: stopped/);
      } finally {
        if (d.child.exitCode === null) d.child.kill("SIGKILL");
      }
    });

    it("startDemo({engine: 'espruino'}): on stop the device publishes its retained offline status and sends disconn", async () => {
      const demo = await startDemo({ board: "esp32", engine: "espruino", host: "127.0.0.1", port: 0, httpPort: false, print: () => undefined });
      try {
        await demo.ready;
        assert.equal(demo.sim.engine, "espruino");
        await demo.stop();
        const texts = demo.hub.log.map((e) => e.text);
        assert.ok(texts.includes(`${demo.config.id} disconnecting`), texts.slice(-15).join("\n"));
        assert.equal(demo.hub.status && demo.hub.status.online, 0, "retained {online:0} seen by the dashboard client");
      } finally {
        await demo.stop();
      }
    });
  });
});
