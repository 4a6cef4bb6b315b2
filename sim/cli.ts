// `jmqt` command-line tool: publish, subscribe, send P2P commands to a device, or run the broker.
// It is a thin shell over the firmware's own JMQT client (firmware/jmqt/client.ts) running on
// Node through sim/net.ts, so the desktop speaks exactly what the board speaks.
import type { Client, NetLike, SocketLike } from "../firmware/jmqt/api";
import {
  S_BACKOFF,
  S_READY,
  S_STOPPED,
  ST_BUSY,
  ST_CLIENT_OFFLINE,
  ST_INVALID_CHANNEL,
  ST_INVALID_TOKEN,
  ST_NETWORK_ERROR,
  ST_NOT_ALLOWED,
  ST_OK,
} from "../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../firmware/jmqt/client";
import { startBroker } from "./broker/index";
import { desktopClientOptions, nodeNet } from "./net";
import { progressBar, sendOta } from "./ota-sender";
import { readFileSync } from "node:fs";

import {
  EXIT_AUTH,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_TIMEOUT,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  USAGE,
  UsageError,
  parseArgs,
  parseKeyValue,
  parseValue,
  type CliArgs,
} from "./cli-args";

export { parseArgs, parseKeyValue, parseValue, UsageError };

const STATUS_NAMES: Record<number, string> = {
  0: "failed",
  1: "ok",
  3: "malformed packet",
  5: "server error",
  6: "invalid token",
  7: "not allowed",
  8: "client offline",
  9: "network error",
  10: "invalid packet",
  11: "invalid channel",
  12: "busy",
};
export function statusName(st: number): string {
  return `${STATUS_NAMES[st] ?? "unknown status"} (${st})`;
}

/** Output sink: a line for humans or one JSON document per line with --json. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}
const stdio: Output = {
  out: (l) => process.stdout.write(l + "\n"),
  err: (l) => process.stderr.write(l + "\n"),
};

/** NetLike that remembers the last socket error so a failure can be named (ECONNREFUSED...). */
class TrackingNet implements NetLike {
  lastError: { code?: string; message?: string } | null = null;
  // watched below the socket: the client owns the socket's listeners (api.ts SocketLike)
  private inner = nodeNet({
    onSocket: (raw) =>
      raw.on("error", (e: any) => {
        this.lastError = e ? { code: e.code, message: e.message } : { message: "socket error" };
      }),
  });
  connect(opts: { host: string; port: number }, onConnect: () => void): SocketLike {
    return this.inner.connect(opts, onConnect);
  }
}

type Outcome = { code: number; message?: string };

/**
 * One CLI session with a server: connects (auth first when no token), runs `onReady` once READY,
 * and resolves with the exit code given to `finish`. Network failure, a refused token and the
 * session timeout end it with a clear message.
 */
class Session {
  client!: Client;
  private net = new TrackingNet();
  private done = false;
  private timer: NodeJS.Timeout | null = null;
  private resolve!: (o: Outcome) => void;
  readonly result: Promise<Outcome>;

  constructor(
    private args: CliArgs,
    private onReady: (s: Session) => void,
    private waitForever = false,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
  }

  async start(): Promise<void> {
    const a = this.args;
    this.client = createClient(this.net, {
      ...desktopClientOptions(a.host, a.port, a.id, a.token),
      connMs: a.timeout,
      ackMs: a.timeout,
      retries: 0,
      minBackoffMs: 60000,
      maxBackoffMs: 60000,
    });
    let readyOnce = false;
    this.client.onState = (state: number, st: number) => {
      if (state === S_READY && !readyOnce) {
        readyOnce = true;
        if (!this.waitForever) this.armTimeout("no reply");
        else if (this.timer) clearTimeout(this.timer);
        try {
          this.onReady(this);
        } catch (e: any) {
          this.finish(EXIT_FAILED, `error: ${e && e.message ? e.message : e}`);
        }
        return;
      }
      if (state === S_STOPPED && st === ST_INVALID_TOKEN) {
        this.finish(EXIT_AUTH, `error: the server at ${a.host}:${a.port} refused the token for "${a.id}" (connAck ${ST_INVALID_TOKEN}, invalid token)`);
      } else if (state === S_STOPPED && !readyOnce && st !== undefined && st !== ST_OK) {
        this.finish(EXIT_AUTH, `error: the server at ${a.host}:${a.port} refused the session: ${statusName(st)}`);
      } else if (state === S_BACKOFF && !this.done) {
        const why = this.net.lastError;
        const code = why && why.code ? why.code : "connection lost";
        this.finish(
          EXIT_UNREACHABLE,
          readyOnce
            ? `error: lost the connection to ${a.host}:${a.port} (${code})`
            : `error: cannot reach a JMQT server at ${a.host}:${a.port} (${code}${why && why.message && !why.code ? ": " + why.message : ""})`,
        );
      }
    };
    this.armTimeout("no session");
    start(this.client);
  }

