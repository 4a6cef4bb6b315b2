// `npm start`: a JMQT broker on 127.0.0.1:8010, a simulated ESP32 running the built bundle with
// examples/device.json in real time (moving sensor values on its inputs), a terminal view of
// what happens on the wire and the live dashboard on http://127.0.0.1:8080/.
// `--engine v8` (default): the device is SimBoard (sim/board.ts) on its real-time clock;
// `--engine espruino`: the REAL Espruino interpreter built for Linux (sim/espruino/board.ts), the
// firmware uploaded by replaying the flash dry run. Both through the Device interface (sim/device.ts).
// Ctrl-C / SIGTERM: the device publishes {"online":0} and sends disconn, everything closes, exit 0.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startBroker } from "./broker/index";
import type { PacketEvent } from "./broker/types";
import { DashboardHub } from "./dashboard/hub";
import { describePins } from "./dashboard/pins";
import { DeviceMonitor } from "./dashboard/monitor";
import { startDashboard, type DashboardServer } from "./dashboard/server";
import type { Device } from "./device";
import { EspruinoBoard, espruinoMissing, hasEspruino } from "./espruino/board";
import { SimBoard, type BoardId } from "./index";
import { applyScenarioEvent } from "./scenario";

export type DemoEngine = "v8" | "espruino";

const ROOT = resolve(__dirname, "..");

export interface DemoOptions {
  board: string;
  /** "v8" (default): SimBoard; "espruino": the real interpreter (../shared/espruino/bin) */
  engine?: DemoEngine;
  /** --board was given (it wins over a scenario's board) */
  boardGiven?: boolean;
  /** device config file (default examples/device.json, or examples/device-<board>.json when it exists) */
  config?: string;
  /** scenario file: sensors and faults over time (see README, section desktop) */
  scenario?: string;
  /** where the broker listens (default 127.0.0.1:8010; port 0 = ephemeral) */
  host: string;
  port: number;
  /** connect to this existing JMQT server instead of starting the broker */
  server?: { host: string; port: number };
  /** dashboard port (default 8080; 0 = ephemeral), or false for no dashboard */
  httpPort: number | false;
  /** keep the config's periods; by default the demo shortens them to at most 2 s so values move */
  keepPeriods?: boolean;
  /** one line of terminal output */
  print?: (line: string) => void;
}

