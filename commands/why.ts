import { defineCommand } from '../src/core/command-context.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { DailiesError } from '../src/errors.ts';
import { describeFinding } from '../src/core/ports/frame-check.ts';
import { withheldLabel } from '../src/core/render-message.ts';
import type { JobRecord, Session } from '../src/core/session.ts';
import { requireSession } from './session-guard.ts';

/**
 * /why (moderators): the frame check's scores for every withheld take in the thread, so a
 * moderator can tell a false alarm from a real one without ever seeing the frames.
 */
export const whyCommand = defineCommand({
  name: 'why',
  description: 'Moderators: show why the frame check withheld takes in this thread.',
  options: optionsObject({}),
  async handler(ctx) {
    const session = requireSession(ctx, 'why');
    if (ctx.user.canModerate !== true) {
      throw new DailiesError('forbidden', 'Only a moderator can see the frame check scores; ask one of your server or workspace moderators.');
    }
    const lines = session.jobs.flatMap((job) => withheldLines(session, job));
    if (lines.length === 0) return { thread: session.thread, ephemeral: 'The frame check has withheld nothing in this thread.' };
    return { thread: session.thread, ephemeral: ['Withheld by the frame check (highest score per label over the frames checked):', ...lines].join('\n') };
  },
});

function withheldLines(session: Session, job: JobRecord): string[] {
  return (job.withheld ?? []).map((w) => {
    const what = withheldLabel(session, job, w.index);
    const scores = Object.entries(w.scores)
      .sort(([, a], [, b]) => b - a)
      .map(([label, score]) => `${label} ${score.toFixed(2)}`)
      .join(', ');
    return `• ${what}: ${describeFinding(w.finding)} over ${w.frames} frames · ${scores}`;
  });
}
