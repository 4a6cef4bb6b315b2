// Runs the broker on its own: npx tsx sim/broker/main.ts [--port 8010] [--host 127.0.0.1] [--ts 15] [--token test-token] [--quiet]
import { startBroker } from "./index";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const quiet = process.argv.includes("--quiet");
  const broker = await startBroker({
    host: arg("host") ?? "127.0.0.1",
    port: Number(arg("port") ?? 8010),
    ts: Number(arg("ts") ?? 15),
    token: arg("token") ?? "test-token",
    log: quiet ? undefined : (line) => console.log(`[broker] ${line}`),
  });
  console.log(`JMQT broker on ${broker.host}:${broker.port}`);
  const stop = (): void => {
    console.log(`[broker] stopping; stats ${JSON.stringify(broker.stats)}`);
    broker.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
