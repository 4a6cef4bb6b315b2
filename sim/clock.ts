// The simulator's clock: one ordered queue of tasks (device timers, pin events, socket events) for
// any number of boards. Virtual mode runs tasks in (time, insertion) order as fast as the host
// allows, and between steps yields to Node's event loop so that real socket I/O (a broker on
// 127.0.0.1) flows; it waits for that I/O to go quiet before moving virtual time on, so a reply
// that takes microseconds of real time also takes zero virtual time. Real mode runs tasks on
// Node's own timers.

export interface Task {
  at: number;
  seq: number;
  fn: () => void;
  owner: unknown;
  dead: boolean;
}

export type ClockMode = "virtual" | "real";

export interface ClockOptions {
  mode?: ClockMode;
  /** event-loop turns without socket activity before virtual time may move on (default 3) */
  quietTurns?: number;
  /** cap on real milliseconds spent waiting for I/O to settle at one virtual instant (default 2000) */
  maxSettleMs?: number;
}

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SimClock {
  readonly mode: ClockMode;
  /** tasks run so far (a figure for benchmarks) */
  tasksRun = 0;
  /** bumped by every socket event or write; a change means I/O is in flight */
  ioEvents = 0;
  /** sockets waiting for connect or with writes not yet flushed */
  ioPending = 0;
  /** sockets open (any board) */
  openSockets = 0;
  private virtualNow = 0;
  private realStart = performance.now();
  private heap: Task[] = [];
  private seq = 0;
  private lastIoEvents = -1;
  private sinceYield = 0;
  private quietTurns: number;
  private maxSettleMs: number;
  private realTimer: NodeJS.Timeout | null = null;
  private realArmedAt = Infinity;
  private stopped = false;

  constructor(opts: ClockOptions = {}) {
    this.mode = opts.mode || "virtual";
    this.quietTurns = opts.quietTurns || 3;
    this.maxSettleMs = opts.maxSettleMs || 2000;
  }

  /** milliseconds since the clock was made */
  now(): number {
    return this.mode === "virtual" ? this.virtualNow : performance.now() - this.realStart;
  }

  schedule(delayMs: number, fn: () => void, owner?: unknown): Task {
    const d = delayMs > 0 ? delayMs : 0;
    const t: Task = { at: this.now() + d, seq: this.seq++, fn, owner, dead: false };
    this.push(t);
    if (this.mode === "real") this.armReal();
    return t;
  }

  cancel(t: Task | null | undefined): void {
    if (t) t.dead = true;
  }

  /** cancels every task of `owner` (a board being rebooted or stopped) */
  cancelOwner(owner: unknown): void {
    for (const t of this.heap) if (t.owner === owner) t.dead = true;
  }

  /** live tasks queued (for tests and leak checks) */
  pending(owner?: unknown): number {
    let n = 0;
    for (const t of this.heap) if (!t.dead && (owner === undefined || t.owner === owner)) n++;
    return n;
  }

  /** Moves time on by `ms`, running every task due on the way; resolves when now() reached the end. */
  async advance(ms: number): Promise<void> {
    if (this.mode === "real") {
      await sleepReal(ms);
      return;
    }
    const target = this.virtualNow + Math.max(0, ms);
    for (;;) {
      await this.settle();
      const next = this.peekLive();
      if (!next || next.at > target) break;
      this.virtualNow = Math.max(this.virtualNow, next.at);
      this.runDueBatch();
    }
    this.virtualNow = target;
    await this.settle();
  }

  /** Advances in steps of `stepMs` until pred() is true; returns whether it became true within maxMs. */
  async runUntil(pred: () => boolean, maxMs: number, stepMs = 10): Promise<boolean> {
    const end = this.now() + maxMs;
    while (!pred()) {
      if (this.now() >= end) return false;
      await this.advance(Math.min(stepMs, end - this.now()));
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = null;
    this.heap = [];
  }

  private runDueBatch(): void {
    const at = this.virtualNow;
    for (;;) {
      const t = this.peekLive();
      if (!t || t.at > at) return;
      this.pop();
      this.runTask(t);
    }
  }

  private runTask(t: Task): void {
    t.dead = true;
    this.tasksRun++;
    try {
      t.fn();
    } catch (e) {
      console.error("sim clock: task threw", e);
    }
  }

  // Yields to the event loop; waits longer while sockets connect or bytes are in flight.
  private async settle(): Promise<void> {
    const active = this.ioPending > 0 || this.ioEvents !== this.lastIoEvents;
    if (!active) {
      if (this.openSockets > 0 || ++this.sinceYield >= 256) {
        this.sinceYield = 0;
        await immediate();
      }
      if (this.ioEvents === this.lastIoEvents && this.ioPending === 0) return;
    }
    const start = performance.now();
    let quiet = 0;
    let turns = 0;
    let seen = this.ioEvents;
    while (quiet < this.quietTurns) {
      if (this.ioPending > 0 && turns > 20) await sleepReal(1);
      else await immediate();
      turns++;
      if (this.ioEvents !== seen || this.ioPending > 0) {
        seen = this.ioEvents;
        quiet = 0;
      } else quiet++;
      if (performance.now() - start > this.maxSettleMs) break;
    }
    this.lastIoEvents = this.ioEvents;
    this.sinceYield = 0;
  }

  private armReal(): void {
    if (this.stopped) return;
    const next = this.peekLive();
    if (!next) return;
    if (this.realTimer && next.at >= this.realArmedAt) return;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realArmedAt = next.at;
    this.realTimer = setTimeout(() => {
      this.realTimer = null;
      this.realArmedAt = Infinity;
      const now = this.now();
      for (;;) {
        const t = this.peekLive();
        if (!t || t.at > now) break;
        this.pop();
        this.runTask(t);
      }
      this.armReal();
    }, Math.max(0, next.at - this.now()));
  }

  private peekLive(): Task | undefined {
    while (this.heap.length && this.heap[0].dead) this.pop();
    return this.heap[0];
  }

  private less(a: Task, b: Task): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Task): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Task | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
