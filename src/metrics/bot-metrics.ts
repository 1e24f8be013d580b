import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoreMetrics } from '../core/ports/metrics.ts';
import { prometheusCoreMetrics } from './core-metrics.ts';

/** What the bot's metrics read from the worker pool at scrape time. */
export interface PoolReadings {
  /** BullMQ's own exposition of every model's queue (bullmq_job_count by state, completed and failed totals), labelled with the model. */
  queueText(): Promise<string>;
  /** Render slots of live workers (their heartbeats), by model. */
  liveSlots(): Promise<Record<string, number>>;
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
 * restart is right at once. One queue serves one model, so both are labelled with the model.
 */
export function createBotMetrics(pool: PoolReadings, opts: { processMetrics?: boolean } = {}): BotMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dailies_bot_' });
  new Gauge({
    name: 'dailies_live_worker_slots',
    help: 'Render slots of the workers whose heartbeat is current',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [model, slots] of Object.entries(await pool.liveSlots())) this.set({ model }, slots);
    },
  });
  return {
    core: prometheusCoreMetrics(registry),
    contentType: registry.contentType,
    async text() {
      const [own, queue] = await Promise.all([registry.metrics(), pool.queueText()]);
      return `${own.trimEnd()}\n${queue.trimEnd()}\n`;
    },
  };
}
