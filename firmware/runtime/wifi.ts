// WiFi link: connect, and on `disconnected` (or a failed connect) try again with exponential
// backoff. The JMQT client reconnects on its own once the network is back.
import type { Board } from "../board";

function retryNow(w: WifiLink): void {
  w.t = null;
  w.connect();
}

export class WifiLink {
  b: Board;
  ssid: string;
  pw: string;
  up: boolean;
  bo: number;
  min: number;
  max: number;
  t: any;
  /** called on every `connected` event */
  onUp: (() => void) | null;
  onDown: (() => void) | null;

  constructor(board: Board, ssid: string, password: string, minMs?: number, maxMs?: number) {
    this.b = board;
    this.ssid = ssid;
    this.pw = password || "";
    this.up = false;
    this.min = minMs || 1000;
    this.max = maxMs || 60000;
    this.bo = this.min;
    this.t = null;
    this.onUp = null;
    this.onDown = null;
  }

  start(): void {
    const self = this;
    this.b.wifiOn("connected", function () {
      self.connected();
    });
    this.b.wifiOn("disconnected", function () {
      self.lost();
    });
    this.connect();
  }

  connect(): void {
    const self = this;
    this.b.wifiConnect(this.ssid, this.pw, function (err: any) {
      if (err) {
        self.b.log("wifi: " + err);
        self.retry();
      } else self.connected();
    });
  }

  connected(): void {
    if (this.t) clearTimeout(this.t);
    this.t = null;
    this.bo = this.min;
    if (this.up) return;
    this.up = true;
    if (this.onUp) this.onUp();
  }

  lost(): void {
    const was = this.up;
    this.up = false;
    if (was && this.onDown) this.onDown();
    this.retry();
  }

  /** One pending retry at a time; the delay doubles up to max. */
  retry(): void {
    if (this.t) return;
    this.t = setTimeout(retryNow, this.bo, this);
    this.bo = Math.min(this.bo * 2, this.max);
  }
}
