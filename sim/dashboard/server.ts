// The live dashboard's HTTP server: plain node:http, a static page, a JSON snapshot, a
// Server-Sent Events stream of changes, a POST endpoint that sends P2P commands, and one that
// drives the simulated board's input pins (/api/input).
// Loopback only by default; nothing here needs a dependency.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { DashboardEvent, DashboardHub } from "./hub";

export interface DashboardServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const STATIC: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};

/** Largest command body accepted (a command is a few dozen bytes). */
const MAX_BODY = 4096;
/** Keeps idle proxies and browsers from dropping the SSE stream. */
const SSE_PING_MS = 15000;
/** Commands the page may send; anything else is refused before it reaches the device. */
const PAGE_COMMANDS = ["ping", "status", "get", "set", "toggle", "pulse", "config", "ota"];
/** `ota` from the page is the read only (progress and last result, docs/ota.md): an update is sent with `jmqt ota`. */
const PAGE_OTA_OPS = ["state"];

function sendJson(res: http.ServerResponse, code: number, body: any): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts the dashboard on host:port (port 0 = ephemeral). */
export function startDashboard(hub: DashboardHub, opts: { host?: string; port?: number } = {}): Promise<DashboardServer> {
  const host = opts.host ?? "127.0.0.1";
  const dir = join(__dirname, "public");
  const files: Record<string, Buffer> = {};
  for (const [, [file]] of Object.entries(STATIC)) files[file] = readFileSync(join(dir, file));
  const streams = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { ok: 0, err: String(err && err.message ? err.message : err) });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url || "/", "http://localhost");
    const path = url.pathname;
    if (req.method === "GET" && STATIC[path]) {
      const [file, type] = STATIC[path];
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(files[file]);
      return;
    }
    if (req.method === "GET" && path === "/api/state") {
      sendJson(res, 200, hub.snapshot());
      return;
    }
    if (req.method === "GET" && path === "/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(`event: snapshot\ndata: ${JSON.stringify(hub.snapshot())}\n\n`);
      streams.add(res);
      const off = hub.on((e: DashboardEvent) => {
        res.write(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
      });
      const ping = setInterval(() => res.write(": ping\n\n"), SSE_PING_MS);
      const end = () => {
        clearInterval(ping);
        off();
        streams.delete(res);
      };
      req.on("close", end);
      res.on("error", end);
      return;
    }
    if (req.method === "POST" && path === "/api/cmd") {
      let dt: any;
      try {
        dt = JSON.parse(await readBody(req));
      } catch (e: any) {
        sendJson(res, 400, { ok: 0, err: `bad request body: ${e && e.message ? e.message : e}` });
        return;
      }
      if (!dt || typeof dt !== "object" || Array.isArray(dt) || typeof dt.cmd !== "string") {
        sendJson(res, 400, { ok: 0, err: 'body must be a JSON object with a "cmd" string' });
        return;
      }
      if (!PAGE_COMMANDS.includes(dt.cmd)) {
        sendJson(res, 400, { ok: 0, err: `command "${dt.cmd}" is not available from the dashboard` });
        return;
      }
      if (dt.cmd === "ota" && !PAGE_OTA_OPS.includes(dt.op)) {
        sendJson(res, 400, { ok: 0, err: `ota op "${dt.op}" is not available from the dashboard (send updates with jmqt ota)` });
        return;
      }
      try {
        const reply = await hub.command(dt);
        sendJson(res, 200, reply);
      } catch (e: any) {
        sendJson(res, 504, { ok: 0, err: String(e && e.message ? e.message : e) });
      }
      return;
    }
    if (req.method === "POST" && path === "/api/input") {
      // {"pin":"D0","value":0|1} for a digital input, 0..1 for an analog one: drives the simulated board's pin
      let b: any;
      try {
        b = JSON.parse(await readBody(req));
      } catch (e: any) {
        sendJson(res, 400, { ok: 0, err: `bad request body: ${e && e.message ? e.message : e}` });
        return;
      }
      try {
        if (!b || typeof b.pin !== "string") throw new Error('body must be a JSON object with a "pin" string and a "value"');
        hub.setInput(b.pin, Number(b.value));
        sendJson(res, 200, { ok: 1 });
      } catch (e: any) {
        sendJson(res, 400, { ok: 0, err: String(e && e.message ? e.message : e) });
      }
      return;
    }
    sendJson(res, 404, { ok: 0, err: `not found: ${req.method} ${path}` });
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off("error", reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        url: `http://${host}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of streams) s.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
