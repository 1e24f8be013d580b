import { z } from 'zod';
import { DailiesError } from '../../src/errors.ts';
import type { ModelManifest } from './manifest.ts';
import { SCHEDULER_NAMES, type SchedulerName } from './schedulers/names.ts';
import type { Clip, GenerateRequest } from '../../src/core/ports/video-model.ts';

/*
 * Stage 1 of the pipeline: a GenerateRequest checked against one model's limits, with every
 * default filled in. Messages name the field and the allowed range, because they go straight
 * back to the person who typed the command.
 */

export interface ResolvedRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  frames: number;
  variations: number;
  scheduler: SchedulerName;
  image?: { frame: Clip; strength: number };
  /**
   * Known frames, present only when at least one side has clips; each side 1 clip or one per take.
   * `strength` (default 1) shortens the schedule and starts the new frames from the known ones.
   * `earlier` / `later` (lookback, only beside a head / a tail): frames further out, read only below
   * strength 1 to work out that start.
   */
  known?: { head?: Clip[]; tail?: Clip[]; earlier?: Clip[]; later?: Clip[]; strength: number };
  /** 1-based steps after which to preview, ascending; undefined: the default spacing. */
  previewSteps?: number[];
}

export const MAX_PROMPT = 1000;
const MAX_SEED = 2 ** 32 - 1;
const MAX_SIDE = 4096;
/**
 * Most frames in one lookback clip (known.earlier / known.later). A chain sends LOOKBACK_FRAMES
 * (src/core/segment-plan.ts); more costs measuring time (and VAE encodes) for motion too old to
 * carry on.
 */
export const MAX_LOOKBACK_FRAMES = 128;

const got = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? JSON.stringify(v) : typeof v);

function whole(min: number, max: number) {
  const msg = (v: unknown) => `must be a whole number from ${min} to ${max} (got ${got(v)})`;
  return z.number({ error: (iss) => msg(iss.input) }).refine((v) => Number.isInteger(v) && v >= min && v <= max, { error: (iss) => msg(iss.input) });
}

function between(min: number, max: number) {
  const msg = (v: unknown) => `must be a number from ${min} to ${max} (got ${got(v)})`;
  return z.number({ error: (iss) => msg(iss.input) }).refine((v) => Number.isFinite(v) && v >= min && v <= max, { error: (iss) => msg(iss.input) });
}

const ClipSchema = z
  .object({
    width: whole(1, MAX_SIDE),
    height: whole(1, MAX_SIDE),
    fps: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }),
    frames: z.array(z.instanceof(Uint8Array, { error: 'must be RGB24 bytes (Uint8Array)' }), { error: 'must be a list of frames' }).min(1, { error: 'must hold at least one frame' }),
  })
  .superRefine((clip, ctx) => {
    const bytes = clip.width * clip.height * 3;
    clip.frames.forEach((f, i) => {
      if (f.length !== bytes) ctx.addIssue({ code: 'custom', path: ['frames', i], message: `must hold width*height*3 = ${bytes} bytes (got ${f.length})` });
    });
  });

