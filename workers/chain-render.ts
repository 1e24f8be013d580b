import { planSegments } from '../src/core/segment-plan.ts';
import type { RenderResult } from '../src/queue/job-wire.ts';
import { DEFAULT_OVERLAP } from '../src/queue/job-cost.ts';
import { FrameTrack, packFrames, pieceOf, RAW_CONTENT_TYPE } from './frame-track.ts';
import { gateLongTake } from './long-take.ts';
import { gatedResult, type GatedTake } from './frame-gate.ts';
import type { RenderContext } from './render-context.ts';
import { discardRun, newFrames, runSegments, type ChainRun } from './segment-runner.ts';

/**
 * A render longer than one model window, or an extension of a video: a chain of segments.
 *
 *   1. source    the video being extended, decoded once at the model's size and frame rate and
 *                kept in the store as raw frames (renders/<jobId>/chain/source.rgb)
 *   2. plan      planSegments: forward from the source's end, backward into its start, or from
 *                nothing; `overlap` known frames carried across every join
 *   3. segments  rendered one window at a time, each stored before the next (segment-runner.ts),
 *                resumable, with a turn for other jobs between two segments
 *   4. takes     per take the whole video (source then new frames, or new frames then source)
 *                streamed from the store to the encoder, and a time-lapse preview
 *   5. clean up  the raw frames, once every take is stored
 */
export async function renderChain(ctx: RenderContext): Promise<RenderResult> {
  const { payload, model } = ctx;
  const r = payload.request;
  const { width, height, fps, frames: window } = model.defaults;
  const timings: Record<string, number> = {};

  // Whatever this job stores as raw frames goes when it ends without a result (or once it has one).
  let run: ChainRun | undefined;
  const discard = async () => {
    if (run) await discardRun(ctx, run);
    if (r.extend) await ctx.store.delete(sourceKey(payload.jobId));
  };
  ctx.onDiscard(discard);

  // 1. The source of an extension, at the model's size.
  let t = Date.now();
  const source = r.extend ? await storedSource(ctx) : FrameTrack.empty(ctx.store, { width, height, fps });
  timings.inputs = Date.now() - t;

  // 2. The plan.
  const backward = r.extend?.direction === 'backward';
  const plan = planSegments({
    frames: r.frames ?? window,
    window,
    overlap: r.extend?.overlap ?? r.overlap ?? DEFAULT_OVERLAP,
    headAvailable: backward ? 0 : source.length,
    tailAvailable: backward ? source.length : 0,
  });
  const none = FrameTrack.empty(ctx.store, { width, height, fps });
  run = {
    name: 'chain',
    prompt: r.prompt,
    takes: r.takes,
    seed: r.seed,
    plan,
    before: backward ? none : source,
    after: backward ? source : none,
  };
  const image = r.image;
  if (image && !r.extend) {
    run.image = async () => ({ frame: await ctx.media.decodeImage(await ctx.store.localPath(image.artifact), { signal: ctx.signal }), strength: image.strength });
  }

  // 3. The segments not yet stored (this may end the turn between two segments).
  const { rendered, generateMs } = await runSegments(ctx, [run]);
  Object.assign(timings, { segments: plan.length, renderedSegments: rendered, generate: generateMs });

  // 4. Each take: the whole video, streamed.
  ctx.releaseModel();
  t = Date.now();
  const gated: GatedTake[] = [];
  for (let take = 0; take < r.takes; take++) {
    ctx.signal.throwIfAborted();
    const made = newFrames(ctx, run, take);
    const video = backward ? made.concat(source) : source.concat(made);
    gated.push(await gateLongTake(ctx, take, r.seed + take, video.source()));
  }
  timings.encode = Date.now() - t;

  // 5. The raw frames are no longer needed.
  await discard().catch((e: Error) => ctx.log(`[worker] cleaning up the chain of ${payload.jobId}: ${e.message}`));
  return { ...gatedResult(gated), timingsMs: timings };
}

function sourceKey(jobId: string): string {
  return `renders/${jobId}/chain/source.rgb`;
}

/** The extension's source as raw frames in the store: decoded on the first turn, found after that. */
async function storedSource(ctx: RenderContext): Promise<FrameTrack> {
  const { width, height, fps } = ctx.model.defaults;
  const frameBytes = width * height * 3;
  const key = sourceKey(ctx.payload.jobId);
  let ref = await ctx.store.stat(key);
  if (!ref || ref.bytes === 0 || ref.bytes % frameBytes !== 0) {
    const file = await ctx.store.localPath(ctx.payload.request.extend!.artifact);
    const clip = await ctx.media.decodeClip(file, { size: { width, height }, fps, signal: ctx.signal });
    ref = await ctx.store.putBuffer(key, packFrames(clip.frames), RAW_CONTENT_TYPE);
  }
  return new FrameTrack(ctx.store, { width, height, fps }, [pieceOf(key, ref.bytes / frameBytes, frameBytes)]);
}
