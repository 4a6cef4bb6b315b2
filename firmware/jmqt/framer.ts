// Socket chunks -> complete NUL-terminated frames (SPEC "Wire format").
// Bounded: never holds more than `max` characters; a longer frame is dropped while it streams in.
// One framer per connection (a new socket gets a new framer, so no partial frame carries over).
// Field names are short on purpose: each name over 4 characters costs the board a block.

/** Receives each complete frame (without its NUL). Must not throw; the client wraps its handler. */
export interface FrameSink {
  onFrame(frame: string): void;
}

/** Where dropped oversize frames are counted (the client passes its counters). */
export interface BigCounter {
  big: number;
}

export class Framer {
  /** carry-over: the start of a frame split across chunks */
  b: string;
  /** largest frame, in characters */
  m: number;
  /** 1 while skipping the rest of an oversize frame up to its NUL */
  s: number;
  k: FrameSink;
  c: BigCounter;

  constructor(max: number, sink: FrameSink, counter?: BigCounter) {
    this.b = "";
    this.m = max;
    this.s = 0;
    this.k = sink;
    this.c = counter || { big: 0 };
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
        if (!this.s) {
          if (this.b.length + n - i > this.m) {
            this.b = "";
            this.s = 1;
            this.c.big++;
          } else this.b += i ? chunk.substring(i) : chunk;
        }
        return;
      }
      if (this.s) this.s = 0;
      else if (this.b.length + j - i > this.m) {
        this.b = "";
        this.c.big++;
      } else if (this.b.length || j > i) {
        f = this.b.length ? this.b + chunk.substring(i, j) : chunk.substring(i, j);
        this.b = "";
        this.k.onFrame(f);
      }
      i = j + 1;
    }
  }
}
