import { isDailiesError } from '../src/errors.ts';

/**
 * `dailies <command>`: each subcommand lives in its own module, imported only when used so that
 * `dailies generate` never loads discord.js and `dailies bot` never loads onnxruntime.
 * A subcommand returns its exit code; a DailiesError becomes one clear line on stderr.
 */
type Subcommand = { describe: string; load: () => Promise<(argv: string[]) => Promise<number>> };

const subcommands: Record<string, Subcommand> = {
  // one line per subcommand: name -> module exporting `run(argv): Promise<number>`
  eval: { describe: 'measure prompt adherence of the built-in model', load: async () => (await import('../models/eval/run-eval.ts')).run },
  bench: { describe: 'time the engine (per step, per clip, batched takes, torch vs onnxruntime)', load: async () => (await import('../bench/engine-bench.ts')).run },
  start: { describe: 'web chat + one worker on the built-in model (+ Discord/Slack when configured)', load: async () => (await import('./start.ts')).run },
  bot: { describe: 'chat adapters and delivery only, for split deployments', load: async () => (await import('./start.ts')).runBot },
  worker: { describe: 'run a render worker (one per GPU: --device N)', load: async () => (await import('./worker.ts')).run },
  'bench-pool': { describe: 'measure the worker pool (ack latency, enqueue-to-start, fairness, overhead)', load: async () => (await import('../bench/ack-bench.ts')).runPoolBench },
  'bench-storyboard': { describe: 'time a 3-shot storyboard through the web chat, command to film', load: async () => (await import('../bench/storyboard-bench.ts')).run },
  register: { describe: 'register the Discord slash commands (guild when DISCORD_GUILD_ID is set)', load: async () => (await import('../bots/discord/register.ts')).run },
  generate: { describe: 'render a prompt to video files', load: async () => (await import('./generate.ts')).run },
  verify: { describe: "check a video's Content Credentials: validity, prompt lineage, contributors", load: async () => (await import('./verify.ts')).run },
  audit: { describe: 'export the audit log (prompts, revisions, votes, removals, withheld takes, refusals)', load: async () => (await import('./audit.ts')).run },
  retention: { describe: 'delete the sessions past DAILIES_RETENTION_DAYS now (--dry-run: count them)', load: async () => (await import('./retention.ts')).run },
};

function usage(): string {
  const lines = Object.entries(subcommands).map(([name, s]) => `  ${name.padEnd(12)} ${s.describe}`);
  return ['Usage: dailies <command> [options]', '', 'Commands:', ...lines, '', 'Run `dailies <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const sub = subcommands[name];
  if (!sub) {
    console.error(`Unknown command "${name}"; run \`dailies --help\` to see the commands.`);
    return 2;
  }
  try {
    const run = await sub.load();
    return await run(rest);
  } catch (error) {
    if (isDailiesError(error)) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
