// Virtual hardware: the faults of the network between the board and its servers, shared by both
// engines (each keeps its own socket plumbing: Node sockets in the V8 engine, a TCP link forwarder
// for the real interpreter). unreachable: new connections fail (V8: time out; real engine: hang);
// latencyMs: every socket event and write is delayed (V8); chunkSize: socket data reaches the
// device in chunks of at most that many characters (V8). Resets and half-open connections act on
// the engine's open sockets at once and leave no state here.

/** Socket error details the sim reports (Espruino passes {code, message}; codes are negative). */
export const SOCKET_ERRORS = {
  refused: { code: -111, message: "connection refused" },
  timeout: { code: -110, message: "connection timed out" },
  reset: { code: -104, message: "connection reset" },
  noNetwork: { code: -101, message: "network unreachable" },
};

/**
 * Received bytes a V8-model socket holds before the device has taken them (one chunk per pass):
 * past it the Node socket is paused, so the sender meets TCP flow control as it would against a
 * board that reads no faster (lwIP's receive window, TCP_WND, is a few KB on the ESP8266).
 */
export const RECEIVE_WINDOW = 4 * 1460;

export class NetFaults {
  unreachable = false;
  latencyMs = 0;
  chunkSize: number;

  constructor(chunkSize?: number) {
    this.chunkSize = chunkSize && chunkSize > 0 ? Math.floor(chunkSize) : 536;
  }

  setChunkSize(n: number): void {
    this.chunkSize = Math.max(1, Math.floor(n));
  }

  slowLink(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }
}
