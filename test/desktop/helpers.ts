// Shared by the desktop tests: a broker + a simulated device (the built bundle, real time) on
// 127.0.0.1 ephemeral ports, and a way to run `node bin/jmqt.js ...` as a child process.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { startBroker, type Broker } from "../../sim/broker/index";
import { SimBoard } from "../../sim/index";

export const ROOT = join(__dirname, "..", "..");
export const TOKEN = "desktop-test-token";

export interface DeviceRig {
  broker: Broker;
  sim: SimBoard;
  config: any;
  stop(): Promise<void>;
}

export function exampleConfig(): any {
  return JSON.parse(readFileSync(join(ROOT, "examples", "device.json"), "utf8"));
}

/** Waits until `pred` holds, polling every 20 ms; rejects with `what` after `ms`. */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Broker + simulated ESP32 running examples/device.json, connected and online. */
export async function startDeviceRig(): Promise<DeviceRig> {
  if (!existsSync(join(ROOT, "dist", "esp32.js"))) throw new Error("dist/esp32.js is missing: run `npm run build` first");
  const broker = await startBroker({ host: "127.0.0.1", port: 0, token: TOKEN, announce: false, log: process.env.DESKTOP_DEBUG ? (l: string) => console.log("      [broker] " + l) : undefined });
  const config = exampleConfig();
  config.server = { host: "127.0.0.1", port: broker.port, token: TOKEN };
  config.wifi = { ssid: "test-ap", password: "test-pass" };
  const sim = new SimBoard({
    board: "esp32",
    storage: { "jmqt.json": JSON.stringify(config) },
    wifi: { ssid: "test-ap", password: "test-pass" },
    clock: "real",
    log: process.env.DESKTOP_DEBUG ? (l: string) => console.log("      [device] " + l) : () => undefined,
  } as any);
  sim.boot();
  await waitFor(() => broker.clients().includes(config.id), 10000, `${config.id} to connect`);
  return {
    broker,
    sim,
    config,
    async stop() {
      sim.stop();
      await broker.close();
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type CliRun = Promise<RunResult> & { child: ReturnType<typeof spawn>; live: { stdout: string; stderr: string } };

/** Runs the jmqt CLI as a child process; kills it after `killAfterMs`. `live` fills as output comes. */
export function runCli(args: string[], killAfterMs = 15000): CliRun {
  const child = spawn(process.execPath, [join(ROOT, "bin", "jmqt.js"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const live = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (live.stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (live.stderr += c));
  const p = new Promise<RunResult>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: live.stdout, stderr: live.stderr });
    });
  }) as CliRun;
  p.child = child;
  p.live = live;
  return p;
}

/** A port on 127.0.0.1 that nothing listens on (bound then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
