// Virtual hardware: the WiFi access point the board sees (ssid, password, RSSI, up/down, how long
// joining takes) and the board's station (wants to be connected, status, SSID and password asked
// for, IP, hostname), shared by both engines. The station state machine here (connect, one
// association attempt after connectMs, retries every 5 s while the AP is missing, the disconnect
// reasons of each SDK) is the V8 engine's; the real engine's shim keeps its own protocol and uses
// this state (sim/espruino/board.ts).

export interface WifiAP {
  ssid: string;
  password: string;
  /** dBm reported by getDetails() (default -55) */
  rssi?: number;
  /** virtual ms from Wifi.connect() to connected (default 1200) */
  connectMs?: number;
}

export interface AccessPoint {
  ssid: string;
  password: string;
  rssi: number;
  connectMs: number;
  up: boolean;
}

export interface Station {
  status: string;
  want: boolean;
  ssid: string;
  password: string;
  ip: string;
  /** the pending association attempt (a clock task or a timer) */
  task: unknown;
  hostname: string;
}

/** What the station machine needs from the engine that runs the program. */
export interface WifiEngine {
  /** work that belongs to the running program */
  later(ms: number, fn: () => void): unknown;
  cancel(t: unknown): void;
  /** a Wifi event to the program (details as plain data) */
  emit(event: "associated" | "connected" | "disconnected", details: any): void;
  /** a callback of the program */
  call(cb: Function, args: any[]): void;
  /** the board loses its sockets (silent: the server is not told) */
  dropSockets(silent: boolean): void;
}

export type DisconnectReason = "leave" | "no_ap_found" | "auth_fail" | "beacon_timeout";

export function crc32(s: string): number {
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i) & 255;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

export class Wifi {
  /** null: no access point at all */
  readonly ap: AccessPoint | null;
  /** Wifi.connect calls so far */
  connects = 0;
  readonly sta: Station = { status: "off", want: false, ssid: "", password: "", ip: "0.0.0.0", task: null, hostname: "" };
  private cb: Function | null = null;

  constructor(
    ap: Partial<AccessPoint> | null,
    private readonly family: string,
    /** names the board in its MAC, IP and hostname */
    private readonly name: string,
    private readonly id: string,
    private readonly engine: WifiEngine,
  ) {
    this.ap = ap === null ? null : { rssi: -55, connectMs: 1200, ssid: "sim-ap", password: "sim-password", up: true, ...ap };
  }

  get connected(): boolean {
    return this.sta.status === "connected";
  }

  mac(): string {
    const h = crc32(this.name + this.id);
    return "5c:cf:7f:" + [h & 255, (h >> 8) & 255, (h >> 16) & 255].map((x) => x.toString(16).padStart(2, "0")).join(":");
  }

  // ESP32 reports ESP-IDF numeric reasons; ESP8266 reports the SDK reason as a string.
  disconnectDetails(why: DisconnectReason): any {
    const num = { leave: 8, no_ap_found: 201, auth_fail: 202, beacon_timeout: 200 }[why];
    return { ssid: this.sta.ssid, mac: this.ap ? "00:11:22:33:44:55" : "", reason: this.family === "ESP32" ? num : why };
  }

  status(): any {
    const s = { station: this.sta.status, ap: "disabled", mode: this.sta.want || this.sta.status !== "off" ? "sta" : "off" };
    return this.family === "ESP8266" ? { ...s, phy: "11n", powersave: "ps-poll", savedMode: "off" } : s;
  }

  details(): any {
    const connected = this.connected;
    return {
      status: this.sta.status,
      rssi: connected && this.ap ? this.ap.rssi : 0,
      ssid: this.sta.ssid,
      password: this.sta.password,
      authMode: "wpa2",
      ...(this.family === "ESP8266" ? { savedSsid: null } : {}),
    };
  }

  connect(ssid: string, password: string, cb: Function | null): void {
    this.connects++;
    if (this.sta.task) this.engine.cancel(this.sta.task);
    if (this.connected) this.engine.dropSockets(false);
    this.sta.want = true;
    this.sta.ssid = ssid;
    this.sta.password = password;
    this.sta.status = "connecting";
    this.cb = cb;
    this.sta.task = this.engine.later(this.ap ? this.ap.connectMs || 1200 : 1200, () => this.attempt());
  }

