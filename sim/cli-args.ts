// Argument parsing of the `jmqt` CLI (sim/cli.ts), kept apart so it is testable without a network.

/** Exit codes, documented in the README (section desktop). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1; // an error reply, a refused publish, a failed subscription
export const EXIT_USAGE = 2; // bad arguments
export const EXIT_UNREACHABLE = 3; // cannot reach the server (ECONNREFUSED, EHOSTUNREACH, ...)
export const EXIT_AUTH = 4; // token or auth data refused (connAck/authAck 6)
export const EXIT_TIMEOUT = 5; // no reply / no session within --timeout

export const USAGE = `usage: jmqt <command> [args] [flags]

commands:
  pub <channel> <json|text> [--q 1] [--rt]   publish one message (JSON if it parses, else text)
  sub <channel...> [--count N]               print pushes as they come (Ctrl-C to stop)
  cmd <device> <command> [k=v ...]           send a P2P command, wait for the reply, print it
  status <device>                            same as: cmd <device> status
  ota <device> <bundle.js> [--fw v]          update the device's firmware over JMQT (docs/ota.md):
      [--trial 60] [--chunk 512] [--window 2]  progress on stderr; exit 0 once it runs v and confirmed
  broker [--port 8010] [--ts 15]             run a JMQT broker on --host:--port

flags:
  --host <h>      server host (default 127.0.0.1); --server host:port also works
  --port <n>      server port (default 8010)
  --id <name>     client id (default jmqt-cli-<pid>)
  --token <t>     token for conn; without it the client sends auth {client_name: id} first
  --json          machine output: one JSON document per line
  --timeout <ms>  give up waiting for a session or a reply after this long (default 5000)
  -h, --help      this text

exit codes: 0 ok, 1 error reply or refused, 2 usage, 3 server unreachable, 4 token refused, 5 timeout`;

export class UsageError extends Error {}

export interface CliArgs {
  command: string;
  positional: string[];
  host: string;
  port: number;
  id: string;
  token: string | undefined;
  json: boolean;
  timeout: number;
  q: number;
  rt: number;
  count: number;
  ts: number;
  help: boolean;
  /** ota: version label (default: package.json version), trial seconds, chunk bytes, chunks in flight */
  fw: string | undefined;
  trial: number;
  chunk: number;
  window: number;
}

const VALUE_FLAGS = ["host", "port", "id", "token", "timeout", "q", "count", "ts", "server", "fw", "trial", "chunk", "window"];
const BOOL_FLAGS = ["json", "rt", "help"];

function toInt(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be an integer ${min}..${max}, got "${text}"`);
  return n;
}

/** Parses argv (without node and script). Throws UsageError with a readable reason. */
export function parseArgs(argv: string[]): CliArgs {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h") {
      flags.help = "1";
      continue;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (BOOL_FLAGS.includes(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        flags[name] = "1";
      } else if (VALUE_FLAGS.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags[name] = v;
      } else {
        throw new UsageError(`unknown flag --${name}`);
      }
      continue;
    }
    positional.push(a);
  }
  let host = flags.host ?? "127.0.0.1";
  let port = flags.port !== undefined ? toInt("port", flags.port, 0, 65535) : 8010;
  if (flags.server !== undefined) {
    const m = /^([^:]+):(\d+)$/.exec(flags.server);
    if (!m) throw new UsageError(`--server must be host:port, got "${flags.server}"`);
    host = m[1];
    port = toInt("server port", m[2], 1, 65535);
  }
  const args: CliArgs = {
    command: positional.shift() ?? "",
    positional,
    host,
    port,
    id: flags.id ?? `jmqt-cli-${process.pid}`,
    token: flags.token,
    json: flags.json === "1",
    timeout: flags.timeout !== undefined ? toInt("timeout", flags.timeout, 1, 3600000) : 5000,
    q: flags.q !== undefined ? toInt("q", flags.q, 0, 1) : 0,
    rt: flags.rt === "1" ? 1 : 0,
    count: flags.count !== undefined ? toInt("count", flags.count, 1, 1e9) : 0,
    ts: flags.ts !== undefined ? toInt("ts", flags.ts, 1, 3600) : 15,
    help: flags.help === "1",
    fw: flags.fw,
    trial: flags.trial !== undefined ? toInt("trial", flags.trial, 1, 3600) : 60,
    chunk: flags.chunk !== undefined ? toInt("chunk", flags.chunk, 64, 3072) : 512,
    window: flags.window !== undefined ? toInt("window", flags.window, 1, 8) : 2,
  };
  if (args.help) return args;
  const need: Record<string, [number, number]> = {
    pub: [2, 2],
    sub: [1, 1000],
    cmd: [2, 1000],
    status: [1, 1],
    broker: [0, 0],
    ota: [2, 2],
  };
  const range = need[args.command];
  if (!range) throw new UsageError(args.command ? `unknown command "${args.command}"` : "missing command");
  if (args.positional.length < range[0] || args.positional.length > range[1])
    throw new UsageError(`wrong number of arguments for "${args.command}"`);
  if (args.command !== "broker" && args.port === 0) throw new UsageError("--port 0 is only meaningful for `jmqt broker`");
  return args;
}

/** "k=v" → [k, value] with value parsed as JSON when it parses (1, true, "x", {...}), else the text. */
export function parseKeyValue(text: string): [string, any] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`command arguments are key=value, got "${text}"`);
  return [text.slice(0, eq), parseValue(text.slice(eq + 1))];
}

/** A message body: JSON when the text is JSON, else the text itself. */
export function parseValue(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