  private armTimeout(what: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.finish(EXIT_TIMEOUT, `error: timed out after ${this.args.timeout} ms (${what})`),
      this.args.timeout,
    );
  }

  /** Ends the session once: disconn, close, then resolve with the code. */
  finish(code: number, message?: string): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    const settle = () => this.resolve({ code, message });
    const guard = setTimeout(settle, 1500);
    guard.unref();
    try {
      stop(this.client, () => {
        clearTimeout(guard);
        settle();
      });
    } catch {
      clearTimeout(guard);
      settle();
    }
  }
}

function describePubStatus(st: number): string {
  if (st === ST_BUSY) return "the client queue is full";
  if (st === ST_INVALID_CHANNEL) return "invalid channel";
  if (st === ST_NOT_ALLOWED) return "not allowed";
  if (st === ST_NETWORK_ERROR) return "no session";
  return statusName(st);
}

function runPub(args: CliArgs, io: Output): Session {
  const [cn, body] = args.positional;
  const dt = parseValue(body);
  return new Session(args, (s) => {
    if (args.q === 1) {
      const st = s.client.pub(cn, dt, 1, args.rt, (ack) => {
        if (ack === ST_OK) {
          io.out(args.json ? JSON.stringify({ ok: 1, cn, st: ack }) : `published to ${cn} (acknowledged)`);
          s.finish(EXIT_OK);
        } else s.finish(EXIT_FAILED, `error: publish to ${cn} refused: ${describePubStatus(ack)}`);
      });
      if (st !== ST_OK) s.finish(EXIT_FAILED, `error: publish to ${cn} refused: ${describePubStatus(st)}`);
    } else {
      const st = s.client.pub(cn, dt, 0, args.rt, null);
      if (st !== ST_OK) return s.finish(EXIT_FAILED, `error: publish to ${cn} refused: ${describePubStatus(st)}`);
      io.out(args.json ? JSON.stringify({ ok: 1, cn, st }) : `published to ${cn}`);
      s.finish(EXIT_OK);
    }
  });
}

function runSub(args: CliArgs, io: Output): Session {
  let seen = 0;
  const session = new Session(
    args,
    (s) => {
      s.client.onPush = (cn, dt, from, rt) => {
        // the server may push on channels it subscribed us to itself (e.g. "update"): not asked for
        if (!args.positional.includes(cn)) return;
        if (args.json) io.out(JSON.stringify({ cn, dt, cl: from, rt: rt ? 1 : 0 }));
        else io.out(`${cn}${rt ? " (retained)" : ""} from ${from || "(server)"}: ${JSON.stringify(dt)}`);
        seen++;
        if (args.count && seen >= args.count) s.finish(EXIT_OK);
      };
      for (const cn of args.positional) {
        const st = sub(s.client, cn, 0, (ack) => {
          if (ack !== ST_OK) s.finish(EXIT_FAILED, `error: subscription to ${cn} refused: ${statusName(ack)}`);
          else if (!args.json) io.err(`subscribed to ${cn}`);
        });
        if (st !== ST_OK) return s.finish(EXIT_FAILED, `error: cannot subscribe to ${cn}: ${statusName(st)}`);
      }
    },
    true,
  );
  return session;
}

let requestCounter = 0;

