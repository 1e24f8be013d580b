import { defineCommand } from '../src/core/command-context.ts';
import { optionsObject, takeRefOption } from '../src/core/command-options.ts';
import { findVersion } from '../src/core/session-state.ts';
import { formatTakeRef, resolveTakeRef } from '../src/core/take-ref.ts';
import type { JobRecord, Session } from '../src/core/session.ts';
import type { TakeResult } from '../src/core/ports/job-queue.ts';
import { requireSession } from './session-guard.ts';

/**
 * /info take:<ref>: everything needed to make a take again or to talk about it precisely: its
 * whole prompt (threads show prompts shortened), the seed, steps, guidance, length, the model that
 * rendered it, and where it came from. Shown only to the person who asked.
 */
export const infoCommand = defineCommand({
  name: 'info',
  description: 'Show how a take was made: its full prompt, seed, steps, model and parent.',
  options: optionsObject({ take: takeRefOption('take') }),
  async handler(ctx, o) {
    const session = requireSession(ctx, 'info');
    const { job, take } = resolveTakeRef(session, o.take ?? { version: null, take: 0 });
    return { thread: session.thread, ephemeral: describeTake(session, job, take) };
  },
});

function describeTake(session: Session, job: JobRecord, take: TakeResult): string {
  const version = findVersion(session, job.version);
  const request = job.request;
  const lines = [`${formatTakeRef(job.version, take.index)}: take ${take.index + 1} of v${job.version}${job.kind === 'render' ? '' : ` (${job.kind})`}`];
  lines.push(`Prompt: "${request?.prompt ?? version?.prompt ?? ''}"`);
  const negative = request?.negativePrompt ?? version?.negativePrompt;
  if (negative) lines.push(`Negative prompt: "${negative}"`);
  const settings = [
    `seed ${take.seed}`,
    request?.steps !== undefined ? `${request.steps} steps` : "the model's default steps",
    ...(request?.guidance !== undefined ? [`guidance ${request.guidance}`] : []),
    ...(take.frames !== undefined && take.fps ? [`${take.frames} frames at ${take.fps} fps (${(take.frames / take.fps).toFixed(1)} s)`] : []),
    job.quality === 'final' ? 'final quality' : 'draft quality',
  ];
  lines.push(settings.join(' · '));
  lines.push(`Model: ${take.model ?? 'not recorded (rendered before models were recorded)'}`);
  if (version) {
    const parent = version.parent === null ? 'the first version' : `from v${version.parent}`;
    lines.push(`v${version.n} by ${version.author.name}, ${parent}: ${version.change}`);
  }
  if (job.source) lines.push(`Made from ${formatTakeRef(findJobVersion(session, job.source.jobId) ?? job.version, job.source.take)}`);
  if (job.parts?.length) lines.push(`Parts: ${job.parts.join(', ')}`);
  return lines.join('\n');
}

function findJobVersion(session: Session, jobId: string): number | undefined {
  return session.jobs.find((j) => j.jobId === jobId)?.version;
}
