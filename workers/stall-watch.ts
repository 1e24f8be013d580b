/**
 * Aborts a render that shows no sign of life. BullMQ's stalled-job check only catches a worker
 * that died: a live worker keeps renewing the lock of a render whose engine thread or ffmpeg hangs
 * (a wedged GPU driver, a pipe nobody reads), and the job would hold its slot, and keep people
 * waiting, forever. Every step, preview and stored take counts as life; after `timeoutMs` without
 * any, `onStall` runs once (the processor aborts the render, which kills ffmpeg and, after its
 * grace period, the engine thread, and the attempt fails as retryable).
 */
export class StallWatch {
  private last: number;
  private readonly timer: NodeJS.Timeout;
  private fired = false;

  constructor(
    readonly timeoutMs: number,
    private readonly onStall: (idleMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
    // A check a few times per timeout keeps the overshoot small at no cost.
    this.timer = setInterval(() => this.check(), Math.max(50, Math.min(timeoutMs / 4, 5_000)));
    this.timer.unref();
  }

  /** The render did something: a step, a preview, a stored file. */
  touch(): void {
    this.last = this.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const idle = this.now() - this.last;
    if (this.fired || idle < this.timeoutMs) return;
    this.fired = true;
    this.stop();
    this.onStall(idle);
  }
}
