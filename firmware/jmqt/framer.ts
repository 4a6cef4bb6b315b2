// Socket chunks -> complete NUL-terminated frames (SPEC "Wire format").
// Bounded: never holds more than `max` characters; a longer frame is dropped while it streams in.

/** Receives each complete frame (without its NUL). Must not throw; the client wraps its handler. */
export interface FrameSink {
  onFrame(frame: string): void;
}

/** Where dropped oversize frames are counted (the client passes its counters). */
export interface BigCounter {
  big: number;
}

export class Framer {
  buf: string;
  max: number;
  /** 1 while skipping the rest of an oversize frame up to its NUL */
  skip: number;
  sink: FrameSink;
  c: BigCounter;

  constructor(max: number, sink: FrameSink, counter?: BigCounter) {
    this.buf = "";
    this.max = max;
    this.skip = 0;
    this.sink = sink;
    this.c = counter || { big: 0 };
  }

  /** Forget a partial frame (new socket). */
  reset(): void {
    this.buf = "";
    this.skip = 0;
  }

  // Each frame is cut out of the chunk with one substring; the carry-over buffer is only used
  // for a frame split across chunks, and is abandoned the moment it would exceed `max`.
  feed(chunk: string): void {
    var i = 0;
    var n = chunk.length;
    var j: number;
    var f: string;
    while (i < n) {
      j = chunk.indexOf("\0", i);
      if (j < 0) {
        if (!this.skip) {
          if (this.buf.length + n - i > this.max) {
            this.buf = "";
            this.skip = 1;
            this.c.big++;
          } else this.buf += i ? chunk.substring(i) : chunk;
        }
        return;
      }
      if (this.skip) this.skip = 0;
      else {
        if (this.buf.length + j - i > this.max) {
          this.buf = "";
          this.c.big++;
        } else if (this.buf.length || j > i) {
          f = this.buf.length ? this.buf + chunk.substring(i, j) : chunk.substring(i, j);
          this.buf = "";
          this.sink.onFrame(f);
        }
      }
      i = j + 1;
    }
  }
}
