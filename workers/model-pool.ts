import type { VideoModel } from '../src/core/ports/video-model.ts';

export interface LeasedModel {
  model: VideoModel;
  release(): void;
}

/**
 * One model per render slot. A slot's model is loaded before the worker takes jobs (so a broken
 * model fails at start, not on someone's render) and replaced when it died mid-job
 * (ThreadedVideoModel.alive turns false when its thread is gone).
 */
export class ModelPool {
  private readonly idle: VideoModel[] = [];
  private readonly waiters: ((model: VideoModel) => void)[] = [];
  private readonly all = new Set<VideoModel>();
  private creating = 0;
  private closed = false;

  constructor(
    private readonly create: () => Promise<VideoModel>,
    readonly size: number,
  ) {}

  /** Loads every slot's model; returns the first one's name and defaults for logging. */
  async warm(): Promise<VideoModel> {
    while (this.all.size + this.creating < this.size) this.idle.push(await this.add());
    return [...this.all][0]!;
  }

  async acquire(): Promise<LeasedModel> {
    if (this.closed) throw new Error('model pool is closed');
    let model =
      this.idle.pop() ??
      (this.all.size + this.creating < this.size ? await this.add() : await new Promise<VideoModel>((r) => this.waiters.push(r)));
    if (!isAlive(model)) model = await this.replace(model);
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        void this.giveBack(model);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.all].map((m) => m.dispose()));
    this.all.clear();
    this.idle.length = 0;
  }

  private async add(): Promise<VideoModel> {
    this.creating++;
    try {
      const model = await this.create();
      this.all.add(model);
      return model;
    } finally {
      this.creating--;
    }
  }

  private async replace(dead: VideoModel): Promise<VideoModel> {
    this.all.delete(dead);
    await dead.dispose().catch(() => {});
    return this.add();
  }

  private async giveBack(model: VideoModel): Promise<void> {
    if (this.closed) return;
    // A dead model is swapped lazily, on the next acquire, so a crash does not delay the failing job.
    const waiter = this.waiters.shift();
    if (waiter) waiter(model);
    else this.idle.push(model);
  }
}

function isAlive(model: VideoModel): boolean {
  return (model as { alive?: boolean }).alive !== false;
}
