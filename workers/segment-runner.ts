import { chainPreviewSegments, continuationStrength, fadeAtJoin, joinFades, keptFrames, segmentLookback, segmentSeed, type Segment } from '../src/core/segment-plan.ts';
import type { Clip, GenerateRequest } from '../src/core/ports/video-model.ts';
import { stepsFor } from '../src/queue/job-cost.ts';
import { anchorBackground, chainAnchor, type Rgb } from '../src/core/background-anchor.ts';
import { FrameTrack, packFrames, pieceOf, RAW_CONTENT_TYPE } from './frame-track.ts';
import type { RenderContext, SegmentPlace } from './render-context.ts';

/**
 * Renders chains of segments (src/core/segment-plan.ts), one model window at a time, each segment's
 * kept frames stored before the next starts:
 *
 *   renders/<jobId>/<run>/seg-<k>-take-<i>.rgb      raw RGB24 at the model's size, k = segment index
 *
 * That file is the chain's progress. A job re-run after its worker died, a retry, or the next turn
 * of a chain that handed its worker back finds the finished segments in the store and goes on
 * from the first missing one; the known frames a segment needs are read back from the files of
 * the segments (and clips) around it, a few frames each, so nothing of the chain stays in memory
 * between segments and a turn can start on any worker that shares the store.
 */

/** One run of new frames between (optional) known clips: an extension, a long render, a bridge. */
export interface ChainRun {
  /** Folder of its segment files under renders/<jobId>/, e.g. 'chain' or 'bridge-0'. */
  name: string;
  prompt: string;
  /** Takes rendered together; take i continues its own frames. */
  takes: number;
  /** Seed of take 0 of the run (segment seeds are derived from it). */
  seed: number;
  plan: Segment[];
  /** The frames before the run's new frames in time (a clip being continued), shared by every take. */
  before: FrameTrack;
  /** The frames after them (a clip being led into), shared by every take. */
  after: FrameTrack;
  /** A still the first segment starts from (image-to-video), when it has no known frames; read only if that segment is rendered. */
  image?: () => Promise<NonNullable<GenerateRequest['image']>>;
}


export function segmentKey(jobId: string, run: string, segment: number, take: number): string {
  return `renders/${jobId}/${run}/seg-${segment}-take-${take}.rgb`;
}

/** The run's new frames for one take, from the segments given (default: all), in time order. */
export function newFrames(ctx: Pick<RenderContext, 'payload' | 'store' | 'model'>, run: ChainRun, take: number, segments: readonly Segment[] = run.plan): FrameTrack {
  const { width, height, fps } = ctx.model.defaults;
  const frameBytes = width * height * 3;
  const pieces = [...segments].sort((a, b) => a.start - b.start).map((s) => pieceOf(segmentKey(ctx.payload.jobId, run.name, s.index, take), s.newFrames, frameBytes));
  return new FrameTrack(ctx.store, { width, height, fps }, pieces);
}

/**
 * Renders every segment of `runs` not yet in the store, in order; between two segments the job may
 * hand its worker back (ctx.between). Returns how many segments this turn rendered and the time
 * spent in the model.
 */
export async function runSegments(ctx: RenderContext, runs: readonly ChainRun[]): Promise<{ rendered: number; generateMs: number }> {
  const all = runs.flatMap((run) => run.plan.map((segment) => ({ run, segment })));
  const total = all.length;
  // 1. Where to start: after the last stored segment.
  let next = await firstMissing(ctx, all);
  let rendered = 0;
  let generateMs = 0;
  // Previews publish while the next segment renders (an encode each: waiting for them would
  // stall the chain), and are all out before the turn ends.
  const publishing: Promise<void>[] = [];
  let lastPreview = 0;
  const published = async () => {
    await Promise.all(publishing.splice(0));
  };
  try {
    // 2. The segments left, each stored before the next.
    while (next < total) {
      ctx.signal.throwIfAborted();
      const { run, segment } = all[next]!;
      const place = { k: next + 1, n: total };
      const started = Date.now();
      const preview = place.k === 1 || Date.now() - lastPreview >= ctx.previewGapMs;
      const rendering = await renderSegment(ctx, run, segment, place, preview);
      if (rendering.previewed) lastPreview = Date.now();
      publishing.push(rendering.published);
      generateMs += Date.now() - started;
      rendered++;
      next++;
      // 3. A turn for someone else between two segments (this may end the turn: see ctx.between).
      if (next < total) await ctx.between(next, total, published);
    }
  } finally {
    await Promise.allSettled(publishing);
  }
  return { rendered, generateMs };
}

/**
 * Renders one segment (with previews when `preview` and the chain's schedule say so) and stores
 * its kept frames; `published` settles when its previews are out.
 */
