/**
 * Edits to one message, at most one per interval. chat.update is Tier 3 (about 50 a minute per
 * workspace) and progress reports can come faster than people read, so an edit waiting its turn
 * is replaced by a newer one; callers of the replaced edit resolve when the newer one lands,
 * because its content supersedes theirs.
 */
type Waiter = { resolve: () => void; reject: (e: unknown) => void };

interface Lane {
  running: boolean;
  lastStart: number;
  next?: { run: () => Promise<void>; waiters: Waiter[] };
}

export class EditQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly minIntervalMs = 1000) {}

  submit(key: string, run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { running: false, lastStart: 0 };
        this.lanes.set(key, lane);
      }
      const waiters = lane.next ? [...lane.next.waiters, { resolve, reject }] : [{ resolve, reject }];
      lane.next = { run, waiters };
      if (!lane.running) void this.drain(key, lane);
    });
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    while (lane.next) {
      const wait = lane.lastStart + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const job = lane.next;
      lane.next = undefined;
      lane.lastStart = Date.now();
      try {
        await job.run();
        job.waiters.forEach((w) => w.resolve());
      } catch (error) {
        job.waiters.forEach((w) => w.reject(error));
      }
    }
    lane.running = false;
    // Forget the lane once its interval has passed; until then it still spaces out new edits.
    setTimeout(() => {
      if (!lane.running && !lane.next && this.lanes.get(key) === lane) this.lanes.delete(key);
    }, this.minIntervalMs).unref();
  }
}
