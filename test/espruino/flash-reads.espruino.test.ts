// The code a command runs, counted in flash reads on the real interpreter (espruino-esp8266): the
// Linux build reads code from Storage 16 bytes at a time, one read() call each, so the read()
// calls over a command (EspruinoBoard.readCalls(), /proc/<pid>/io) count the text Espruino lexed
// to run it: how fast the command path is, in a figure that does not depend on the machine's load
// (time is measured in `npm run bench -- load-espruino`, never asserted). Budgets hold the fast
// path (docs/memory.md "Time"): each inlined function that comes back, or text added to a hot
// function, shows here.
import { strict as assert } from "node:assert";
import { startBroker, type Broker } from "../../sim/broker";
import { EspruinoBoard, ESPRUINO_SKIP_MESSAGE, hasEspruino } from "../../sim/espruino/board";
import { peer, stopPeer, type Peer } from "../../bench/load-espruino";
import { p2p } from "../../firmware/jmqt/client";

const TOKEN = "reads";

/** read() calls per command, measured on the esp8266 bundle (deterministic: the same count run after
 *  run): before the fast path (main cfdaebc) and now; each budget is now + ~5 %. The bundle is
 *  flashed pretokenised (tools/pretokenise.ts): the same bundle as plain text took 811, 942, 943 and
 *  1694. Then 682, 788, 796 and 1473, until the session and subscription acks left handleFrame
 *  (onSessionPacket) and the status report left runCommand (statusReport); `status` then read 1470,
 *  and 1526 once hello and down went cold too (tools/cold.ts). Then 596, 710, 712 and 1525, until
 *  onPush dispatched each group of commands to its own function (targetCommand; changeCommand and
 *  the type names other than push, pubAck and hbAck cold), rawBytes went cold and a drain stopped
 *  calling resume() when nothing waits. Then 414, 494, 588 and 1315, until the QoS 1 part of pub
 *  (windowed) and the pushAck of a q1 push (ackPush) left the functions every q0 reply and push
 *  lex, the reply became the command's result object itself, changeCommand took the reply cache
 *  and the config/ota read test out of onPush, the framer's loop left a frame's tail after it,
 *  and tooHeavy counts commas only when they can matter. `get` 508 until the functions off the
 *  per-frame path took their arguments as locals (tools/params.ts): the ping path kept its
 *  parameters and its reads. q1 422, `get` 522, `status` 1214 and q0 347 until the framer
 *  stopped counting the brackets of a frame of at most maxParse characters without a "[" (a q1
 *  command is one; the test it added costs each q0 frame 5). `status` 1183 until it wrote out the
 *  counters the client keeps absent while 0; q0 352 until the framer's carry-over went before the
 *  chunk (absent while empty). 348, 390, 490 and 1195 until onPubAck, which terser had inlined
 *  into handleFrame as a function expression (lexed with every frame), went cold with five other
 *  functions off a command's path (tools/cold.ts); 342, 382, 482 and 1187 until the drain after
 *  each reply stopped lexing the queue's loop, the held input and resume (drained, cold); 332,
 *  372, 462 and 1177 until a push in the shape a broker sends was checked by one test (the full
 *  check, pushFields, cold), the framer's loop and handleFrame kept only the common frame's path
 *  (frameAside, otherFrame: cold) and decode took the packet's key with Object.keys instead of a
 *  for-in loop (278, 318, 408, 1123 while the framer looked for a "[" from the frame's start to the
 *  end of the chunk, through the frames after it: fewer characters lexed, but a native search of
 *  up to the whole chunk for each q1 command in a burst). q1 324, get 424 and status 1129 until
 *  the reply to a q1 command went into the pushAck's batch in clientPub instead of through a send
 *  call of its own. */
const COMMANDS = [
  { what: "ping, q0", dt: { cmd: "ping" }, q: 0, before: 1720, now: 284, budget: 298 },
  { what: "ping, q1 (pushAck and reply in one write)", dt: { cmd: "ping" }, q: 1, before: 1898, now: 310, budget: 326 },
  { what: "get of an unknown target, q1", dt: { cmd: "get", target: "nothing" }, q: 1, before: 1902, now: 400, budget: 420 },
  { what: "status, q1 (statusReport evaluated from its comment in .bootcde: tools/cold.ts)", dt: { cmd: "status" }, q: 1, before: 2657, now: 1115, budget: 1171 },
];

describe("real Espruino interpreter (esp8266): the text a command makes the device lex, in flash reads", function () {
  this.timeout(120000);
  let broker: Broker;
  let dev: EspruinoBoard;
  let admin: Peer;

  before(async function () {
    if (!hasEspruino("esp8266")) {
      console.log("      " + ESPRUINO_SKIP_MESSAGE);
      this.skip();
    }
    broker = await startBroker({ port: 0, token: TOKEN });
    const cfg = { id: "dev", server: { host: "127.0.0.1", port: broker.port, token: TOKEN }, wifi: { ssid: "r", password: "r" }, allow: ["admin"], inputs: [], outputs: [] };
    dev = new EspruinoBoard({ board: "esp8266", config: cfg, wifi: { rssi: -60 } });
    await dev.boot();
    assert.ok(await dev.waitFor(() => broker.clients().indexOf("dev") >= 0, 15000), "the device is online");
    admin = await peer(broker.port, TOKEN);
    await dev.sleep(1500);
    if (dev.readCalls() === undefined) {
      console.log("      skipped: no /proc/<pid>/io on this machine");
      this.skip();
    }
  });
  after(async () => {
    await stopPeer(admin);
    if (dev) await dev.stop();
    if (broker) await broker.close();
  });

  /** read() calls per command over n commands sent one after the other (each waits for its reply) */
  async function perCommand(dt: any, q: number, n: number, tag: string): Promise<number> {
    const before = dev.readCalls()!;
    for (let i = 0; i < n; i++) {
      const id = tag + i;
      p2p(admin.c, "dev", { ...dt, id }, q);
      const end = Date.now() + 5000;
      while (!admin.got.some((r) => r && r.re === id) && Date.now() < end) await dev.sleep(1);
      assert.ok(admin.got.some((r) => r && r.re === id), `reply to ${id}`);
    }
    return (dev.readCalls()! - before) / n;
  }

  for (const c of COMMANDS) {
    it(`${c.what}: at most ${c.budget} reads (measured ${c.now}; ${c.before} before the fast path)`, async () => {
      await perCommand(c.dt, c.q, 5, "warm" + c.what);
      const reads = await perCommand(c.dt, c.q, 40, c.what);
      console.log(`      ${c.what}: ${reads.toFixed(0)} read() calls per command`);
      assert.ok(reads <= c.budget, `${reads.toFixed(0)} reads per command, budget ${c.budget}`);
      // a budget that any figure passes tests nothing: the count is the device's, not noise
      assert.ok(reads >= c.now * 0.8, `${reads.toFixed(0)} reads per command: far below the ${c.now} measured, is the count the device's?`);
    });
  }
});
