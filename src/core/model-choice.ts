import { DailiesError } from '../errors.ts';
import type { CommandContext } from './command-context.ts';
import type { ModelSummary } from './ports/model-catalog.ts';

/**
 * `model:` on /video and /storyboard: the name as the pool knows it, or one sentence when no
 * worker serves it (src/queue/model-queues.ts decides, from the workers' heartbeats). Read before
 * anything is recorded, so a refusal leaves nothing behind.
 */
export async function pickModel(ctx: Pick<CommandContext, 'models'>, name: string): Promise<string> {
  if (!ctx.models) throw new DailiesError('bad_input', 'This server renders with one model; leave out model:.');
  return ctx.models.resolve(name);
}

/** One line per model for /models, e.g. `shapes-v2 (default): 2 workers, 1 waiting, about 4.2 s a render`. */
export function describeModels(models: readonly ModelSummary[], now: number): string {
  const lines = models.map((m) => {
    const name = `${m.name}${m.isDefault ? ' (default)' : ''}`;
    if (m.workers === 0) {
      const seen = m.lastSeenAt === null ? 'no worker has started yet' : `no worker right now (last seen ${ago(now - m.lastSeenAt)} ago)`;
      return `• ${name}: ${seen}${m.waiting ? `, ${m.waiting} waiting` : ''}`;
    }
    const speed = m.averageRenderMs === null ? 'no render timed yet' : `about ${seconds(m.averageRenderMs)} a render`;
    const slots = m.slots === m.workers ? '' : ` (${m.slots} render slots)`;
    return `• ${name}: ${m.workers} worker${m.workers === 1 ? '' : 's'}${slots}, ${m.waiting} waiting, ${speed}`;
  });
  return ['Models you can render with (pick one with model:<name> on /video or /storyboard):', ...lines].join('\n');
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function ago(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `${Math.round(minutes / 60)} hours`;
}
