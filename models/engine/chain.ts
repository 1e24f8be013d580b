import { performance } from 'node:perf_hooks';
import { DailiesError } from '../../src/errors.ts';
import { anchorBackground, chainAnchor, type Rgb } from '../../src/core/background-anchor.ts';
import { continuationStrength, fadeAtJoin, joinFades, keptFrames, planSegments, segmentKnown, segmentSeed, type KnownCut, type Segment } from '../../src/core/segment-plan.ts';
import type { Clip, GenerateRequest, GenerateResult, VideoModel } from '../../src/core/ports/video-model.ts';

/*
 * Renders longer than one model window, as chains of temporal-inpainting calls planned by
 * src/core/segment-plan.ts: continuing a clip forward, leading into one (backward), bridging two,
 * or a long clip from nothing. Every take continues its own frames, so take i of a chain is one
 * video made of take i of every segment.
 */

export interface ChainContext {
  /** The clip the new frames follow (continued forward; a bridge's `from`). At the model's frame size. */
  before?: Clip;
  /** The clip the new frames lead into (extended backward; a bridge's `to`). At the model's frame size. */
  after?: Clip;
}

export interface ChainOptions {
  /** Known frames carried across each join. */
  overlap: number;
  /** Frames per model call (the model's native frame count). */
  window: number;
  /**
   * Where each segment's new frames start, in (0, 1] (GenerateRequest.known.strength): 1 from
   * pure noise, lower from the nearest known frame with its move carried on. Default: the model's (continuationStrength in segment-plan.ts).
   */
  strength?: number;
  /**
   * Fade the chain's own frames beside each join into the next window's rendering of them
   * (fadeAtJoin); default true. Off only to measure what the fade does.
   */
  fade?: boolean;
  /**
   * Keep a flat background the colour the chain starts with (src/core/background-anchor.ts);
   * default true. Off only to measure what it does.
   */
  anchor?: boolean;
  signal?: AbortSignal;
  /** Called as segment k (1-based) of n starts. */
  onSegment?(k: number, n: number): void;
}

/**
 * Renders `base.frames` new frames (default: one window) around `context`. The result has one
 * clip per take holding only the new frames, in time order; the caller puts them next to the
 * context. A still in `base.image` starts the first segment of a chain without context. Frames
 * are at the model's size (the size it decodes to), which context clips must match.
 */
export async function renderChain(model: VideoModel, base: GenerateRequest, context: ChainContext, opts: ChainOptions): Promise<GenerateResult> {
  const started = performance.now();
  if (base.known) throw new DailiesError('bad_input', "A chain takes its known frames from its context; pass the clips as context.before and context.after, not as known frames.");
  const { width, height } = model.defaults;
  for (const [name, clip] of [['before', context.before], ['after', context.after]] as const) {
    if (clip && (clip.width !== width || clip.height !== height)) {
      throw new DailiesError('bad_input', `The clip ${name} the new frames is ${clip.width}x${clip.height}, but ${model.name} renders ${width}x${height}; resize it to the model's size first.`);
    }
  }
  const strength = opts.strength ?? continuationStrength(model.defaults);
  if (!(strength > 0 && strength <= 1)) throw new DailiesError('bad_input', `The continuation strength must be above 0 and at most 1 (got ${strength}).`);
  const before = context.before?.frames ?? [];
  const after = context.after?.frames ?? [];
  const frames = base.frames ?? model.defaults.frames;
  const takes = base.variations ?? 1;
  const plan = planSegments({ frames, window: opts.window, overlap: opts.overlap, headAvailable: before.length, tailAvailable: after.length });

  // Per take, the new frames in time order. Segments run in an order where every frame a
  // segment's known frames are cut from already exists (segment-plan's contract), so the slots
  // still empty are never read.
  const made: Uint8Array[][] = Array.from({ length: takes }, () => new Array<Uint8Array>(frames));
  const timings = { encodePrompt: 0, denoise: 0, decode: 0 };
  const size = { width, height, fps: model.defaults.fps };
  // Per take, the background it keeps: decided at its first window (chainAnchor).
  const anchors = new Map<number, Rgb | undefined>();
  for (const segment of plan) {
    opts.onSegment?.(segment.index + 1, plan.length);
    const known = made.map((mine) => segmentKnown(segment, [...before, ...mine.slice(0, segment.start)], [...mine.slice(segment.start + segment.newFrames), ...after]));
    const request = segmentRequest({ ...base, variations: takes }, segment, known, size, strength);
    const result = await model.generate(request, opts.signal ? { signal: opts.signal } : {});
    result.takes.forEach(({ clip: rendered }, b) => {
      const mine = made[b]!;
      if (!anchors.has(b)) anchors.set(b, opts.anchor === false ? undefined : chainAnchor({ before: before.at(-1), after: after[0], first: rendered.frames[0] }, width, height));
      const anchor = anchors.get(b);
      const clip = anchor ? { ...rendered, frames: anchorBackground(rendered.frames, width, height, anchor) } : rendered;
      if (opts.fade !== false) {
        // Frames this chain made on either side of the window fade into its rendering of them.
        for (const { at, fresh, distance, span } of joinFades(segment, clip)) {
          if (at >= 0 && at < frames && mine[at]) mine[at] = fadeAtJoin(mine[at]!, fresh, distance, span);
        }
      }
      mine.splice(segment.start, segment.newFrames, ...keptFrames(segment, clip));
    });
    for (const key of Object.keys(timings) as (keyof typeof timings)[]) timings[key] += result.timingsMs[key];
  }
  return {
    takes: made.map((frames, b) => ({ seed: base.seed + b, clip: { ...size, frames } })),
    timingsMs: { total: performance.now() - started, ...timings },
  };
}

/**
 * The model call for one segment of a chain: `base` with the segment's window, its seed, and per
 * take the known frames cut by segmentKnown (from the context and the frames made so far; `size`
 * is their frame size), which the new frames start from at `strength`. Below strength 1 the
 * lookback beyond them goes too (the model reads it only there).
 */
function segmentRequest(base: GenerateRequest, segment: Segment, known: KnownCut[], size: Pick<Clip, 'width' | 'height' | 'fps'>, strength: number): GenerateRequest {
  const { image, ...rest } = base;
  const side = (pick: (k: (typeof known)[number]) => Uint8Array[]): Clip[] | undefined => {
    const perTake = known.map(pick);
    if (perTake[0]!.length === 0) return undefined;
    // Takes that share their known frames (the start of a chain: the same context clip) pass one
    // clip, which a latent model then encodes once.
    const shared = perTake.every((frames) => frames.every((f, i) => f === perTake[0]![i]));
    return (shared ? perTake.slice(0, 1) : perTake).map((frames) => ({ ...size, frames }));
  };
  const head = side((k) => k.head);
  const tail = side((k) => k.tail);
  const earlier = strength < 1 ? side((k) => k.earlier) : undefined;
  const later = strength < 1 ? side((k) => k.later) : undefined;
  return {
    ...rest,
    seed: segmentSeed(base.seed, segment.index),
    frames: segment.frames,
    // The still animates the first segment; later ones continue from their known frames.
    ...(image && segment.index === 0 ? { image } : {}),
    ...(head || tail ? { known: { ...(head && { head }), ...(tail && { tail }), ...(earlier && { earlier }), ...(later && { later }), strength } } : {}),
  };
}

