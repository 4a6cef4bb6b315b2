// Socket chunks -> complete NUL-terminated frames (SPEC "Wire format", docs/protocol.md).
// Bounded: never holds more than maxFrame_ characters; a longer frame is dropped while it streams
// in. The framing state lives in the object that owns the connection (the client: no framer
// object of its own, measured 45 blocks on the board); the client resets it for each new socket,
// so no partial frame carries over.

/** Where refused frames are counted (the client passes its counters). */
export interface FrameCounters {
  /** frames over maxFrame_ characters, dropped while they stream in (absent while 0) */
  big?: number;
  /** frames whose parse would cost more than maxParse_ blocks, refused before JSON.parse */
  heavy?: number;
}

/**
 * The bounds of boards/esp8266.json, the smallest board, which a framing state holds as absent: a
 * const enum, so each is a literal in the code (a property holding 1024 costs the board 2 blocks,
 * an integer outside -1024..1023 taking a block of its own; 3 blocks for the two, measured).
 */
export const enum FrameBound {
  MaxFrame = 1024,
  MaxParse = 256,
}

/** The framing state of one connection. */
export interface FrameState {
  /** the start of a frame split across chunks, fed first with the next chunk (absent while there is
   *  none: an empty string costs the board a block) */
  buffer_?: string;
  /** input not handed to the sink yet (whole frames and the start of the next): held while the
   *  connection's outbound queue is waiting for the socket, fed first with the next chunk */
  held_?: string;
  /** the connection's outbound frames waiting for the socket (the client's); none: never held */
  queue_?: string[];
  /** 1 while skipping the rest of an oversize frame up to its NUL (absent otherwise: a stored property costs the board a block) */
  skipping_?: number;
  /** largest frame, in characters (absent: FrameBound.MaxFrame) */
  maxFrame_?: number;
  /** largest parse cost accepted (0: no bound; absent: FrameBound.MaxParse), see tooHeavy() */
  maxParse_?: number;
  counters: FrameCounters;
}

/** Receives each complete frame (without its NUL). Must not throw; the client wraps its handler. */
export type FrameSink<S> = (owner: S, frame: string) => void;

// A frame within maxFrame can still run Espruino's JSON.parse out of memory: measured on the
// ESP8266-layout interpreter, every value costs about 1 block and every array or object about
// 2 (a 1 KB `[1,1,...]` takes 507 blocks; an array nested 300 deep exhausts the heap, and an
// out-of-memory error cannot be caught). So the frame's commas and brackets are counted first,
// with indexOf (native) rather than a loop over every character, stopping at the bound. The
// brackets first: a comma is a character that is no bracket, so when the length plus the
// brackets' extra stays within the bound the commas need no count. A QoS 1 command with the
// broker's 36-character id is over the framer's length test (maxParse / 2) and has 6 commas and
// 4 brackets: each pass of a loop here is lexed again, and the comma count was 14 of the 35
// flash reads this took per such frame (espruino-esp8266).
export function tooHeavy(frame: string, limit: number): boolean {
  var n = 0;
  var i: number;
  for (i = -1; n <= limit && (i = frame.indexOf("[", i + 1)) >= 0; ) n += 2;
  for (i = -1; n <= limit && (i = frame.indexOf("{", i + 1)) >= 0; ) n += 2;
  if (frame.length + n / 2 <= limit) return false;
  for (i = -1; n <= limit && (i = frame.indexOf(",", i + 1)) >= 0; ) n++;
  return n > limit;
}

