// Socket chunks -> complete NUL-terminated frames (SPEC "Wire format").
// Bounded: never holds more than `max` characters; a longer frame is dropped while it streams in.
// One framer per connection (a new socket gets a new framer, so no partial frame carries over).
// Field names are short on purpose: each name over 4 characters costs the board a block.

/** Receives each complete frame (without its NUL). Must not throw; the client wraps its handler. */
export interface FrameSink {
  onFrame(frame: string): void;
}

/** Where refused frames are counted (the client passes its counters). */
export interface BigCounter {
  /** frames over `max` characters, dropped while they stream in */
  big: number;
  /** frames whose parse would cost more than `cost` blocks, refused before JSON.parse */
  heavy?: number;
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
  /** largest parse cost accepted (0: no bound), see heavy() */
  p: number;

  constructor(max: number, sink: FrameSink, counter?: BigCounter, maxCost?: number) {
    this.b = "";
    this.m = max;
    this.s = 0;
    this.k = sink;
    this.c = counter || { big: 0 };
    this.p = maxCost || 0;
  }

  // A frame within `max` can still run Espruino's JSON.parse out of memory: measured on the
  // ESP8266-layout interpreter, every value costs about 1 block and every array or object about
  // 2 (a 1 KB `[1,1,...]` takes 507 blocks; an array nested 300 deep exhausts the heap, and an
  // out-of-memory error cannot be caught). So the frame's commas and brackets are counted first,
  // with indexOf (native) rather than a loop over every character, stopping at the bound.
  heavy(f: string): boolean {
    var n = 0;
    var i = -1;
    var lim = this.p;
    while (n <= lim && (i = f.indexOf(",", i + 1)) >= 0) n++;
    for (i = -1; n <= lim && (i = f.indexOf("[", i + 1)) >= 0; ) n += 2;
    for (i = -1; n <= lim && (i = f.indexOf("{", i + 1)) >= 0; ) n += 2;
    return n > lim;
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
        if (this.p && this.heavy(f)) this.c.heavy = (this.c.heavy || 0) + 1;
        else this.k.onFrame(f);
      }
      i = j + 1;
    }
  }
}
