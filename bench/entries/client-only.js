// Bench entry (JavaScript, so that the Node-side type check does not see board globals) (bench/memory.ts): the JMQT client alone on the board, connected to the server
// named in jmqt.json and idle; no runtime, inputs or outputs. The config and the board options are
// locals of boot(), dropped once the client holds what it needs (as in main.ts).
import { hal } from "../../firmware/hal";
import { createClient, start } from "../../firmware/jmqt/client";

let client;

function boot() {
  const cfg = require("Storage").readJSON("jmqt.json", true) || {};
  const opts = JSON.parse(BOARD_JSON);
  opts.host = cfg.server.host;
  opts.port = cfg.server.port;
  opts.cl = cfg.id;
  opts.at = cfg.server.token;
  client = createClient(hal.net, opts);
  start(client);
  client.pub((cfg.prefix || "") + "status", { online: 1 }, 1, 1, null);
}

// from a timer: terser would inline a function called once into the top level, where its locals become globals that live for ever
setTimeout(boot, 1);
