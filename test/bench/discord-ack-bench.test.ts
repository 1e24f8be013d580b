import { Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { measureDiscordAck } from '../../bench/discord-ack-bench.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
afterAll(() => redis.disconnect());

describe('Discord ack bench', () => {
  test('10 /video interactions at once: each deferred exactly once, then answered, and each left a session with a queued job', async () => {
    const lines: string[] = [];
    const r = await measureDiscordAck({ redisUrl, commands: 10, bursts: 1, warmup: 1, out: null, settleTimeoutMs: 5000, print: (line) => lines.push(line) });

    expect(r.interactions).toHaveLength(10);
    for (const i of r.interactions) {
      expect(i).toMatchObject({ callbacks: 1, callbackType: 5, callbackStatus: 204, answer: 'PATCH @original 200' });
      // The reply can only be edited once it was deferred; the bot wrote the callback before the stand-in read it.
      expect(i.answerMs!).toBeGreaterThan(i.ackMs!);
      expect(i.sentMs).not.toBeNull();
      expect(i.sentMs!).toBeLessThanOrEqual(i.ackMs! + 1);
    }
    expect(r.ackSamplesMs).toHaveLength(10);
    expect(r.answerSamplesMs).toHaveLength(10);
    for (const ms of [...r.ackSamplesMs, ...r.answerSamplesMs]) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
    expect(r.perBurst).toHaveLength(1);
    expect(r.perBurst[0]).toMatchObject({ settled: 10, sessions: 10, jobsQueued: 10, ack: { n: 10 }, answer: { n: 10 } });
    expect(r.ack.p99).toBe(Math.max(...r.ackSamplesMs));
    expect(r.adapterLog).toEqual([]);
    expect(lines.some((line) => /^1 +[\d.]+ +[\d.]+/.test(line))).toBe(true);
    // The throwaway keys are gone.
    expect(await redis.keys(`${r.redisPrefix}:*`)).toEqual([]);
  }, 10_000);
});
