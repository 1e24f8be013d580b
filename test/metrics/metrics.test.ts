import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ModelQueues } from '../../src/queue/model-queues.ts';
import { ModelRegistry } from '../../src/queue/model-registry.ts';
import { modelQueueName } from '../../src/queue/model-queue-name.ts';
import { PoolStats } from '../../src/queue/pool-stats.ts';
import { QueueKeys } from '../../src/queue/queue-keys.ts';
import { createBotMetrics } from '../../src/metrics/bot-metrics.ts';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics.ts';
import { startMetricsServer } from '../../src/metrics/metrics-server.ts';
import { renderJob, testQueue } from '../workers/fixtures/redis-test-env.ts';
import { parsePrometheusText, valueOf } from './prometheus-text.ts';

describe('the Prometheus text reader used by these tests', () => {
  it('rejects what a Prometheus server would reject', () => {
    expect(() => parsePrometheusText('9bad 1')).toThrow(/metric name/);
    expect(() => parsePrometheusText('a{b=c} 1')).toThrow(/bad label/);
    expect(() => parsePrometheusText('a{b="c"} one')).toThrow(/not a number/);
    expect(() => parsePrometheusText('# TYPE a gauge\n# TYPE a gauge\na 1')).toThrow(/second TYPE/);
    expect(() => parsePrometheusText('# TYPE a gauge\nb 1')).toThrow(/no TYPE/);
    expect(parsePrometheusText('# TYPE a counter\na_total{x="q\\"uote", y="2"} 3 1700000000000')).toEqual([
      { name: 'a_total', labels: { x: 'q"uote', y: '2' }, value: 3 },
    ]);
  });
});

describe('the bot process metrics on real queues, one per model', () => {
  const env = testQueue();
  let queues: ModelQueues;
  let redis: Redis;

  beforeAll(async () => {
    queues = new ModelQueues({ redis: env.redis, queueName: env.queueName, prefix: env.prefix, positionUpdates: false, defaultModel: 'shapes-v1' });
    redis = new Redis(env.redis);
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await env.cleanup();
  });

  it('reports queue depth by state and model, live slots by model, acks, refusals and failed posts', async () => {
    const metrics = createBotMetrics({ queueText: () => queues.prometheusText(), liveSlots: () => queues.liveSlots() });
    const before = parsePrometheusText(await metrics.text());
    expect(valueOf(before, 'dailies_live_worker_slots', { model: 'shapes-v1' })).toBe(0);

    // Two models' workers announce themselves, as RenderWorker's heartbeat does.
    const registry = new ModelRegistry(redis, env.prefix);
    const big = new PoolStats(redis, new QueueKeys(env.prefix, modelQueueName(env.queueName, 'big-t2v')));
    const small = new PoolStats(redis, new QueueKeys(env.prefix, modelQueueName(env.queueName, 'shapes-v1')));
    await registry.announce('shapes-v1', modelQueueName(env.queueName, 'shapes-v1'), Date.now() + 60_000);
    await registry.announce('big-t2v', modelQueueName(env.queueName, 'big-t2v'), Date.now() + 60_000);
    await small.heartbeat('worker-a', 2, 60_000);
    await big.heartbeat('worker-b', 1, 60_000);

    await queues.enqueue(renderJob({ userId: 'ana' }));
    await queues.enqueue(renderJob({ userId: 'ben' }));
    await queues.enqueue(renderJob({ userId: 'ana', model: 'big-t2v' }));
    metrics.core.answered('discord', 120);
    metrics.core.answered('discord', 2_500);
    metrics.core.answered('slack', 40);
    metrics.core.refused('local', 'rate_limited');
    metrics.core.refused('local', 'rate_limited');
    metrics.core.postFailed('slack');

    // The strict reader refuses a second TYPE line for a family: both queues' texts are merged.
    const samples = parsePrometheusText(await metrics.text());
    const waiting = (model: string) => (valueOf(samples, 'bullmq_job_count', { state: 'prioritized', model }) ?? 0) + (valueOf(samples, 'bullmq_job_count', { state: 'waiting', model }) ?? 0);
    expect(waiting('shapes-v1')).toBe(2);
    expect(waiting('big-t2v')).toBe(1);
    expect(valueOf(samples, 'dailies_live_worker_slots', { model: 'shapes-v1' })).toBe(2);
    expect(valueOf(samples, 'dailies_live_worker_slots', { model: 'big-t2v' })).toBe(1);
    expect(valueOf(samples, 'dailies_ack_seconds_count', { platform: 'discord' })).toBe(2);
    // Histogram buckets are cumulative: one of the two Discord acks was within 0.25 s.
    expect(valueOf(samples, 'dailies_ack_seconds_bucket', { platform: 'discord', le: '0.25' })).toBe(1);
    expect(valueOf(samples, 'dailies_ack_seconds_bucket', { platform: 'discord', le: '3' })).toBe(2);
    expect(valueOf(samples, 'dailies_refusals_total', { platform: 'local', reason: 'rate_limited' })).toBe(2);
    expect(valueOf(samples, 'dailies_post_failures_total', { platform: 'slack' })).toBe(1);
    expect(samples.some((s) => s.name.startsWith('dailies_bot_process_'))).toBe(true);
  });
});

describe('a worker metrics port', () => {
  it('serves /metrics and /health, and counts renders by model and outcome', async () => {
    let active = 1;
    let healthy = true;
    const metrics = createWorkerMetrics({ model: () => 'shapes-v1', slots: 2, activeJobs: () => active });
    const server = await startMetricsServer({ ...metrics, text: () => metrics.text(), health: () => ({ ok: healthy, activeJobs: active }) }, { port: 0, host: '127.0.0.1' });
    try {
      metrics.rendered('completed', 1.2);
      metrics.rendered('failed', 0.1);
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parsePrometheusText(await res.text());
      expect(valueOf(samples, 'dailies_render_seconds_count', { model: 'shapes-v1', outcome: 'completed' })).toBe(1);
      expect(valueOf(samples, 'dailies_render_seconds_sum', { model: 'shapes-v1', outcome: 'completed' })).toBeCloseTo(1.2);
      expect(valueOf(samples, 'dailies_worker_slots', { model: 'shapes-v1', state: 'busy' })).toBe(1);
      expect(valueOf(samples, 'dailies_worker_slots', { model: 'shapes-v1', state: 'idle' })).toBe(1);

      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true, activeJobs: 1 });
      healthy = false;
      active = 0;
      expect((await fetch(`${server.url}/health`)).status).toBe(503);
      expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
