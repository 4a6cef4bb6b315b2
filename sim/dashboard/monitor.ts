// The dashboard's own JMQT client ("dashboard"): subscribes to a device's readings and status,
// feeds them to the DashboardHub, and sends P2P commands (SPEC "P2P"), matching replies
// {"re": id, ...} that come back on #dashboard. It is the firmware's client, run on Node.
import type { Client } from "../../firmware/jmqt/api";
import { S_READY, ST_CLIENT_OFFLINE, ST_OK } from "../../firmware/jmqt/api";
import { createClient, p2p, start, stop, sub } from "../../firmware/jmqt/client";
import { desktopClientOptions, nodeNet } from "../net";
import type { DashboardHub } from "./hub";

export interface MonitorOptions {
  host: string;
  port: number;
  /** our client id (default "dashboard") */
  id?: string;
  token?: string;
  deviceId: string;
  /** channels with readings (prefix + input name) */
  readingChannels: string[];
  /** the device's retained availability channel (prefix + "status") */
  statusChannel: string;
  /** ms to wait for a command reply (default 5000) */
  replyMs?: number;
}

interface Pending {
  resolve: (dt: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const STATE_NAMES = ["idle", "connecting", "authenticating", "session", "ready", "backoff", "stopped"];

export class DeviceMonitor {
  readonly id: string;
  client: Client;
  private pending = new Map<string, Pending>();
  private seq = 0;
  private subscribed = false;

  constructor(
    private hub: DashboardHub,
    private opts: MonitorOptions,
  ) {
    this.id = opts.id ?? "dashboard";
    this.client = createClient(nodeNet(), {
      ...desktopClientOptions(opts.host, opts.port, this.id, opts.token),
      minBackoffMs: 500,
      maxBackoffMs: 5000,
    });
    this.client.onState = (state) => this.onState(state);
    this.client.onPush = (cn, dt, from, rt) => this.onPush(cn, dt, from, rt);
    hub.setCommandSender((dt) => this.command(dt));
  }

  start(): void {
    start(this.client);
  }

  stop(): Promise<void> {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("dashboard stopped"));
    }
    this.pending.clear();
    return new Promise((resolve) => {
      const guard = setTimeout(resolve, 1500);
      stop(this.client, () => {
        clearTimeout(guard);
        resolve();
      });
    });
  }

  private onState(state: number): void {
    this.hub.setConnection("dashboard", STATE_NAMES[state] ?? String(state));
    if (state !== S_READY) return;
    // subscriptions are remembered by the client and renewed after a reconnect
    if (this.subscribed) return;
    this.subscribed = true;
    for (const cn of [this.opts.statusChannel, ...this.opts.readingChannels]) sub(this.client, cn, 0, null);
  }
  private onPush(cn: string, dt: any, from: string, rt: number): void {
    if (cn === "#" + this.client.cl) {
      if (dt && typeof dt === "object" && typeof dt.re === "string" && this.pending.has(dt.re)) {
        const p = this.pending.get(dt.re)!;
        this.pending.delete(dt.re);
        clearTimeout(p.timer);
        this.hub.addLog(dt.ok === 1 ? "re" : "err", `${from} → ${this.id}: ${JSON.stringify(dt)}`);
        p.resolve(dt);
      }
      return;
    }
    if (cn === this.opts.statusChannel) {
      const online = dt && typeof dt === "object" && dt.online === 1;
      this.hub.setConnection("device", online ? "online" : "offline");
      this.hub.setStatus(dt);
      this.hub.addLog("state", `${this.opts.deviceId} ${online ? "online" : "offline"}${rt ? " (retained)" : ""}: ${JSON.stringify(dt)}`);
      return;
    }
    this.hub.addReading(cn, dt, Date.now());
  }

  /** Sends {cmd, id, ...} to the device and resolves with its reply dt; rejects on timeout or offline. */
  command(body: Record<string, any>): Promise<any> {
    const id = `d${++this.seq}`;
    const dt = { ...body, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply from ${this.opts.deviceId} within ${this.opts.replyMs ?? 5000} ms`));
      }, this.opts.replyMs ?? 5000);
      this.pending.set(id, { resolve, reject, timer });
      this.hub.addLog("cmd", `${this.id} → ${this.opts.deviceId}: ${JSON.stringify(dt)}`);
      const st = p2p(this.client, this.opts.deviceId, dt, 1, (ack) => {
        if (ack === ST_OK) return;
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        reject(new Error(ack === ST_CLIENT_OFFLINE ? `${this.opts.deviceId} is offline` : `command refused (status ${ack})`));
      });
      if (st !== ST_OK) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new Error(`the dashboard is not connected (status ${st})`));
      }
    });
  }
}
