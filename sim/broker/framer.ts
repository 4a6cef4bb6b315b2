// Splits a TCP byte stream into NUL-terminated frames (SPEC "Wire format"), bounded by maxFrame.
// Works on bytes, not strings, so a multi-byte UTF-8 character split across reads is rebuilt
// before decoding. A frame that grows past maxFrame is dropped while it streams: its bytes are
// discarded up to the next NUL and never buffered.

export interface FrameSink {
  /** one complete frame, decoded as UTF-8, without its NUL */
  frame(text: string): void;
  /** a frame longer than maxFrame bytes was dropped (called once per dropped frame) */
  oversize(): void;
}

export class Framer {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** true while skipping the rest of an oversize frame */
  private skipping = false;

  constructor(
    private readonly maxFrame: number,
    private readonly sink: FrameSink,
  ) {}

  /** bytes currently held for an unfinished frame (never more than maxFrame) */
  get buffered(): number {
    return this.partBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nul = chunk.indexOf(0, start);
      const end = nul < 0 ? chunk.length : nul;
      if (!this.skipping) {
        if (this.partBytes + (end - start) > this.maxFrame) {
          this.parts = [];
          this.partBytes = 0;
          this.skipping = true;
          this.sink.oversize();
        } else if (end > start) {
          this.parts.push(chunk.subarray(start, end));
          this.partBytes += end - start;
        }
      }
      if (nul < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const bytes = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
        this.parts = [];
        this.partBytes = 0;
        if (bytes.length > 0) this.sink.frame(bytes.toString("utf8"));
      }
      start = nul + 1;
    }
    // Buffers kept from `chunk` pin the whole chunk; copy the tail so a long-lived partial frame
    // holds only its own bytes.
    if (this.parts.length > 0 && this.parts[this.parts.length - 1].buffer === chunk.buffer) {
      const last = this.parts.length - 1;
      this.parts[last] = Buffer.from(this.parts[last]);
    }
  }
}