  disconnect(cb: Function | null): void {
    const was = this.connected;
    this.sta.want = false;
    if (this.sta.task) this.engine.cancel(this.sta.task);
    this.sta.task = null;
    this.sta.status = "off";
    this.engine.dropSockets(false);
    if (was) this.engine.later(0, () => this.engine.emit("disconnected", this.disconnectDetails("leave")));
    if (cb) this.engine.later(0, () => this.engine.call(cb, []));
  }

  // One association attempt; on failure the station keeps retrying every 5 s while wanted.
  private attempt(): void {
    this.sta.task = null;
    const ap = this.ap;
    const cb = this.cb;
    this.cb = null;
    let why: "no_ap_found" | "auth_fail" | null = null;
    if (!ap || !ap.up || ap.ssid !== this.sta.ssid) why = "no_ap_found";
    else if (ap.password !== this.sta.password) why = "auth_fail";
    if (why) {
      this.sta.status = why === "auth_fail" ? "wrong_password" : "no_ap_found";
      this.engine.emit("disconnected", this.disconnectDetails(why));
      if (cb) this.engine.call(cb, [this.sta.status]);
      if (this.sta.want && why === "no_ap_found") this.sta.task = this.engine.later(5000, () => this.attempt());
      return;
    }
    this.sta.status = "connected";
    this.sta.ip = "192.168.4." + (2 + (crc32(this.name) % 250));
    this.engine.emit("associated", { ssid: ap!.ssid, mac: "00:11:22:33:44:55", channel: 6 });
    this.engine.emit("connected", { ip: this.sta.ip, netmask: "255.255.255.0", gw: "192.168.4.1" });
    if (cb) this.engine.call(cb, [null]);
  }

  /** The access point goes away: the station drops, its sockets die (the server is not told). */
  down(): void {
    if (!this.ap) return;
    this.ap.up = false;
    if (this.sta.status !== "connected") return;
    this.sta.status = "connecting";
    this.engine.dropSockets(true);
    this.engine.later(0, () => this.engine.emit("disconnected", this.disconnectDetails("beacon_timeout")));
    if (this.sta.want && !this.sta.task) this.sta.task = this.engine.later(5000, () => this.attempt());
  }

  /** The access point is back; a station that wants to be connected reconnects at its next retry. */
  up(): void {
    if (!this.ap) return;
    this.ap.up = true;
    if (this.sta.want && this.sta.status !== "connected" && !this.sta.task) this.sta.task = this.engine.later(this.ap.connectMs || 1200, () => this.attempt());
  }

  /** the program is gone (reboot): the station is off (its pending attempt was the program's work) */
  reset(): void {
    if (this.sta.task) this.engine.cancel(this.sta.task);
    this.sta.task = null;
    this.sta.status = "off";
    this.sta.want = false;
    this.cb = null;
  }

  /** the V8 realm's Wifi hooks */
  realmHooks(): Record<string, (...a: any[]) => any> {
    return {
      hostname: () => this.sta.hostname || "espruino-" + this.name,
      setHostname: (n: string) => {
        this.sta.hostname = n;
      },
      wifiConnect: (ssid: string, password: string, cb: Function | null) => this.connect(ssid, password, cb),
      wifiDisconnect: (cb: Function | null) => this.disconnect(cb),
      wifiStatus: () => JSON.stringify(this.status()),
      wifiDetails: () => JSON.stringify(this.details()),
      wifiIP: () => JSON.stringify({ ip: this.connected ? this.sta.ip : "0.0.0.0", netmask: "255.255.255.0", gw: "192.168.4.1", mac: this.mac() }),
      wifiScan: () => JSON.stringify(this.ap && this.ap.up ? [{ ssid: this.ap.ssid, authMode: "wpa2", rssi: this.ap.rssi, channel: 6, isHidden: false }] : []),
    };
  }
}