/** A P2P command as the runtime expects it: {cmd, id, ...args}; the reply comes on #<our id>. */
function runCmd(args: CliArgs, io: Output, device: string, command: string, kv: string[]): Session {
  const payload: Record<string, any> = {};
  for (const t of kv) {
    const [k, v] = parseKeyValue(t);
    if (k === "cmd" || k === "id") throw new UsageError(`"${k}" is reserved in command arguments`);
    payload[k] = v;
  }
  const reqId = `${process.pid.toString(36)}.${(++requestCounter).toString(36)}`;
  const dt = { cmd: command, id: reqId, ...payload };
  return new Session(args, (s) => {
    s.client.onPush = (cn, body, from) => {
      if (!body || typeof body !== "object" || body.re !== reqId) return;
      if (from && from !== device) return;
      const ok = body.ok === 1 || body.ok === true;
      if (args.json) io.out(JSON.stringify(body));
      else if (ok) io.out(formatReply(device, command, body));
      if (ok) s.finish(EXIT_OK);
      else s.finish(EXIT_FAILED, args.json ? undefined : `error: ${device} answered ${command}: ${body.err ?? "failed"}`);
    };
    const st = p2p(s.client, device, dt, 1, (ack) => {
      if (ack === ST_CLIENT_OFFLINE) s.finish(EXIT_FAILED, `error: device "${device}" is not connected (status 8, client offline)`);
      else if (ack !== ST_OK) s.finish(EXIT_FAILED, `error: command to ${device} refused: ${describePubStatus(ack)}`);
    });
    if (st !== ST_OK) s.finish(EXIT_FAILED, `error: command to ${device} refused: ${describePubStatus(st)}`);
  });
}

function formatReply(device: string, command: string, body: Record<string, any>): string {
  const rest = Object.keys(body).filter((k) => k !== "re" && k !== "ok");
  if (!rest.length) return `${device}: ${command} ok`;
  const lines = [`${device}: ${command} ok`];
  for (const k of rest) lines.push(`  ${k}: ${typeof body[k] === "string" ? body[k] : JSON.stringify(body[k])}`);
  return lines.join("\n");
}

/** `jmqt ota <device> <bundle.js>`: the update itself is sim/ota-sender.ts. */
function runOta(args: CliArgs, io: Output): Session {
  const [device, file] = args.positional;
  let bundle: string;
  try {
    bundle = readFileSync(file, "latin1");
  } catch (e: any) {
    throw new UsageError(`cannot read ${file}: ${e && e.code ? e.code : e}`);
  }
  if (!bundle.length) throw new UsageError(`${file} is empty`);
  const version = args.fw ?? require("../package.json").version;
  const tty = !!process.stderr.isTTY && !args.json;
  const bar = progressBar((s) => process.stderr.write(s), tty);
  return new Session(
    args,
    (s) => {
      sendOta(s.client, {
        device,
        bundle,
        version,
        chunk: args.chunk,
        window: args.window,
        trial: args.trial,
        ackMs: Math.min(args.timeout, 10000),
        progress: args.json ? undefined : bar,
        log: (l) => io.err(l),
      }).then((r) => {
        if (args.json) io.out(JSON.stringify({ ok: r.ok ? 1 : 0, device, v: version, fw: r.fw, resent: r.resent, msg: r.message }));
        else if (r.ok) io.out(r.message);
        s.finish(r.ok ? EXIT_OK : EXIT_FAILED, r.ok || args.json ? undefined : `error: ${r.message}`);
      });
    },
    true,
  );
}

async function runBroker(args: CliArgs, io: Output): Promise<number> {
  const broker: any = await startBroker({
    host: args.host,
    port: args.port,
    ts: args.ts,
    log: args.json ? undefined : (line: string) => io.err(line),
  } as any);
  io.out(
    args.json
      ? JSON.stringify({ ready: 1, host: broker.host ?? args.host, port: broker.port })
      : `jmqt broker listening on ${broker.host ?? args.host}:${broker.port} (ts ${args.ts} s); Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await broker.close();
  if (!args.json) io.err("broker closed");
  return EXIT_OK;
}

/** Runs the CLI; resolves with the process exit code. Never throws. */
export async function main(argv: string[], io: Output = stdio): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
    if (args.help) {
      io.out(USAGE);
      return EXIT_OK;
    }
    if (args.command === "broker") return await runBroker(args, io);
    let session: Session;
    if (args.command === "pub") session = runPub(args, io);
    else if (args.command === "sub") session = runSub(args, io);
    else if (args.command === "ota") session = runOta(args, io);
    else if (args.command === "cmd") session = runCmd(args, io, args.positional[0], args.positional[1], args.positional.slice(2));
    else session = runCmd(args, io, args.positional[0], "status", []);
    if (args.command === "sub") {
      const stop = () => session.finish(EXIT_OK);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    }
    await session.start();
    const r = await session.result;
    if (r.message) io.err(r.message);
    return r.code;
  } catch (e: any) {
    if (e instanceof UsageError) {
      io.err(`jmqt: ${e.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    io.err(`jmqt: ${e && e.stack ? e.stack : e}`);
    return EXIT_FAILED;
  }
}
