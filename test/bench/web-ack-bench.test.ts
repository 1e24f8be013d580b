import { Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { measureWebChatAck } from '../../bench/web-ack-bench.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
afterAll(() => redis.disconnect());

describe('web chat ack bench', () => {
  test('8 POST /api/commands at once: each answered with its own thread, each job queued, the no-op floor beside it', async () => {
    const lines: string[] = [];
    const r = await measureWebChatAck({ redisUrl, commands: 8, bursts: 2, warmup: 1, out: null, print: (line) => lines.push(line) });

    expect(r.samplesMs).toHaveLength(16);
    expect(r.floorSamplesMs).toHaveLength(16);
    for (const ms of [...r.samplesMs, ...r.floorSamplesMs]) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
    expect(r.perBurst.map((b) => b.jobsQueued)).toEqual([8, 8]);
    expect(r.perBurst[0]!.ratioP99).toBe(Math.round((r.perBurst[0]!.webChat.p99 / r.perBurst[0]!.floor.p99) * 10) / 10);
    expect(lines.some((line) => /^all +[\d.]+ +[\d.]+/.test(line))).toBe(true);
    for (const prefix of r.prefixes) expect(await redis.keys(`${prefix}*`)).toEqual([]);
  }, 20_000);
});
