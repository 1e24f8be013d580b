import { planSegments } from '../src/core/segment-plan.ts';
import type { CutSpec } from '../src/core/ports/job-queue.ts';
import type { FrameSource } from '../src/media/index.ts';
import type { RenderResult } from '../src/queue/job-wire.ts';
import { FrameTrack, packFrames, pieceOf, RAW_CONTENT_TYPE } from './frame-track.ts';
import { gateLongTake } from './long-take.ts';
import { gatedResult } from './frame-gate.ts';
import type { RenderContext } from './render-context.ts';
import { discardRun, newFrames, runSegments, type ChainRun } from './segment-runner.ts';

/**
 * A film from finished takes (request.cut): one take, the shots in order, joined by
 *
 *   cut     back to back;
 *   fade    a cross-fade of FADE_SECONDS: the last frames of one shot dissolve into the first
 *           frames of the next (the film is that much shorter per join);
 *   bridge  a generated transition per join, a chain between two known ends: the last `overlap`
 *           frames of the shot before and the first `overlap` frames of the shot after, rendered
 *           with the later shot's prompt, `request.frames` (default window - 2 x overlap) new
 *           frames long. A /bridge from A to B is a cut of two shots: A, the transition, B.
 *
 *   1. shots    each decoded once at the model's size and frame rate, kept in the store as raw
 *               frames (renders/<jobId>/cut/shot-<s>.rgb), so a re-run or a later turn finds them
 *   2. bridges  the transitions' segments (segment-runner.ts), resumable, with turns for others
 *   3. film     streamed from the store to the encoder, with its time-lapse preview
 *   4. clean up the raw frames
 */

/**
 * Half a second: long enough to read as a dissolve rather than a glitch, short enough to keep
 * both shots' motion (4 frames at the built-in model's 8 fps, a quarter of a 2-second shot).
 */
export const FADE_SECONDS = 0.5;

export async function renderCut(ctx: RenderContext, cut: CutSpec): Promise<RenderResult> {
  const { payload, model } = ctx;
  const r = payload.request;
  const { width, height, fps, frames: window } = model.defaults;
  const timings: Record<string, number> = {};

  // Whatever this job stores as raw frames goes when it ends without a result (or once it has one).
  let bridges: ChainRun[] = [];
  const discard = async () => {
    for (const run of bridges) await discardRun(ctx, run);
    for (const s of cut.shots.keys()) await ctx.store.delete(shotKey(payload.jobId, s));
  };
  ctx.onDiscard(discard);

  // 1. The shots at the model's size.
  let t = Date.now();
  const shots: FrameTrack[] = [];
  for (const [s, shot] of cut.shots.entries()) {
    ctx.signal.throwIfAborted();
    shots.push(await storedShot(ctx, s, shot.artifact));
  }
  timings.inputs = Date.now() - t;

  // 2. The generated transitions.
  bridges =
    cut.transition !== 'bridge'
      ? []
      : shots.slice(1).map((after, j) => {
          const before = shots[j]!;
          const overlap = cut.overlap;
          return {
            name: `bridge-${j}`,
            prompt: cut.shots[j + 1]!.prompt,
            takes: 1,
            seed: (r.seed + j) >>> 0,
            plan: planSegments({ frames: r.frames ?? Math.max(1, window - 2 * overlap), window, overlap, headAvailable: before.length, tailAvailable: after.length }),
            before,
            after,
          };
        });
  const { rendered, generateMs } = await runSegments(ctx, bridges);
  Object.assign(timings, { segments: bridges.reduce((n, b) => n + b.plan.length, 0), renderedSegments: rendered, generate: generateMs });

  // 3. The film.
  ctx.releaseModel();
  t = Date.now();
  ctx.signal.throwIfAborted();
  let film: FrameSource;
  if (cut.transition === 'fade') {
    film = crossFaded(shots, Math.max(1, Math.round(FADE_SECONDS * fps)));
  } else {
    const parts = shots.flatMap((shot, s) => (s > 0 && bridges[s - 1] ? [newFrames(ctx, bridges[s - 1]!, 0), shot] : [shot]));
    film = parts[0]!.concat(...parts.slice(1)).source();
  }
  const take = await gateLongTake(ctx, 0, r.seed, film);
  timings.encode = Date.now() - t;

  // 4. The raw frames are no longer needed.
  await discard().catch((e: Error) => ctx.log(`[worker] cleaning up the cut of ${payload.jobId}: ${e.message}`));
  return { ...gatedResult([take]), timingsMs: timings };
}

function shotKey(jobId: string, shot: number): string {
  return `renders/${jobId}/cut/shot-${shot}.rgb`;
}

async function storedShot(ctx: RenderContext, index: number, artifact: CutSpec['shots'][number]['artifact']): Promise<FrameTrack> {
  const { width, height, fps } = ctx.model.defaults;
  const frameBytes = width * height * 3;
  const key = shotKey(ctx.payload.jobId, index);
  let ref = await ctx.store.stat(key);
  if (!ref || ref.bytes === 0 || ref.bytes % frameBytes !== 0) {
    const file = await ctx.store.localPath(artifact);
    const clip = await ctx.media.decodeClip(file, { size: { width, height }, fps, signal: ctx.signal });
    ref = await ctx.store.putBuffer(key, packFrames(clip.frames), RAW_CONTENT_TYPE);
  }
  return new FrameTrack(ctx.store, { width, height, fps }, [pieceOf(key, ref.bytes / frameBytes, frameBytes)]);
}

/**
 * The shots in order, each join a linear dissolve over `fade` frames taken from both sides (no
 * more than half of either shot, so a short shot still shows on its own). Weights run
 * 1/(f+1) .. f/(f+1): neither end of the dissolve repeats a frame of the shots.
 */
export function crossFaded(shots: readonly FrameTrack[], fade: number): FrameSource {
  const joins = shots.slice(1).map((after, j) => Math.min(fade, Math.floor(shots[j]!.length / 2), Math.floor(after.length / 2)));
  const first = shots[0]!;
  return {
    ...first.format,
    frameCount: shots.reduce((n, s) => n + s.length, 0) - joins.reduce((n, f) => n + f, 0),
    async *frames() {
      for (const [s, shot] of shots.entries()) {
        const from = s > 0 ? joins[s - 1]! : 0;
        const out = s < joins.length ? joins[s]! : 0;
        yield* shot.stream(from, shot.length - from - out);
        if (out === 0) continue;
        const a = await shot.last(out);
        const b = await shots[s + 1]!.first(out);
        for (let i = 0; i < out; i++) yield blend(a[i]!, b[i]!, (i + 1) / (out + 1));
      }
    },
  };
}

function blend(a: Uint8Array, b: Uint8Array, w: number): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i]! * (1 - w) + b[i]! * w);
  return out;
}