// Each frame is cut out of the chunk with one substring; the carry-over buffer is only used for
// a frame split across chunks (put before the next chunk), and is abandoned the moment it would
// exceed maxFrame_.
// Inbound backpressure: Espruino's sockets cannot be paused (socketserver.c reads a chunk of up
// to 536 bytes every idle loop whatever the handler does), so while frames wait in the outbound
// queue for a `drain`, the rest of the input is held instead of handled (what it asks for could
// not be answered), up to maxFrame_ characters; the client feeds it again on `drain`. Past the
// bound, frames are handled and what cannot be sent is refused and counted, as before.
export function feedChunk<S extends FrameState>(st: S, chunk: string, sink: FrameSink<S>): void {
  var i = 0;
  var n: number;
  var end: number;
  var frame: string;
  var max = st.maxFrame_ || FrameBound.MaxFrame;
  var limit = st.maxParse_ === undefined ? FrameBound.MaxParse : st.maxParse_;
  // (held_ already holds the carry-over when there is one)
  if (st.held_) {
    chunk = st.held_ + chunk;
    delete st.held_;
  } else if (st.buffer_) {
    chunk = st.buffer_ + chunk;
    delete st.buffer_;
  }
  n = chunk.length;
  // One pass per whole frame; the rest of the chunk (the start of a frame) after the loop.
  // Espruino lexes a loop's body at each pass and once more when the loop ends, so the body holds
  // only what a frame that is handled needs: its parse-cost test and the sink. The end of a
  // skipped frame, one over maxFrame and the input to hold while replies wait for a drain are
  // frameAside's, kept in flash until one comes (tools/cold.ts): written here they were about
  // 10 of a ping's flash reads (espruino-esp8266). (i < n first: Espruino's indexOf from past the
  // end searches from the last place, and would find the last NUL again.)
  while (i < n && (end = chunk.indexOf("\0", i)) >= 0) {
    if (st.skipping_ || end - i > max || (st.queue_ && st.queue_.length && n - i <= max)) {
      if (/*@__NOINLINE__*/ frameAside(st, chunk, i, end)) return;
    } else if (end > i) {
      frame = chunk.substring(i, end);
      // tooHeavy counts at most 2 per character: a frame of up to limit/2 characters passes
      // without the count (0.25 ms of a ping frame's 0.5 in the framer, on espruino-esp8266).
      // Nor does one of up to limit characters without a "[": Espruino's parser takes an object
      // only with a quoted key after its "{" (jswrap_json.c), so without arrays a frame costs
      // about a block per two characters at most, half the limit (espruino-esp8266, 256
      // characters: objects nested 0.41-0.51, pairs 0.21-0.34; against an array of digits 0.51,
      // nested arrays 1.00: test/espruino/parse-cost.espruino.test.ts). A q1 command, over
      // limit/2 with the broker's 36-character id, is one (421 -> 390 flash reads per ping).
      // (The "[" is looked for in the frame: a search in the chunk from i would go on through
      // the frames after it, and indexOf costs about 0.3 µs per place on the interpreter.)
      if (limit && frame.length * 2 > limit && (frame.length > limit || frame.indexOf("[") >= 0) && tooHeavy(frame, limit)) st.counters.heavy = (st.counters.heavy || 0) + 1;
      else sink(st, frame);
    }
    i = end + 1;
  }
  if (i < n && !st.skipping_) {
    if (n - i > max) {
      st.skipping_ = 1;
      st.counters.big = (st.counters.big || 0) + 1;
    } else st.buffer_ = i ? chunk.substring(i) : chunk;
  }
}

/**
 * The frame chunk[i, end) that feedChunk does not handle in its loop: the end of a frame being
 * skipped, one over maxFrame (dropped and counted), or, while frames wait in the outbound queue,
 * the input to hold (returns 1: the rest of the chunk is held and feedChunk stops).
 */
function frameAside(st: FrameState, chunk: string, i: number, end: number): number {
  if (st.skipping_) delete st.skipping_;
  else if (end - i > (st.maxFrame_ || FrameBound.MaxFrame)) st.counters.big = (st.counters.big || 0) + 1;
  else if (end > i) {
    st.held_ = i ? chunk.substring(i) : chunk;
    return 1;
  }
  return 0;
}

/** A stand-alone framer (tests, bench): its own state and a sink for the frames. */
export interface Framer extends FrameState {
  feed(chunk: string): void;
}

export function createFramer(maxFrame: number, onFrame: (frame: string) => void, counters?: FrameCounters, maxParse?: number): Framer {
  var fr: any = { maxFrame_: maxFrame, maxParse_: maxParse || 0, counters: counters || {} };
  fr.feed = function (chunk: string) {
    feedChunk(fr, chunk, function (_s: any, f: string) {
      onFrame(f);
    });
  };
  return fr;
}
