import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Render time buckets in seconds: a built-in take takes about one, a long chain minutes. */
const RENDER_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** What the worker's metrics read from the worker process at scrape time. */
export interface WorkerReadings {
  /** The loaded model's name ('unknown' until it is loaded). */
  model(): string;
  slots: number;
  activeJobs(): number;
}

export interface WorkerMetrics {
  /** A job ended on this worker after `seconds` of rendering. */
  rendered(outcome: 'completed' | 'failed', seconds: number): void;
  text(): Promise<string>;
  contentType: string;
}

/** A worker process's metrics, served on its `--metrics-port` (src/metrics/metrics-server.ts). */
export function createWorkerMetrics(worker: WorkerReadings, opts: { processMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dailies_worker_' });
  const renders = new Histogram({
    name: 'dailies_render_seconds',
    help: 'Time a job spent rendering on this worker, by model and outcome',
    labelNames: ['model', 'outcome'],
    buckets: RENDER_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'dailies_worker_slots',
    help: 'Render slots of this worker, and how many are busy',
    labelNames: ['model', 'state'],
    registers: [registry],
    collect() {
      const busy = worker.activeJobs();
      this.reset();
      this.set({ model: worker.model(), state: 'busy' }, busy);
      this.set({ model: worker.model(), state: 'idle' }, Math.max(0, worker.slots - busy));
    },
  });
  return {
    rendered: (outcome, seconds) => renders.observe({ model: worker.model(), outcome }, Math.max(0, seconds)),
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}
