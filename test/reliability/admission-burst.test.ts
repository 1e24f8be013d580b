import { describe, expect, it } from 'vitest';
import { acknowledged, note, problems, send, sleep, summary, unacknowledged, useCluster, videos, waitForOutcomes, type Cluster, type Sent } from './harness.ts';

/**
 * Issue 11, defect 1: `dailies bot` SIGKILLed while admitting a burst of commands, then
 * restarted; the commands whose answers were lost are sent again with the same id (the same id
 * twice is one command). Every command ends with exactly one final in its thread.
 */

const BURST = 50;

/**
 * Sends again (same id) until the bot answers with a thread, as a client of the API would:
 * network errors right after a restart are retried, and so is an answer without a thread (the
 * dead bot's claim on the event id holds for 10 s before the event may be handled afresh).
 */
async function resend(cluster: Cluster, commands: Sent[]): Promise<void> {
  await Promise.all(
    commands.map(async (c) => {
      for (let i = 0; i < 20 && !cluster.stopped(); i++) {
        await send(cluster, c, 30_000);
        if (c.thread) return;
        await sleep(1_500);
      }
    }),
  );
}

describe('the bot dies (SIGKILL) during admission', () => {
  it(`loses no acknowledged command of a burst of ${BURST}`, async () => {
    const cluster = await useCluster({ workers: 2 });
    const all: Sent[] = [];
    let landed = false;
    // The bot answers a burst within a few hundred ms and admits it right after; on a busy
    // machine the kill can come after both. Such a burst tested nothing: try again (it still
    // counts below, as commands that must render).
    for (let attempt = 1; attempt <= 3 && !landed; attempt++) {
      if (attempt > 1) await cluster.startBot();
      const commands = videos(`burst${attempt}`, BURST, { takes: 1, steps: 2 });
      all.push(...commands);
      const victim = cluster.bot!;
      const queuedBefore = await cluster.queuedJobCount();

      // All at once; the bot is killed as the 5th answer arrives, mid-admission.
      let answered = 0;
      await Promise.all(
        commands.map((c) =>
          send(cluster, c, 20_000).then(() => {
            if (c.answer && ++answered === 5) void victim.kill('SIGKILL');
          }),
        ),
      );
      await victim.kill('SIGKILL');
      const queued = (await cluster.queuedJobCount()) - queuedBefore;
      const unanswered = commands.filter((c) => c.answer === null).length;
      const taken = commands.filter(acknowledged).length;
      landed = unanswered > 0 || queued < taken;
      note(
        `burst ${attempt}: ${BURST - unanswered} of ${BURST} answered before the bot died (${taken} acknowledged), ` +
          `${unanswered} unanswered; ${queued} of the ${taken} acknowledged in BullMQ at the kill${landed ? '' : ' — the kill came after the whole burst was admitted'}`,
      );
    }
    expect(landed, 'the kill came before the burst was answered and admitted (else this tested nothing)').toBe(true);

    const restartAt = Date.now();
    await cluster.startBot();
    const unanswered = all.filter((c) => c.answer === null);
    await resend(cluster, unanswered);
    // Soft: a command refused instead of taken is a failure too, but what became of the others
    // (and whether a refused one still started something) is worth seeing in the same run.
    expect.soft(unacknowledged(all), 'every command is acknowledged (re-sent with its id when its answer was lost)').toEqual([]);
    note(`burst: re-sent ${unanswered.length}; ${unanswered.filter((c) => !c.thread).length} of them answered without a thread id (looked up in the channel)`);

    // Idle, the last final lands ~80 s after the restart; on two cores shared with other work it
    // has taken over 240 s, with every command queued and none lost, so the wait is generous.
    const results = await waitForOutcomes(cluster, all, 420_000);
    const lastFinal = Math.max(...results.map((o) => o.lastFinalAt ?? 0));
    note(`burst: ${summary(results)}; the last final was posted ${((lastFinal - restartAt) / 1000).toFixed(1)} s after the restart`);
    expect(problems(results)).toEqual([]);
  }, 660_000);
});
