import { getJson, postJson, startStack, waitFor } from '../test/e2e/stack.ts';
import { benchHost, fmt, round, stats, writeBenchJson, type Stats } from '../src/util/stats.ts';
import { parseCliArgs, wholeNumber } from '../src/util/cli-args.ts';

/**
 * A storyboard end to end through the web chat, as a newcomer would run it: `dailies start` as a
 * child process (web chat, core, Redis, BullMQ, one worker on the built-in model), a 3-shot
 * /storyboard over the JSON API, every shot's takes posted, /cut, the film posted. Reports the
 * time from the command to the film, split into the shots' part and the cut's part. The same
 * harness as the end-to-end tests (test/e2e/stack.ts), so the bench measures what they check.
 *
 *   dailies bench-storyboard [--runs N] [--transition cut|fade|bridge] [--out FILE]
 */

interface Run {
  /** Command sent -> every shot's takes posted. */
  shotsMs: number;
  /** /cut sent -> the film posted. */
  cutMs: number;
  /** Command sent -> the film posted (includes the cut command's own round trip). */
  totalMs: number;
}

export interface StoryboardBenchResult {
  measuredAt: string;
  host: ReturnType<typeof benchHost>;
  shots: number;
  transition: string;
  runs: Run[];
  shotsStats: Stats;
  cutStats: Stats;
  totalStats: Stats;
}

const SHOTS = 'a red circle moving right | a yellow triangle growing | a blue square moving left';

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { runs: { type: 'string' }, transition: { type: 'string' }, out: { type: 'string' } }, { command: 'dailies bench-storyboard' }) as {
    help?: boolean;
    runs?: string;
    transition?: string;
    out?: string;
  };
  if (values.help) {
    console.log('Usage: dailies bench-storyboard [--runs N] [--transition cut|fade|bridge] [--out FILE]');
    return 0;
  }
  const runs = wholeNumber('--runs', values.runs, 2, 1);
  const transition = values.transition ?? 'fade';
  if (!['cut', 'fade', 'bridge'].includes(transition)) throw new Error(`--transition must be cut, fade or bridge (got ${transition}).`);
  const out = values.out ?? 'bench-results/storyboard.json';

  const stack = await startStack();
  const results: Run[] = [];
  try {
    const api = (path: string) => `${stack.url}${path}`;
    for (let i = 0; i < runs; i++) {
      // 1. The storyboard command, one take per shot so the shots' part is three renders.
      const t0 = performance.now();
      const start = await postJson(api('/api/commands'), { channel: 'general', user: 'Ana', name: 'storyboard', options: { shots: SHOTS, style: 'on a black background', takes: 1, seed: i } });
      if (start.body.error) throw new Error(`storyboard refused: ${JSON.stringify(start.body.error)}`);
      const thread = start.body.thread as string;
      const posted = async (pattern: RegExp) => ((await getJson(api(`/api/threads/${thread}`))).body.messages as Array<{ text: string }>).filter((m) => pattern.test(m.text)).length;
      await waitFor('every shot\u2019s take', async () => (await posted(/^Take 1 of v\d/)) === 3, 300_000, 50);
      const t1 = performance.now();
      // 2. The cut and its film.
      const cut = await postJson(api('/api/commands'), { thread, user: 'Ana', name: 'cut', options: { transition } });
      if (cut.body.error) throw new Error(`cut refused: ${JSON.stringify(cut.body.error)}`);
      await waitFor('the film', async () => (await posted(/^Film · cut 1/)) === 1, 300_000, 50);
      const t2 = performance.now();
      results.push({ shotsMs: round(t1 - t0), cutMs: round(t2 - t1), totalMs: round(t2 - t0) });
    }
  } finally {
    await stack.cleanup();
  }

  const result: StoryboardBenchResult = {
    measuredAt: new Date().toISOString(),
    host: benchHost(),
    shots: 3,
    transition,
    runs: results,
    shotsStats: stats(results.map((r) => r.shotsMs)),
    cutStats: stats(results.map((r) => r.cutMs)),
    totalStats: stats(results.map((r) => r.totalMs)),
  };
  console.log(`3-shot storyboard through the web chat (${transition}), ${runs} run(s), load ${result.host.loadAvg1m}`);
  console.log('  part                              p50 ms   max ms');
  console.log(`  command -> all takes posted     ${fmt(result.shotsStats.p50)} ${fmt(result.shotsStats.max)}`);
  console.log(`  /cut -> film posted             ${fmt(result.cutStats.p50)} ${fmt(result.cutStats.max)}`);
  console.log(`  command -> film posted          ${fmt(result.totalStats.p50)} ${fmt(result.totalStats.max)}`);
  await writeBenchJson(out, result);
  console.log(`wrote ${out}`);
  return 0;
}
