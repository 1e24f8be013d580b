import { describe, expect, it } from 'vitest';
import {
  SWEEP_INTERVAL_MS,
  acknowledged,
  figure,
  finalCount,
  note,
  outcomes,
  postKey,
  problems,
  request,
  send,
  sleep,
  summary,
  unacknowledged,
  useCluster,
  videos,
  waitFor,
  waitForOutcomes,
  waitUpTo,
  type Message,
} from './harness.ts';

/**
 * Issue 11, defects 2 and 3: `dailies bot` SIGKILLed between a render's end and its delivery,
 * while posting results, and while a vote round is open. After each restart every acknowledged
 * command ends with exactly one final per take, and nothing is posted twice.
 * Renders use few steps: what is tested is what happens around them, and the machine is shared.
 */

describe('the bot dies (SIGKILL) around delivery', () => {
  it('posts results that finished while it was down, each once, after the restart', async () => {
    // No workers yet: every render finishes while the bot is dead.
    const cluster = await useCluster({ workers: 0 });
    const commands = videos('overdue', 10, { takes: 1, steps: 2 });
    await Promise.all(commands.map((c) => send(cluster, c)));
    expect(unacknowledged(commands), 'every command is acknowledged').toEqual([]);

    // Admission is not what this test is about: wait until BullMQ holds every job.
    const jobIds = await waitFor(
      'all 10 jobs in BullMQ',
      async () => {
        const ids = await Promise.all(commands.map(async (c) => (await cluster.thread(c.thread!)).session?.jobs[0]?.jobId));
        if (ids.some((id) => !id)) return undefined;
        const present = await Promise.all(ids.map((id) => cluster.jobExists(id!)));
        return present.every(Boolean) ? (ids as string[]) : undefined;
      },
      60_000,
      250,
    );
    await cluster.killBot();
    await Promise.all([cluster.startWorker(), cluster.startWorker()]);
    await waitFor(`the workers to finish all ${jobIds.length} renders`, async () => (await cluster.completedCount()) >= jobIds.length, 180_000, 250, cluster.stopped);

    const restartAt = Date.now();
    await cluster.startBot();
    const readyAt = Date.now();
    const results = await waitForOutcomes(cluster, commands, 120_000);
    note(`overdue: ${summary(results)}`);
    const posted = results.filter((o) => o.finals > 0).length;
    const lastFinal = Math.max(...results.map((o) => o.lastFinalAt ?? 0));
    if (posted === results.length) {
      figure(
        `bot restart -> last overdue final posted: ${lastFinal - restartAt} ms (${results.length} results finished while the bot was down; ` +
          `bot process up ${readyAt - restartAt} ms after the restart, last final ${lastFinal - readyAt} ms after that)`,
      );
    } else {
      figure(`bot restart -> last overdue final posted: n/a (${posted} of ${results.length} overdue results posted)`);
    }
    expect(problems(results)).toEqual([]);
  }, 360_000);

  it('posts each result once when it dies again and again while posting', async () => {
    const cluster = await useCluster({ workers: 2 });
    const commands = videos('posting', 12, { takes: 2, steps: 2 });
    await Promise.all(commands.map((c) => send(cluster, c)));
    expect(unacknowledged(commands), 'every command is acknowledged').toEqual([]);
    const expected = commands.reduce((n, c) => n + c.takes, 0);
    const total = async () => (await outcomes(cluster, commands)).reduce((n, o) => n + o.finals, 0);

    const kills: string[] = [];
    const sentAt = Date.now();
    for (let round = 0; round < 3; round++) {
      const before = await waitFor('the finals so far', total, 30_000, 200);
      if (before >= expected) break;
      // Finals are being posted: let this bot get a few hundred ms into it, then kill it.
      const waitMs = round === 0 ? 120_000 : 30_000;
      const more = await waitUpTo('more finals', async () => (await total()) > before, waitMs, 50);
      if (!more) {
        note(`posting: no new finals within ${waitMs / 1000} s of restart ${round}; stopping the kills`);
        break;
      }
      await sleep(150 + 150 * round);
      const atKill = await total().catch(() => -1);
      const killAt = Date.now();
      await cluster.killBot();
      await cluster.startBot();
      kills.push(`at +${((killAt - sentAt) / 1000).toFixed(1)} s with ${atKill}/${expected} finals posted (up again in ${((Date.now() - killAt) / 1000).toFixed(1)} s)`);
    }
    note(`posting: bot killed ${kills.length} times while posting: ${kills.join('; ')}`);
    expect(kills.length, 'the bot was killed at least once while results were being posted').toBeGreaterThan(0);

    const results = await waitForOutcomes(cluster, commands, 180_000);
    note(`posting: ${summary(results)}`);
    expect(problems(results)).toEqual([]);
  }, 360_000);

  it('announces a vote round that expired while it was down, once', async () => {
    const windowMs = 6_000;
    const cluster = await useCluster({ workers: 1, env: { DAILIES_VOTE_WINDOW_MS: String(windowMs) } });
    const [command] = videos('vote', 1, { takes: 2, steps: 2, prompt: 'a green triangle moving right' });
    await send(cluster, command!);
    expect(acknowledged(command!), JSON.stringify(command!.answer ?? command!.error)).toBe(true);
    const thread = command!.thread!;

    const view = await waitFor(
      'both takes and the vote tally',
      async () => {
        const v = await cluster.thread(thread);
        return finalCount(v.messages) >= 2 && v.messages.some((m) => /^Votes for v1/.test(m.text)) ? v : undefined;
      },
      120_000,
      200,
      cluster.stopped,
    );
    const voted = await request('POST', `${cluster.url}/api/threads/${thread}/actions`, { user: 'vote-voter', action: 'vote', take: 2 });
    expect(voted.status, JSON.stringify(voted.body)).toBe(200);

    const doc = await cluster.sessionDoc(view.session!.id);
    const round = doc.rounds[0] as { deadline: number; openedAt: number; closed: unknown };
    expect(round.deadline - round.openedAt, 'the round lasts DAILIES_VOTE_WINDOW_MS').toBeLessThanOrEqual(windowMs + 1_000);
    await cluster.killBot();
    expect(Date.now(), 'the bot died before the vote deadline').toBeLessThan(round.deadline);
    const atKill = await cluster.sessionDoc(view.session!.id);
    expect(atKill.rounds[0].closed, 'the round was still open when the bot died').toBeNull();

    await waitFor('the vote deadline to pass', () => Date.now() > round.deadline + 1_000, windowMs + 10_000, 100);
    await cluster.startBot();
    const isResult = (m: Message) => postKey(m).startsWith('round result');
    await waitUpTo('the round result', async () => (await cluster.thread(thread)).messages.some(isResult), 30_000, 200);
    // Two sweep intervals more, for a second announcement to show up if there is one.
    await sleep(2 * SWEEP_INTERVAL_MS + 1_000);

    const after = await cluster.thread(thread);
    const results = after.messages.filter(isResult).map((m) => m.text);
    const tally = after.messages.filter((m) => /^Votes for v1/.test(m.text)).map((m) => m.text);
    note(`vote: result messages ${JSON.stringify(results)}; tally ${JSON.stringify(tally)}`);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatch(/^Take 2 of v1 wins \(1 vote\)/);
    expect(tally).toHaveLength(1);
    expect(tally[0]).toMatch(/Voting closed \(deadline passed\): take 2 won/);
    const [outcome] = await outcomes(cluster, [command!]);
    expect(problems([outcome!])).toEqual([]);
  }, 240_000);
});
