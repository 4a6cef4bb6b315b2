// Many SimBoards in one process on one clock: advancing the fleet advances every board together.
import { SimBoard, type SimBoardOptions } from "./board";
import { SimClock, type ClockOptions } from "./clock";

export class Fleet {
  readonly clock: SimClock;
  readonly boards: SimBoard[] = [];

  constructor(opts: ClockOptions = {}) {
    this.clock = new SimClock(opts);
  }

  /** adds a board on the fleet's clock (not booted yet) */
  add(opts: Omit<SimBoardOptions, "clock">): SimBoard {
    const b = new SimBoard({ name: opts.name || `${opts.board}-${this.boards.length}`, ...opts, clock: this.clock });
    this.boards.push(b);
    return b;
  }

  bootAll(): void {
    for (const b of this.boards) b.boot();
  }

  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  runUntil(pred: () => boolean, maxMs: number, stepMs?: number): Promise<boolean> {
    return this.clock.runUntil(pred, maxMs, stepMs);
  }

  now(): number {
    return this.clock.now();
  }

  stop(): void {
    for (const b of this.boards) b.stop();
    this.clock.stop();
  }
}
