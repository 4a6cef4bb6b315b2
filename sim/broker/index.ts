// JMQT 1.0 broker for Node: used by the tests, by `npm start` and by the `jmqt broker` CLI.
//   const broker = await startBroker({ port: 0 });   // 127.0.0.1, ephemeral port
//   broker.port; broker.clients(); broker.kick("devA"); broker.on("packet", ev => ...); await broker.close();
import { Broker } from "./server";
import type { BrokerOptions } from "./types";

export { Broker } from "./server";
export type {
  AuthResult,
  BadFrameEvent,
  BrokerOptions,
  BrokerStats,
  ConnResult,
  PacketEvent,
} from "./types";
export { decode, encode } from "./codec";
export { Framer } from "./framer";

/**
 * Starts a broker and resolves once it listens (rejects on EADDRINUSE and the like).
 * Events: "packet" (PacketEvent), "connect" (cl), "disconnect" (cl, reason), "bad" (BadFrameEvent).
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  const broker = new Broker(opts);
  await broker.listen();
  return broker;
}
