import { describe, expect, it } from 'vitest';
import { acknowledged, figure, note, problems, request, send, summary, unacknowledged, useCluster, videos, waitFor, waitForOutcomes, type HttpResult, type Sent } from './harness.ts';

/**
 * Issue 11: Redis (the harness's own redis-server, AOF with appendfsync always) SIGKILLed with
 * renders and requests in flight, then started again on the same port and directory. While it is
 * down the bot must answer at once: /api/health 503 within a second, commands `unavailable` (503)
 * within a few seconds. Every command acknowledged before, at or after the outage ends with its
 * finals, once.
 */

function batch(name: string, n: number): Sent[] {
  return videos(name, n, { takes: 1, steps: 2 });
}

/** Sends a command that must not hang; returns how long the answer (or the timeout/reset) took. */
async function timedSend(cluster: Awaited<ReturnType<typeof useCluster>>, c: Sent, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await send(cluster, c, timeoutMs);
  return c.answer?.ms ?? Date.now() - started;
}

function describeAnswer(c: Sent, ms: number): string {
  return c.answer ? `${c.answer.status}${c.answer.body?.error ? ` ${c.answer.body.error.code}` : ''} in ${ms} ms` : `nothing in ${ms} ms (${c.error})`;
}

describe('Redis stops and starts again', () => {
  it('answers at once while Redis is down and loses nothing acknowledged', async () => {
    const cluster = await useCluster({ workers: 2 });

    const before = batch('before', 6);
    await Promise.all(before.map((c) => send(cluster, c)));
    expect(unacknowledged(before), 'every command before the outage is acknowledged').toEqual([]);
    await waitFor('a render in flight', async () => (await cluster.queueEvents()).some((e) => e.data?.kind === 'started'), 90_000, 200, cluster.stopped);

    // Commands on their way in as Redis dies.
    const during = batch('during', 4);
    const inFlight = Promise.all(during.map((c) => timedSend(cluster, c, 15_000)));
    await cluster.killRedis();
    const downAt = Date.now();

    let health: HttpResult;
    try {
      health = await request('GET', `${cluster.url}/api/health`, undefined, 5_000);
    } catch (error) {
      health = { status: 0, body: (error as Error).message, ms: Date.now() - downAt };
    }
    const outage = batch('outage', 2);
    const outageMs = await Promise.all(outage.map((c) => timedSend(cluster, c, 15_000)));
    const duringMs = await inFlight;
    const checksMs = Date.now() - downAt;
    figure(`Redis down -> GET /api/health answered ${health.status || 'nothing'} in ${health.ms} ms`);
    figure(`Redis down -> POST /api/commands answered ${outage.map((c, i) => describeAnswer(c, outageMs[i]!)).join(', ')}`);
    note(`outage: commands in flight as Redis died: ${during.map((c, i) => describeAnswer(c, duringMs[i]!)).join('; ')}`);

    expect.soft(health.status, `GET /api/health with Redis down: ${JSON.stringify(health.body)}`).toBe(503);
    expect.soft(health.ms, 'GET /api/health answers within 1 s with Redis down').toBeLessThan(1_000);
    outage.forEach((c, i) => {
      const seen = { status: c.answer?.status ?? c.error, code: c.answer?.body?.error?.code };
      expect.soft(seen, `POST /api/commands with Redis down: ${describeAnswer(c, outageMs[i]!)}`).toEqual({ status: 503, code: 'unavailable' });
      expect.soft(outageMs[i], 'POST /api/commands answers within a few seconds with Redis down').toBeLessThan(5_000);
    });
    during.forEach((c, i) => {
      // Taken (and then durably recorded) or refused as unavailable; never a hang or a reset.
      const fine = acknowledged(c) || (c.answer?.status === 503 && c.answer.body?.error?.code === 'unavailable');
      expect.soft(fine, `a command in flight as Redis died: ${describeAnswer(c, duringMs[i]!)}`).toBe(true);
    });

    await cluster.startRedis();
    note(`outage: Redis was down ${Date.now() - downAt} ms (the checks above took ${checksMs} ms)`);
    await waitFor(
      'GET /api/health 200 after Redis is back',
      async () => (await request('GET', `${cluster.url}/api/health`, undefined, 5_000)).status === 200,
      60_000,
      200,
      cluster.stopped,
    );

    const after = batch('after', 3);
    await Promise.all(after.map((c) => send(cluster, c)));
    expect(unacknowledged(after), 'every command after the outage is acknowledged').toEqual([]);

    // Refused commands are in too: one refused without a thread is skipped, one refused that
    // still opened a thread must end like any other.
    const results = await waitForOutcomes(cluster, [...before, ...during, ...outage, ...after], 180_000);
    note(`outage: ${summary(results)}`);
    expect(problems(results)).toEqual([]);
  }, 360_000);
});
