import { z } from 'zod';
import { DailiesError, describeZodIssues } from '../errors.ts';
import type { RenderJob } from '../core/ports/job-queue.ts';

/**
 * The render job payload on the wire (version 1). Checked by the producer before it reaches
 * Redis and again by the worker that runs it: a worker may be older or newer than the bot that
 * enqueued the job, and a payload that fails here can never succeed, so it is not retried.
 *
 * Unknown fields are dropped rather than refused, so adding an optional field does not need a
 * new version; anything a v1 worker would misread needs `v: 2`.
 */

// BullMQ refuses purely numeric custom ids (they would clash with its own counter) and uses ':'
// in its keys; the fair-share keys embed job ids, so they stay in a plain alphabet.
const JOB_ID = /^(?=.*[A-Za-z_-])[A-Za-z0-9_-]{1,128}$/;

const artifactRef = z.object({
  key: z.string().min(1).max(512),
  bytes: z.number().int().nonnegative(),
  contentType: z.string().min(1).max(100),
});

const threadRef = z.object({
  platform: z.enum(['local', 'discord', 'slack']),
  channelId: z.string().min(1).max(200),
  threadId: z.string().min(1).max(200),
});

const person = z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(100) });

// What a final's Content Credentials will say (src/core/credits.ts); the worker's signer checks
// the full manifest rules again, these bounds keep the payload small.
const credits = z.object({
  title: z.string().min(1).max(200),
  take: z.object({ version: z.number().int().min(1), take: z.number().int().min(1) }),
  lineage: z
    .array(
      z.object({
        version: z.number().int().min(1),
        prompt: z.string().min(1).max(2000),
        negativePrompt: z.string().max(2000).optional(),
        author: person,
        change: z.string().max(500),
        parent: z.object({ version: z.number().int().min(1) }).nullable(),
      }),
    )
    .min(1)
    .max(100),
  contributors: z.array(z.object({ person, roles: z.array(z.enum(['prompted', 'revised', 'voted', 'finalized'])).min(1) })).max(100),
  anonymous: z.boolean().optional(),
});

const renderRequest = z.object({
  prompt: z.string().trim().min(1).max(2000),
  negativePrompt: z.string().max(2000),
  seed: z.number().int().min(0).max(0xffffffff),
  takes: z.number().int().min(1).max(8),
  steps: z.number().int().min(1).max(500).optional(),
  guidance: z.number().min(0).max(50).optional(),
  // New frames: up to a minute at the model's rate; past one model window the worker chains segments.
  frames: z.number().int().min(1).max(2048).optional(),
  quality: z.enum(['draft', 'final']),
  image: z.object({ artifact: artifactRef, strength: z.number().gt(0).max(1) }).optional(),
  overlap: z.number().int().min(1).max(256).optional(),
  extend: z.object({ artifact: artifactRef, overlap: z.number().int().min(1).max(256), direction: z.enum(['forward', 'backward']).optional() }).optional(),
  cut: z
    .object({
      shots: z.array(z.object({ artifact: artifactRef, label: z.string().min(1).max(200), prompt: z.string().trim().min(1).max(2000) })).min(1).max(12),
      transition: z.enum(['cut', 'fade', 'bridge']),
      overlap: z.number().int().min(1).max(256),
    })
    .optional(),
  credits: credits.optional(),
});

export const renderJobSchema = z.object({
  v: z.literal(1),
  jobId: z.string().regex(JOB_ID, 'must be 1-128 letters, digits, "-" or "_", not only digits'),
  sessionId: z.string().min(1).max(200),
  version: z.number().int().min(1),
  userId: z.string().min(1).max(200),
  channelKey: z.string().min(1).max(300),
  thread: threadRef,
  request: renderRequest,
  model: z.string().min(1).max(200).optional(),
}) satisfies z.ZodType<RenderJob>;

/** Returns the payload as a RenderJob, or throws DailiesError('bad_input') naming the first bad field. */
export function parseRenderJob(data: unknown): RenderJob {
  const result = renderJobSchema.safeParse(data);
  if (!result.success) throw new DailiesError('bad_input', describeZodIssues('Render job', result.error.issues));
  return result.data;
}
