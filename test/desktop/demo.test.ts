// `npm start`'s program (sim/demo.ts) as a process: it starts, says "ready", shows readings, and on
// SIGINT the device sends disconn, everything closes and it exits 0. Ephemeral ports only.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDemo } from "../../sim/demo";
import { ROOT } from "./helpers";

function startDemoProcess(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "sim", "demo.ts"), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out.stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (out.stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, out, exited };
}

async function until(pred: () => boolean, ms: number, what: string, out: { stdout: string; stderr: string }): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("desktop: npm start demo", function () {
  this.timeout(60000);

  before(function () {
    if (!existsSync(join(ROOT, "dist", "esp32.js"))) throw new Error("dist/esp32.js is missing: run `npm run build` first");
  });

  it("starts, shows readings, and stops cleanly on SIGINT (exit 0)", async () => {
    const d = startDemoProcess(["--port", "0", "--http-port", "0"]);
    try {
      await until(() => /^ready: /m.test(d.out.stdout), 30000, '"ready"', d.out);
      const dash = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(d.out.stdout);
      assert.ok(dash, "the dashboard URL is printed");
      const page = await fetch(dash![1]);
      assert.equal(page.status, 200);
      // readings appear in the terminal as the device publishes them
      await until(() => / pub +home\/kitchen\/light /.test(d.out.stdout), 15000, "a light reading", d.out);
      d.child.kill("SIGINT");
      const r = await d.exited;
      assert.equal(r.code, 0, `exit code; stderr:\n${d.out.stderr}`);
      assert.match(d.out.stdout, /demo: stopped/);
    } finally {
      if (d.child.exitCode === null) d.child.kill("SIGKILL");
    }
  });

  it("SIGTERM also ends it with exit 0", async () => {
    const d = startDemoProcess(["--port", "0", "--no-dashboard"]);
    try {
      await until(() => /^ready: /m.test(d.out.stdout), 30000, '"ready"', d.out);
      assert.doesNotMatch(d.out.stdout, /dashboard http/);
      d.child.kill("SIGTERM");
      const r = await d.exited;
      assert.equal(r.code, 0, d.out.stderr);
    } finally {
      if (d.child.exitCode === null) d.child.kill("SIGKILL");
    }
  });

  it("on stop the device publishes its retained offline status and sends disconn", async () => {
    const demo = await startDemo({ board: "esp32", host: "127.0.0.1", port: 0, httpPort: false, print: () => undefined });
    try {
      await demo.ready;
      const id = demo.config.id;
      await demo.stop();
      const texts = demo.hub.log.map((e) => e.text);
      assert.ok(texts.includes(`${id} disconnecting`), `the broker saw disconn from ${id}; log:\n${texts.slice(-15).join("\n")}`);
      assert.equal(demo.hub.status && demo.hub.status.online, 0, "retained {online:0} seen by the dashboard client");
    } finally {
      await demo.stop();
    }
  });

  it("bad options: a clear message and exit 2", async () => {
    const d = startDemoProcess(["--board", "nosuchboard"]);
    const r = await d.exited;
    assert.equal(r.code, 2);
    assert.match(d.out.stderr, /unknown board "nosuchboard"/);
  });
});
