import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoreMetrics } from '../core/ports/metrics.ts';
import { prometheusCoreMetrics } from './core-metrics.ts';

/** What the bot's metrics read from the worker pool at scrape time. */
export interface PoolReadings {
  /** BullMQ's own exposition of the queue: job counts by state (bullmq_job_count), completed and failed totals. */
  queueText(labels: Record<string, string>): Promise<string>;
  /** Render slots of live workers (their heartbeats). */
  liveSlots(): Promise<number>;
  /** The name of the model the queue's workers render with, as they publish it; null before any has. */
  modelName(): Promise<string | null>;
}

export interface BotMetrics {
  /** Handed to the core (createCore's `metrics`). */
  core: CoreMetrics;
  /** The Prometheus text exposition: this process's metrics, then the queue's. */
  text(): Promise<string>;
  contentType: string;
}

/**
 * The bot process's `/metrics`. Queue depth and live slots are read from Redis when scraped, not
 * kept in step by events: every bot process then reports the same pool, and a scrape after a
 * restart is right at once. The queue is labelled with the model its workers render with (one
 * queue serves one model), `unknown` before a worker has published it.
 */
export function createBotMetrics(pool: PoolReadings, opts: { processMetrics?: boolean } = {}): BotMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dailies_bot_' });
  let model = 'unknown';
  new Gauge({
    name: 'dailies_live_worker_slots',
    help: 'Render slots of the workers whose heartbeat is current',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      this.reset();
      this.set({ model }, await pool.liveSlots());
    },
  });
  return {
    core: prometheusCoreMetrics(registry),
    contentType: registry.contentType,
    async text() {
      model = (await pool.modelName()) ?? 'unknown';
      const [own, queue] = await Promise.all([registry.metrics(), pool.queueText({ model })]);
      return `${own.trimEnd()}\n${queue.trimEnd()}\n`;
    },
  };
}
