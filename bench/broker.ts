// Broker throughput over loopback: one publisher, N subscribers (N = 1, 10, 50), q0 and q1.
// The publisher sends windows of pubs and waits until every subscriber has every push of the window,
// so nothing is dropped and the figure is end-to-end deliveries per second. Broker and clients share
// this one Node process (and its one JS thread), so the figures are a lower bound for the broker.
import * as net from "node:net";
import { startBroker } from "../sim/broker";

interface Sub {
  socket: net.Socket;
  frames: number;
  tail: string;
}

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(s));
    s.once("error", reject);
  });
}

async function runCase(n: number, q: 0 | 1, messages: number, window: number): Promise<void> {
  const broker = await startBroker({ port: 0, announce: false, maxClientBuffer: 64 << 20, maxPending: 100000 });
  let wake: (() => void) | null = null;
  let target = 0;
  const subs: Sub[] = [];
  const check = (): void => {
    if (!wake) return;
    for (const s of subs) if (s.frames < target) return;
    const w = wake;
    wake = null;
    w();
  };
  for (let i = 0; i < n; i++) {
    const socket = await connectRaw(broker.port);
    const sub: Sub = { socket, frames: 0, tail: "" };
    subs.push(sub);
    socket.on("data", (chunk: Buffer) => {
      if (q === 0) {
        let at = chunk.indexOf(0);
        while (at >= 0) {
          sub.frames++;
          at = chunk.indexOf(0, at + 1);
        }
      } else {
        // q1: acknowledge every push by its id (the ids are read without parsing the whole JSON)
        const parts = (sub.tail + chunk.toString("latin1")).split("\0");
        sub.tail = parts.pop()!;
        let acks = "";
        for (const p of parts) {
          sub.frames++;
          const at = p.indexOf('"id":"');
          if (p.startsWith('{"push"') && at >= 0) acks += `{"pushAck":{"st":1,"id":"${p.substr(at + 6, 36)}"}}\0`;
        }
        if (acks) socket.write(acks);
      }
      check();
    });
    socket.write(`{"conn":{"at":"test-token","cl":"sub${i}"}}\0{"sub":{"cn":"bench"}}\0`);
  }
  await new Promise<void>((resolve) => {
    target = 2;
    wake = resolve;
    check();
  });
  for (const s of subs) s.frames = 0;

  const pub = await connectRaw(broker.port);
  pub.on("data", () => {});
  pub.write(`{"conn":{"at":"test-token","cl":"publisher"}}\0`);
  const payload = JSON.stringify({ t: 21.5, h: 40, seq: 0 }).slice(0, -2);
  let sent = 0;
  const t0 = process.hrtime.bigint();
  while (sent < messages) {
    const count = Math.min(window, messages - sent);
    let batch = "";
    for (let i = 0; i < count; i++) {
      const seq = sent + i;
      batch += q === 1
        ? `{"pub":{"cn":"bench","dt":${payload}${seq}},"q":1,"id":"${seq}"}}\0`
        : `{"pub":{"cn":"bench","dt":${payload}${seq}}}}\0`;
    }
    sent += count;
    await new Promise<void>((resolve) => {
      target = sent;
      wake = resolve;
      pub.write(batch);
    });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const deliveries = messages * n;
  if (q === 1) await new Promise((r) => setTimeout(r, 200)); // let the last pushAcks arrive
  console.log(
    `q${q} N=${String(n).padStart(2)} window ${String(window).padStart(3)}: ${messages} pubs in ${secs.toFixed(2)} s → ` +
      `${Math.round(messages / secs).toLocaleString("en-US")} pubs/s, ` +
      `${Math.round(deliveries / secs).toLocaleString("en-US")} deliveries/s ` +
      `(dropped ${broker.stats.dropped}, stored after acks ${q === 1 ? subs.reduce((a, _s, i) => a + broker.pendingCount(`sub${i}`), 0) : 0})`,
  );
  pub.destroy();
  for (const s of subs) s.socket.destroy();
  await broker.close();
}

export async function run(): Promise<void> {
  console.log("one publisher → N subscribers on one channel, 127.0.0.1, windows of 500 pubs, ~40-byte payload");
  await runCase(1, 0, 400000, 500);
  await runCase(10, 0, 200000, 500);
  await runCase(50, 0, 60000, 500);
  await runCase(1, 1, 200000, 500);
  await runCase(10, 1, 60000, 500);
  await runCase(50, 1, 15000, 500);
  console.log("one pub at a time (window 1: wait for every subscriber before the next pub)");
  await runCase(1, 0, 10000, 1);
  await runCase(10, 0, 5000, 1);
  await runCase(1, 1, 10000, 1);
}

if (require.main === module) run().then(() => process.exit(0));
