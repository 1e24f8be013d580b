import { defineCommand } from '../src/core/command-context.ts';
import { formatDuration } from '../src/core/render-message.ts';
import { activeJobs } from '../src/core/session-state.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { requireSession } from './session-guard.ts';

/** /status: where this session's renders are in the queue, and roughly when they will be done. */
export const statusCommand = defineCommand({
  name: 'status',
  description: "Show this session's renders: place in the queue and estimated wait.",
  options: optionsObject({}),
  async handler(ctx) {
    const session = requireSession(ctx, 'status');
    const active = activeJobs(session);
    if (active.length === 0) {
      const last = session.jobs.at(-1);
      return { thread: session.thread, ephemeral: last ? `Nothing is rendering; the last render (v${last.version}) is ${last.state}.` : 'Nothing has been rendered in this session yet.' };
    }
    const lines = await Promise.all(
      active.map(async (job) => {
        const status = await ctx.queue.status(job.jobId);
        const label = `v${job.version} (${job.kind === 'render' ? `${job.takes} take${job.takes === 1 ? '' : 's'}` : job.kind})`;
        if (status.state === 'waiting') {
          const where = status.position !== null ? `number ${status.position} in line` : 'waiting';
          return `${label}: ${where}${status.etaMs !== null ? `, about ${formatDuration(status.etaMs)}` : ''}.`;
        }
        if (status.state === 'active') return `${label}: rendering${status.etaMs !== null ? `, about ${formatDuration(status.etaMs)} left` : ''}.`;
        // Recorded, and handed to the queue right after the command was answered.
        if (status.state === 'unknown' && job.state === 'queued') return `${label}: joining the queue.`;
        return `${label}: ${status.state}.`;
      }),
    );
    return { thread: session.thread, ephemeral: lines.join('\n') };
  },
});
