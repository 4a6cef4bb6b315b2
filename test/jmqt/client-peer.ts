// A Node-side JMQT client (the firmware's own client over node:net) that records every push: the
// subscriber and commander of the end-to-end tests, on both engines (test/espruino/e2e, the OTA
// device tests, the sensors e2e).
import { createClient, start, stop, sub } from "../../firmware/jmqt/client";
import { S_READY, ST_OK } from "../../firmware/jmqt/api";
import type { Client } from "../../firmware/jmqt/api";
import { nodeNet } from "../../sim/net";

export interface PeerMsg { cn: string; dt: any; from: string; t: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Peer {
  c: Client;
  got: PeerMsg[] = [];
  constructor(port: number, cl: string, token = "tok") {
    this.c = createClient(nodeNet(), {
      host: "127.0.0.1", port, cl, at: token, maxFrame: 65536, inflight: 16, outQueue: 256, dedup: 64, minBackoffMs: 50, maxBackoffMs: 200,
    });
    this.c.onPush = (cn, dt, from) => this.got.push({ cn, dt, from, t: Date.now() });
  }
  /** connects (within 5 s), then subscribes to each channel at QoS `qos` */
  async start(subs: string[] = [], qos = 0) {
    start(this.c);
    const end = Date.now() + 5000;
    while (this.c.state !== S_READY) {
      if (Date.now() > end) throw new Error("peer did not connect");
      await sleep(5);
    }
    for (const cn of subs)
      await new Promise<void>((res, rej) => {
        const r = sub(this.c, cn, qos, (st) => (st === ST_OK ? res() : rej(new Error("sub " + st))));
        if (r !== ST_OK) rej(new Error("sub refused " + r));
      });
  }
  on(cn: string) {
    return this.got.filter((m) => m.cn === cn);
  }
  /** the last value pushed on cn (undefined before the first) */
  last(cn: string) {
    const l = this.on(cn);
    return l.length ? l[l.length - 1].dt : undefined;
  }
  stop() {
    return new Promise<void>((r) => stop(this.c, r));
  }
}