async function renderSegment(ctx: RenderContext, run: ChainRun, segment: Segment, place: SegmentPlace, preview: boolean): Promise<{ published: Promise<void>; previewed: boolean }> {
  const { model, payload, signal } = ctx;
  const r = payload.request;
  const steps = stepsFor(r, model.defaults.steps);
  const strength = continuationStrength(model.defaults);
  const done = run.plan.filter((s) => s.index < segment.index);
  const { head, tail, earlier, later } = await segmentKnownClips(ctx, run, segment, done, strength < 1);
  const continued = head.length > 0 || tail.length > 0;
  // A continuation skips the noisiest steps: it runs the last round(steps x strength) of them
  // (the schedulers' rule for a strength, src/core/ports/video-model.ts known.strength).
  const runSteps = continued ? Math.max(1, Math.round(steps * strength)) : steps;
  const request: GenerateRequest = {
    prompt: run.prompt,
    seed: segmentSeed(run.seed, segment.index),
    variations: run.takes,
    frames: segment.frames,
    previewSteps: preview ? previewSteps(place, runSteps) : [],
  };
  if (r.negativePrompt) request.negativePrompt = r.negativePrompt;
  if (r.steps !== undefined || r.quality === 'final') request.steps = steps;
  if (r.guidance !== undefined) request.guidance = r.guidance;
  // New frames start at the model's continuation strength: below 1 from their nearest known frames with the known move carried on, part-way noised.
  if (continued) request.known = { ...(head.length ? { head } : {}), ...(tail.length ? { tail } : {}), ...(earlier.length ? { earlier } : {}), ...(later.length ? { later } : {}), strength };
  else if (run.image && segment.index === 0) request.image = await run.image();

  const previews = ctx.previews(place);
  const quiet = request.previewSteps?.length === 0;
  const result = await model.generate(request, { signal, onStep: ctx.onStep(place), ...(quiet ? {} : { onPreview: previews.push }) });
  // Each take's window with its flat background kept the colour the run keeps.
  const anchors = await runAnchors(ctx, run, segment.start === 0 ? result.takes.map((t) => t.clip) : undefined);
  const { width, height } = model.defaults;
  const windows = result.takes.map(({ clip }, take) => {
    const anchor = anchors[take];
    return anchor ? { ...clip, frames: anchorBackground(clip.frames, width, height, anchor) } : clip;
  });
  // Every take's kept frames, each file whole or absent (the store writes atomically).
  for (const [take, clip] of windows.entries()) {
    const kept = keptFrames(segment, clip);
    await ctx.store.putBuffer(segmentKey(payload.jobId, run.name, segment.index, take), packFrames(kept), RAW_CONTENT_TYPE);
  }
  // Then the joins: only once the segment is stored, so a crash between leaves a join as it was
  // (a resumed chain skips this segment), never faded twice.
  for (const [take, clip] of windows.entries()) await fadeNeighbours(ctx, run, segment, done, take, clip);
  return { published: previews.drain(), previewed: !quiet };
}

/**
 * The background colour each take of the run keeps (chainAnchor in src/core/background-anchor.ts):
 * that of the clip around the run where the new frames meet it, read once for every take, or
 * else each take's own first frame, from `opening` (the windows rendered now, when they hold it)
 * or read back from the store. Read again for every segment, so a resumed run keeps the same
 * colours.
 */
async function runAnchors(ctx: Pick<RenderContext, 'payload' | 'store' | 'model'>, run: ChainRun, opening?: Clip[]): Promise<(Rgb | undefined)[]> {
  const { width, height } = ctx.model.defaults;
  const frameAt = async (track: FrameTrack, at: number) => (await track.clip(at, 1)).frames[0];
  const before = run.before.length > 0 ? await frameAt(run.before, run.before.length - 1) : undefined;
  const after = run.after.length > 0 ? await frameAt(run.after, 0) : undefined;
  const first = run.plan.find((s) => s.start === 0)!;
  const anchors: (Rgb | undefined)[] = [];
  for (let take = 0; take < run.takes; take++) {
    const own = before || after ? undefined : opening ? opening[take]!.frames[first.newAt] : await frameAt(newFrames(ctx, run, take, [first]), 0);
    anchors.push(chainAnchor({ before, after, first: own }, width, height));
  }
  return anchors;
}

/**
 * A segment's known frames, read back from the store, per take: what precedes the window in time
 * (the clip before, then this run's segments before it: `done` holds the segments already
 * rendered) and what follows it (this run's segments after it, then the clip after). With
 * `lookback` (below strength 1, where the model reads it) also the lookback beyond them
 * (segmentLookback in src/core/segment-plan.ts), counted from the frames that exist. A side's
 * frames that lie within the clip around the run are the same for every take: they go to the
 * model once (a latent model then encodes them once). Empty lists for what the segment lacks.
 */