function requestSchema(m: ModelManifest) {
  const L = m.limits;
  return z
    .object({
      prompt: z
        .string({ error: 'must be text' })
        .max(MAX_PROMPT, { error: (iss) => `must be at most ${MAX_PROMPT} characters (got ${String((iss.input as string).length)})` })
        .refine((s) => s.trim().length > 0, { error: `must not be blank; describe the video in 1 to ${MAX_PROMPT} characters` }),
      negativePrompt: z.string({ error: 'must be text' }).max(MAX_PROMPT, { error: `must be at most ${MAX_PROMPT} characters` }).optional(),
      seed: whole(0, MAX_SEED),
      steps: whole(L.steps.min, L.steps.max).optional(),
      guidance: between(L.guidance.min, L.guidance.max).optional(),
      frames: whole(L.frames.min, L.frames.max).optional(),
      variations: whole(L.variations.min, L.variations.max).optional(),
      scheduler: z.enum(SCHEDULER_NAMES, { error: `must be one of ${SCHEDULER_NAMES.map((n) => `"${n}"`).join(', ')}` }).optional(),
      image: z
        .object({
          frame: ClipSchema,
          strength: z.number({ error: 'must be a number above 0 and at most 1' }).refine((v) => v > 0 && v <= 1, { error: (iss) => `must be above 0 and at most 1 (got ${got(iss.input)})` }),
        })
        .optional(),
      known: z
        .object({
          head: z.array(ClipSchema, { error: 'must be a list of clips' }).optional(),
          tail: z.array(ClipSchema, { error: 'must be a list of clips' }).optional(),
          earlier: z.array(ClipSchema, { error: 'must be a list of clips' }).optional(),
          later: z.array(ClipSchema, { error: 'must be a list of clips' }).optional(),
          strength: z.number({ error: 'must be a number above 0 and at most 1' }).refine((v) => v > 0 && v <= 1, { error: (iss) => `must be above 0 and at most 1 (got ${got(iss.input)})` }).optional(),
        })
        .optional(),
      previewSteps: z.array(whole(1, L.steps.max), { error: 'must be a list of step numbers' }).optional(),
    })
    .superRefine((r, ctx) => {
      const frames = r.frames ?? m.defaults.frames;
      const steps = r.steps ?? m.defaults.steps;
      const variations = r.variations ?? Math.max(1, L.variations.min);
      const head = r.known?.head;
      const tail = r.known?.tail;
      const earlier = r.known?.earlier;
      const later = r.known?.later;
      if (r.image && (head || tail)) ctx.addIssue({ code: 'custom', path: ['image'], message: 'cannot be combined with known frames; start from an image or continue a clip, not both' });
      // Lookback reaches past a side's known frames, so it needs that side.
      if (earlier && !head) ctx.addIssue({ code: 'custom', path: ['known', 'earlier'], message: 'only goes with head clips, as the frames before them; pass head clips too, or drop it' });
      if (later && !tail) ctx.addIssue({ code: 'custom', path: ['known', 'later'], message: 'only goes with tail clips, as the frames after them; pass tail clips too, or drop it' });
      for (const [side, clips] of [['head', head], ['tail', tail], ['earlier', earlier], ['later', later]] as const) {
        if (!clips) continue;
        if (clips.length !== 1 && clips.length !== variations) {
          const allowed = variations === 1 ? 'one clip' : `one clip for every take or one per take, 1 or ${variations} clips`;
          ctx.addIssue({ code: 'custom', path: ['known', side], message: `must hold ${allowed} (got ${clips.length})` });
        }
        // The known frames sit at the same place in every take's window.
        const odd = clips.find((c) => c.frames.length !== clips[0]!.frames.length);
        if (odd) {
          ctx.addIssue({ code: 'custom', path: ['known', side], message: `clips must all hold the same number of frames (got ${clips[0]!.frames.length} and ${odd.frames.length})` });
        }
      }
      for (const [side, clips] of [['earlier', earlier], ['later', later]] as const) {
        const long = clips?.findIndex((c) => c.frames.length > MAX_LOOKBACK_FRAMES) ?? -1;
        if (long >= 0) {
          ctx.addIssue({ code: 'custom', path: ['known', side, long, 'frames'], message: `must hold at most ${MAX_LOOKBACK_FRAMES} frames (got ${clips![long]!.frames.length}); pass the ones nearest the window` });
        }
      }
      if (r.known?.strength !== undefined && !head && !tail) {
        ctx.addIssue({ code: 'custom', path: ['known', 'strength'], message: 'only applies to known frames; pass head or tail clips, or drop it' });
      }
      const [h, t] = [head?.[0]?.frames.length ?? 0, tail?.[0]?.frames.length ?? 0];
      if (h + t >= frames) {
        ctx.addIssue({ code: 'custom', path: ['known'], message: `holds ${h} head and ${t} tail frames, which leaves no new frame in ${frames} frames; keep fewer known frames or render more frames` });
      }
      const late = r.previewSteps?.find((s) => s > steps);
      if (late !== undefined) ctx.addIssue({ code: 'custom', path: ['previewSteps'], message: `must be steps from 1 to ${steps} (got ${late})` });
    });
}

/** Validates `request` for model `m`, or throws DailiesError('bad_input') with one sentence. */
export function checkRequest(request: GenerateRequest, m: ModelManifest): ResolvedRequest {
  const parsed = requestSchema(m).safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'request';
    throw new DailiesError('bad_input', `${field} ${issue.message.replace(/\.$/, '')}.`);
  }
  const r = parsed.data;
  const steps = r.steps ?? m.defaults.steps;
  return {
    prompt: r.prompt,
    negativePrompt: r.negativePrompt ?? m.defaults.negativePrompt,
    seed: r.seed,
    steps,
    guidance: r.guidance ?? m.defaults.guidance,
    frames: r.frames ?? m.defaults.frames,
    variations: r.variations ?? Math.max(1, m.limits.variations.min),
    scheduler: r.scheduler ?? m.scheduler.default,
    ...(r.image ? { image: { frame: r.image.frame as Clip, strength: r.image.strength } } : {}),
    ...(r.known?.head || r.known?.tail ? { known: resolvedKnown(r.known as NonNullable<GenerateRequest['known']>) } : {}),
    ...(r.previewSteps ? { previewSteps: [...new Set(r.previewSteps)].sort((a, b) => a - b) } : {}),
  };
}

function resolvedKnown(known: NonNullable<GenerateRequest['known']>): NonNullable<ResolvedRequest['known']> {
  const { head, tail, earlier, later, strength } = known;
  return { ...(head ? { head } : {}), ...(tail ? { tail } : {}), ...(earlier ? { earlier } : {}), ...(later ? { later } : {}), strength: strength ?? 1 };
}

/** About four evenly spaced steps before the last (the final result follows anyway). */
export function defaultPreviewSteps(totalSteps: number): number[] {
  const picks = [1, 2, 3, 4].map((k) => Math.round((totalSteps * k) / 5)).filter((s) => s >= 1 && s < totalSteps);
  return [...new Set(picks)];
}