export interface Demo {
  /** the device, on either engine (sim.engine says which) */
  sim: Device;
  engine: DemoEngine;
  hub: DashboardHub;
  config: any;
  brokerPort: number;
  dashboard: DashboardServer | null;
  /** resolves once the device has a session and published its status */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export const DEMO_USAGE = `usage: npm start -- [options]     (or: npx tsx sim/demo.ts [options])
  --board <esp32|esp8266>   board to simulate (default esp32)
  --engine <v8|espruino>    v8: the V8 simulator (default); espruino: the real Espruino interpreter for Linux
  --config <file>           device config (default examples/device.json)
  --scenario <file>         sensors and faults over time (JSON, see README)
  --port <n>                broker port (default 8010; 0 = any free port)
  --host <h>                broker address (default 127.0.0.1)
  --server <host:port>      use an existing JMQT server instead of starting the broker
  --http-port <n>           dashboard port (default 8080; 0 = any free port)
  --no-dashboard            no web page
  --keep-periods            keep the config's reading periods (default: at most 2 s)`;

/** Parses demo options; throws an Error with a readable message on bad input. */
export function parseDemoArgs(argv: string[]): DemoOptions {
  const o: DemoOptions = { board: "esp32", engine: "v8", host: "127.0.0.1", port: 8010, httpPort: 8080 };
  const num = (name: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`--${name} needs a port number 0..65535`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const name = a.startsWith("--") ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : "";
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (name === "board") {
      o.board = String(value());
      o.boardGiven = true;
    }
    else if (name === "engine") {
      const v = String(value());
      if (v !== "v8" && v !== "espruino") throw new Error(`--engine must be v8 or espruino, not "${v}"`);
      o.engine = v;
    } else if (name === "config") o.config = value();
    else if (name === "scenario") o.scenario = value();
    else if (name === "port") o.port = num("port", value());
    else if (name === "host") {
      const v = String(value());
      const m = /^(.+):(\d+)$/.exec(v);
      if (m) o.server = { host: m[1], port: num("host", m[2]) };
      else o.host = v;
    } else if (name === "server") {
      const m = /^(.+):(\d+)$/.exec(String(value()));
      if (!m) throw new Error("--server needs host:port");
      o.server = { host: m[1], port: num("server", m[2]) };
    } else if (name === "http-port") o.httpPort = num("http-port", value());
    else if (name === "no-dashboard") o.httpPort = false;
    else if (name === "keep-periods") o.keepPeriods = true;
    else if (name === "help" || a === "-h") throw new Error("help");
    else throw new Error(`unknown option ${a}`);
  }
  if (!existsSync(join(ROOT, "boards", o.board + ".json"))) throw new Error(`unknown board "${o.board}" (no boards/${o.board}.json)`);
  return o;
}

function readJson(file: string, what: string): any {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e: any) {
    throw new Error(`cannot read ${what} ${file}: ${e.code || e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e: any) {
    throw new Error(`${what} ${file} is not valid JSON: ${e.message}`);
  }
}

/**
 * Moving inputs for the config: sensor models on analog pins (SimBoard.sensor), and timers that
 * drive digital pins (a pulse train for counters, an occasional press for buttons). Returns the
 * timers so stop() can clear them.
 */
function attachInputs(
  sim: Device,
  setDigital: (pin: string, v: number) => void,
  cfg: any,
  scenario: any,
  stopped: { v: boolean },
): NodeJS.Timeout[] {
  const fromScenario: Record<string, any> = {};
  if (scenario && scenario.sensors instanceof Array) for (const x of scenario.sensors) if (x && x.pin) fromScenario[x.pin] = x.model;
  const timers: NodeJS.Timeout[] = [];
  let n = 0;
  if ((cfg.inputs || []).some((i: any) => i && i.type === "temperature"))
    // the board's own sensor: a room warming and cooling by a degree and a half over two minutes
    sim.setTemperature({ type: "sine", mean: 23, amplitude: 1.5, periodMs: 120000 });
  for (const it of cfg.inputs || []) {
    if (!it || !it.pin) continue;
    const pin: string = it.pin;
    const model = fromScenario[pin];
    if (model) {
      sim.sensor(pin, model);
      continue;
    }
    if (it.type === "analog") {
      // a slow sine (a light level over a minute), or a random walk for a second analog input
      sim.sensor(pin, n++ % 2 ? { type: "walk", start: 0.5, step: 0.04, everyMs: 500, min: 0, max: 1 } : { type: "sine", mean: 0.5, amplitude: 0.3, periodMs: 60000 });
    } else if (it.type === "pulse") {
      // an energy meter: pulses at a rate that drifts between about 1 and 4 per second
      let level = 0;
      let k = 0;
      timers.push(
        setInterval(() => {
          k++;
          if (k % (1 + Math.floor(2 + 2 * Math.sin(k / 40))) !== 0) return;
          level = 1 - level;
          setDigital(pin, level);
        }, 60),
      );
    } else if (it.type === "digital") {
      // a button (active low when pulled up): pressed for 300 ms every 8 s
      const idle = it.pull === "up" ? 1 : 0;
      setDigital(pin, idle);
      timers.push(
        setInterval(() => {
          setDigital(pin, 1 - idle);
          const release = setTimeout(() => {
            if (!stopped.v) setDigital(pin, idle);
          }, 300);
          release.unref();
        }, 8000),
      );
    }
  }
  return timers;
}

/** Starts broker (unless --server), simulated device, dashboard client and page. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const engine: DemoEngine = opts.engine ?? "v8";
  if (engine !== "v8" && engine !== "espruino") throw new Error(`engine must be v8 or espruino, not "${engine}"`);
  const scenario = opts.scenario ? readJson(opts.scenario, "scenario") : null;
  if (scenario && typeof scenario.board === "string" && !opts.boardGiven) opts = { ...opts, board: scenario.board };
  const board = readJson(join(ROOT, "boards", opts.board + ".json"), "board file");
  const defaultConfig = existsSync(join(ROOT, "examples", `device-${opts.board}.json`))
    ? join(ROOT, "examples", `device-${opts.board}.json`)
    : join(ROOT, "examples", "device.json");
  const fromScenario = scenario && scenario.storage && scenario.storage["jmqt.json"];
  const cfgFile = opts.config ?? (fromScenario ? opts.scenario! : defaultConfig);
  const cfg = !opts.config && fromScenario ? (typeof fromScenario === "string" ? JSON.parse(fromScenario) : fromScenario) : readJson(cfgFile, "config");
  if (!cfg || typeof cfg !== "object" || typeof cfg.id !== "string") throw new Error(`config ${cfgFile} has no "id"`);
  // before anything listens: the real engine needs the interpreter
  if (engine === "espruino" && !hasEspruino(opts.board as BoardId)) throw new Error(`--engine espruino needs the real interpreter: ${espruinoMissing(opts.board as BoardId)}`);

  const tokenForDevice = cfg.server && typeof cfg.server.token === "string" ? cfg.server.token : "demo-token";
  let broker: Awaited<ReturnType<typeof startBroker>> | null = null;
  let host = opts.host;
  let port = opts.port;
  const dashboardId = "dashboard";
  const prefix = typeof cfg.prefix === "string" ? cfg.prefix : "";

  const hub = new DashboardHub({
    deviceId: cfg.id,
    boardName: board.name || board.id,
    pins: describePins(board, cfg),
    channelNames: Object.fromEntries((cfg.inputs || []).filter((i: any) => i && i.name).map((i: any) => [prefix + i.name, i.name])),
  });
  hub.engine = engine;
  hub.on((e) => {
    if (e.type === "log") print(`${new Date(e.data.t).toTimeString().slice(0, 8)} ${e.data.kind.padEnd(5)} ${e.data.text}`);
  });

  if (opts.server) {
    host = opts.server.host;
    port = opts.server.port;
  } else {
    broker = await startBroker({
      host: opts.host,
      port: opts.port,
      token: tokenForDevice,
      announce: false,
      onPacket: (ev: PacketEvent) => tapPacket(ev),
    });
    port = broker.port;
    broker.on("disconnect", (cl: string, reason: string) => {
      if (reason === "disconn") return;
      hub.addLog("state", `${cl} lost (${reason})`);
      if (cl === cfg.id) hub.setConnection("device", "offline");
    });
  }

  // What the terminal shows from the broker's side: sessions, commands from any client
  // (the CLI too) and the device's replies. Readings are shown by the dashboard client.
  function tapPacket(ev: PacketEvent): void {
    const b = ev.body || {};
    if (ev.dir === "out" && ev.type === "connAck" && ev.cl) hub.addLog("state", `${ev.cl} connected (connAck ${b.st})`);
    else if (ev.dir === "in" && ev.type === "disconn" && ev.cl) hub.addLog("state", `${ev.cl} disconnecting`);
    else if (ev.dir === "in" && ev.type === "pub" && ev.cl !== dashboardId && typeof b.cn === "string" && b.cn === "#" + cfg.id)
      hub.addLog("cmd", `${ev.cl} → ${cfg.id}: ${JSON.stringify(b.dt)}`);
    else if (ev.dir === "in" && ev.type === "pub" && ev.cl === cfg.id && typeof b.cn === "string" && b.cn.startsWith("#") && b.cn !== "#" + dashboardId)
      hub.addLog(b.dt && b.dt.ok === 1 ? "re" : "err", `${cfg.id} → ${b.cn.slice(1)}: ${JSON.stringify(b.dt)}`);
  }

  // The device's config as flashed for this demo: our server, the simulated access point,
  // the dashboard allowed to send commands, and (by default) short periods so values move.
  const deviceCfg = JSON.parse(JSON.stringify(cfg));
  deviceCfg.server = { ...(deviceCfg.server || {}), host, port, token: tokenForDevice };
  delete deviceCfg.server.auth;
  const wifi = scenario && scenario.wifi ? scenario.wifi : { ssid: (cfg.wifi && cfg.wifi.ssid) || "demo-ap", password: (cfg.wifi && cfg.wifi.password) || "demo-pass", rssi: -58 };
  deviceCfg.wifi = { ssid: wifi.ssid, password: wifi.password };
  if (deviceCfg.allow instanceof Array && !deviceCfg.allow.includes(dashboardId)) deviceCfg.allow.push(dashboardId);
  if (!opts.keepPeriods) for (const it of deviceCfg.inputs || []) if (it && typeof it.period === "number" && it.period > 2000) it.period = 2000;

  // the device: SimBoard on the real clock, or the real interpreter (real time by nature), whose
  // link to the broker stands for the WiFi (the config's server is reached through it)
  const devLog = (line: string) => hub.addLog("dev", line);
  const dev: Device =
    engine === "espruino"
      ? new EspruinoBoard({ board: opts.board as BoardId, config: deviceCfg, wifi: { rssi: wifi.rssi, connectMs: wifi.connectMs }, log: devLog, name: cfg.id })
      : new SimBoard({ board: opts.board as BoardId, storage: { ...otaFiles(opts.board), "jmqt.json": JSON.stringify(deviceCfg) }, wifi, clock: "real", log: devLog });
  // the levels of digital inputs as driven from here (the real engine knows only what it wrote)
  const inputLevels: Record<string, number> = {};
  const sim = dev;
  const setDigital = (pin: string, v: number | boolean) => {
    inputLevels[pin] = v ? 1 : 0;
    sim.setDigital(pin, v);
  };
  hub.setInputSetter((pin, v) => {
    const kind = (hub.pins.find((p) => p.pin === pin) || { kind: "" }).kind;
    hub.addLog("info", `input ${pin} = ${v} (from the dashboard)`);
    if (kind === "analog") {
      dev.sensor(pin, null);
      dev.setAnalog(pin, v);
    } else setDigital(pin, v);
  });
  const stopped = { v: false };
  // the real engine takes lines for the board only once it has booted: inputs are attached then
  let inputTimers: NodeJS.Timeout[] = engine === "v8" ? attachInputs(sim, setDigital, deviceCfg, scenario, stopped) : [];

  const monitor = new DeviceMonitor(hub, {
    host,
    port,
    id: dashboardId,
    token: opts.server ? undefined : tokenForDevice,
    deviceId: cfg.id,
    readingChannels: (deviceCfg.inputs || []).filter((i: any) => i && i.name).map((i: any) => prefix + i.name),
    statusChannel: prefix + "status",
  });
  hub.on((e) => {
    if (e.type === "reading") hub.addLog("pub", `${e.data.cn} ${JSON.stringify(e.data.dt)}`);
  });

  const outputs: string[] = (deviceCfg.outputs || []).map((o: any) => o && o.pin).filter(Boolean);
  const digitalIns: string[] = (deviceCfg.inputs || []).filter((i: any) => i && i.pin && i.type !== "analog").map((i: any) => i.pin);
  const pinPoll = setInterval(() => {
    const levels: Record<string, number> = {};
    for (const p of outputs) {
      const v = Number(sim.output(p));
      if (!isNaN(v)) levels[p] = v;
    }
    for (const p of digitalIns) {
      const v = p in inputLevels ? inputLevels[p] : Number(sim.output(p));
      if (!isNaN(v)) levels[p] = v;
    }
    hub.setLevels(levels);
  }, 150);
  // process.memory() of the device every 5 s (a garbage collection on the real engine)
  let memBusy = false;
  const memPoll = setInterval(async () => {
    if (memBusy || stopped.v) return;
    memBusy = true;
    try {
      const m = await sim.memory();
      if (!stopped.v) hub.setMemory({ free: m.free, usage: m.usage, total: m.total, blocksize: m.blocksize });
    } catch {
      // no answer while the device reboots: the next poll asks again
    } finally {
      memBusy = false;
    }
  }, 5000);

  const faultTimers: NodeJS.Timeout[] = [];
  if (scenario && scenario.events instanceof Array) {
    for (const ev of scenario.events) {
      faultTimers.push(
        setTimeout(() => {
          const { at, do: what, ...args } = ev || {};
          hub.addLog("info", `scenario @${at} ms: ${what} ${JSON.stringify(args)}`);
          if (what === "setDigital" && ev.pin) inputLevels[ev.pin] = ev.value ? 1 : 0;
          Promise.resolve()
            .then(() => applyScenarioEvent(sim, ev))
            .catch((e: any) => hub.addLog("err", `scenario: ${what} failed: ${e && e.message ? e.message : e}`));
        }, Number(ev && ev.at) || 0),
      );
    }
  }

  let dashboard: DashboardServer | null = null;
  if (opts.httpPort !== false) dashboard = await startDashboard(hub, { host: "127.0.0.1", port: opts.httpPort });

  const ready = new Promise<void>((resolveReady) => {
    const off = hub.on((e) => {
      if (e.type === "state" && e.data.device === "online" && e.data.dashboard === "ready") {
        off();
        resolveReady();
      }
    });
  });

  monitor.start();
  try {
    await sim.boot();
  } catch (e) {
    // the real interpreter did not come up: nothing keeps running
    stopped.v = true;
    clearInterval(pinPoll);
    clearInterval(memPoll);
    for (const t of faultTimers) clearTimeout(t);
    await Promise.resolve(sim.stop()).catch(() => undefined);
    await monitor.stop();
    if (dashboard) await dashboard.close();
    if (broker) await broker.close();
    throw e;
  }
  if (engine === "espruino") inputTimers = attachInputs(sim, setDigital, deviceCfg, scenario, stopped);

  // Orderly device end: Espruino's E "kill" event (the firmware answers with a retained
  // {"online":0} and disconn), then the board is stopped; abrupt after SHUTDOWN_MS at most.
  const SHUTDOWN_MS = 4000;
  async function shutDownDevice(): Promise<void> {
    let offline = false;
    const off = hub.on((e) => {
      if (e.type === "status" && e.data && e.data.online === 0) offline = true;
    });
    try {
      sim.eval('E.emit("kill")');
    } catch (e: any) {
      hub.addLog("err", `device shutdown hook failed: ${e && e.message ? e.message : e}`);
    }
    const end = Date.now() + SHUTDOWN_MS;
    const gone = () => (broker ? !broker.clients().includes(cfg.id) : offline);
    while (!gone() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    off();
    if (!gone()) hub.addLog("err", `${cfg.id} did not end its session within ${SHUTDOWN_MS} ms; stopping it abruptly`);
    await sim.stop();
  }

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      stopped.v = true;
      clearInterval(pinPoll);
      clearInterval(memPoll);
      for (const t of faultTimers) clearTimeout(t);
      for (const t of inputTimers) clearInterval(t);
      hub.addLog("info", "stopping: device shutdown (status offline, disconn)");
      await shutDownDevice();
      await monitor.stop();
      if (dashboard) await dashboard.close();
      if (broker) await broker.close();
    })();
    return stopping;
  };

  return { sim, engine, hub, config: deviceCfg, brokerPort: port, dashboard, ready, stop };
}

async function main(): Promise<void> {
  let opts: DemoOptions;
  try {
    opts = parseDemoArgs(process.argv.slice(2));
  } catch (e: any) {
    if (e.message !== "help") console.error(`demo: ${e.message}`);
    console.error(DEMO_USAGE);
    process.exit(e.message === "help" ? 0 : 2);
  }
  let demo: Demo;
  try {
    demo = await startDemo(opts);
  } catch (e: any) {
    const why = e && e.code === "EADDRINUSE" ? `port ${e.port} is in use (try --port 0 or --http-port 0)` : e && e.message ? e.message : String(e);
    console.error(`demo: cannot start: ${why}`);
    process.exit(1);
  }
  let exiting = false;
  const shutdown = (sig: string) => {
    if (exiting) return;
    exiting = true;
    console.log(`\n${sig}: shutting down`);
    const force = setTimeout(() => {
      console.error("demo: shutdown took too long, exiting");
      process.exit(1);
    }, 8000);
    demo.stop().then(
      () => {
        clearTimeout(force);
        console.log("demo: stopped");
        process.exit(0);
      },
      (e) => {
        console.error(`demo: error while stopping: ${e && e.message ? e.message : e}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  const where = opts.server ? `server ${opts.server.host}:${opts.server.port}` : `broker 127.0.0.1:${demo.brokerPort}`;
  console.log(`demo: ${demo.config.id} (${opts.board}, ${demo.engine === "espruino" ? "real Espruino interpreter" : "V8 simulator"}) → ${where}${demo.dashboard ? `, dashboard ${demo.dashboard.url}` : ""}`);
  demo.ready.then(() => {
    console.log(`ready: device ${demo.config.id} online; ${where}${demo.dashboard ? `; dashboard ${demo.dashboard.url}` : ""}`);
    console.log(`try:   node bin/jmqt.js cmd ${demo.config.id} toggle target=led --id admin --port ${demo.brokerPort}`);
  });
}

if (require.main === module) void main();

/** As flashed (tools/flash.ts): the OTA boot guard (.boot1) and receiver (jmqt.otr) from dist/, when built. */
function otaFiles(board: string): Record<string, string> {
  const out: Record<string, string> = {};
  const dist = join(__dirname, "..", "dist");
  for (const [name, file] of [[".boot1", "boot1.js"], ["jmqt.otr", board + ".ota.js"]])
    if (existsSync(join(dist, file))) out[name] = readFileSync(join(dist, file), "latin1");
  return out;
}