async function segmentKnownClips(
  ctx: Pick<RenderContext, 'payload' | 'store' | 'model'>,
  run: ChainRun,
  segment: Segment,
  done: readonly Segment[],
  lookback: boolean,
): Promise<{ head: Clip[]; tail: Clip[]; earlier: Clip[]; later: Clip[] }> {
  const doneBefore = done.filter((s) => s.start < segment.start);
  const doneAfter = done.filter((s) => s.start > segment.start);
  const madeBefore = doneBefore.reduce((n, s) => n + s.newFrames, 0);
  const madeAfter = doneAfter.reduce((n, s) => n + s.newFrames, 0);
  const before = (take: number) => run.before.concat(newFrames(ctx, run, take, doneBefore));
  const after = (take: number) => newFrames(ctx, run, take, doneAfter).concat(run.after);
  // Frames [from, from + count) of each take's track; `shared`: within the clip around the run.
  const read = async (track: (take: number) => FrameTrack, from: number, count: number, shared: boolean): Promise<Clip[]> => {
    if (count === 0) return [];
    const clips: Clip[] = [];
    for (let take = 0; take < (shared ? 1 : run.takes); take++) clips.push(await track(take).clip(from, count));
    return clips;
  };
  // Before the window: the run's clip, then its frames made so far; after it, the other way round.
  const beforeLength = run.before.length + madeBefore;
  const headAt = beforeLength - segment.head;
  const reach = segmentLookback(segment, beforeLength, madeAfter + run.after.length);
  const [earlier, later] = lookback ? [reach.earlier, reach.later] : [0, 0];
  return {
    head: await read(before, headAt, segment.head, beforeLength <= run.before.length),
    earlier: await read(before, headAt - earlier, earlier, headAt <= run.before.length),
    tail: await read(after, 0, segment.tail, madeAfter === 0),
    later: await read(after, segment.tail, later, segment.tail >= madeAfter),
  };
}

/**
 * Fades this run's stored frames beside the segment's window into the window's rendering of them
 * (fadeAtJoin in src/core/segment-plan.ts), rewriting each neighbour's file whole. Frames of the
 * clips around the run (a video being extended or bridged) are never touched.
 */
async function fadeNeighbours(ctx: RenderContext, run: ChainRun, segment: Segment, done: readonly Segment[], take: number, clip: Clip): Promise<void> {
  const fades = joinFades(segment, clip);
  for (const neighbour of done) {
    const inside = fades.filter(({ at }) => at >= neighbour.start && at < neighbour.start + neighbour.newFrames);
    if (inside.length === 0) continue;
    const frames = await newFrames(ctx, run, take, [neighbour]).read(0, neighbour.newFrames);
    for (const { at, fresh, distance, span } of inside) frames[at - neighbour.start] = fadeAtJoin(frames[at - neighbour.start]!, fresh, distance, span);
    await ctx.store.putBuffer(segmentKey(ctx.payload.jobId, run.name, neighbour.index, take), packFrames(frames), RAW_CONTENT_TYPE);
  }
}

/**
 * Previews of a chain: the first segment's as for any render (the model's default steps), then the
 * finished window of the segment at each quarter of the chain, where the thread shows one (see
 * chainPreviewSegments in src/core/segment-plan.ts), unless the last preview is younger than
 * ctx.previewGapMs (default CHAIN_PREVIEW_GAP_MS). Every other segment previews nothing. A preview is an encode that
 * competes with the model for the CPU: on the built-in model, where a window takes a quarter of a
 * second, the seven previews of a minute-long chain slowed its segments by a third; on a model
 * whose windows take minutes every quarter still gets its picture.
 */
export const CHAIN_PREVIEW_GAP_MS = 10_000;

function previewSteps(place: SegmentPlace, steps: number): number[] | undefined {
  if (place.n === 1 || place.k === 1) return undefined;
  return chainPreviewSegments(place.n).has(place.k) ? [steps] : [];
}

/** Index (0-based) of the first segment whose files are not all in the store. */
async function firstMissing(ctx: RenderContext, all: readonly { run: ChainRun; segment: Segment }[]): Promise<number> {
  const stored = async (i: number) => {
    const { run, segment } = all[i]!;
    const bytes = segment.newFrames * ctx.model.defaults.width * ctx.model.defaults.height * 3;
    for (let take = 0; take < run.takes; take++) {
      const ref = await ctx.store.stat(segmentKey(ctx.payload.jobId, run.name, segment.index, take));
      if (ref?.bytes !== bytes) return false;
    }
    return true;
  };
  // The job's own word for how far it got (its last turn), checked by one look at that segment.
  const hint = Math.min(ctx.resumeHint, all.length);
  if (hint > 0 && (await stored(hint - 1))) return hint;
  // A crash leaves no word: look from the start (the segments are written in order).
  let i = 0;
  while (i < all.length && (await stored(i))) i++;
  return i;
}

/** Deletes a run's segment files (after its result is stored, or when the job ends without one). */
export async function discardRun(ctx: Pick<RenderContext, 'payload' | 'store'>, run: ChainRun): Promise<void> {
  for (const segment of run.plan) {
    for (let take = 0; take < run.takes; take++) await ctx.store.delete(segmentKey(ctx.payload.jobId, run.name, segment.index, take));
  }
}
