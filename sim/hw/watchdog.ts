// Virtual hardware: the watchdog (E.enableWatchdog / E.kickWatchdog). Not kicked within its
// timeout, it bites: the engine reboots the board. On the V8 engine it is a clock task renewed by
// each kick; the real engine (sim/espruino/board.ts) keeps the same state from the shim's lines
// and checks it by polling.

export class Watchdog {
  /** timeout in ms (0: off) */
  ms = 0;
  private task: unknown = null;

  constructor(
    private readonly later: (ms: number, fn: () => void) => unknown,
    private readonly cancel: (t: unknown) => void,
    private readonly bite: () => void,
  ) {}

  /** E.enableWatchdog(seconds, auto): auto kicks need no program, so nothing can bite */
  enable(s: number, auto: boolean): void {
    this.cancel(this.task);
    this.task = null;
    if (auto) return;
    this.ms = Math.max(1, s * 1000);
    this.task = this.later(this.ms, this.bite);
  }

  kick(): void {
    if (!this.task) return;
    this.cancel(this.task);
    this.task = this.later(this.ms, this.bite);
  }

  /** the program is gone (its task went with it) */
  reset(): void {
    this.task = null;
  }

  realmHooks(): Record<string, (...a: any[]) => any> {
    return {
      kickWatchdog: () => this.kick(),
      enableWatchdog: (s: number, auto: boolean) => this.enable(s, auto),
    };
  }
}
