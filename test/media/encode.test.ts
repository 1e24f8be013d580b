import { readdir, readFile, stat } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClip, DEFAULT_PREVIEW_MAX_BYTES, encodePreview, encodeTake, encodeVideo, FfmpegEncoder, reencodeToFit, type VideoEncoder } from '../../src/media/index.ts';
import { BACKGROUND, SQUARE, distinctColours, ffprobe, movingSquare, mp4TopLevelBoxes, near, outOfRange, pixel, rampWidth, tempDir, webpChunks } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** A fresh empty directory per test, so "no files left" checks see only that test's output. */
async function outDir(name: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  const d = path.join(dir, name);
  await mkdir(d, { recursive: true });
  return d;
}

describe('encodeVideo', () => {
  it('writes a faststart H.264 MP4 upscaled to 256 px that decodes back to the same picture', async () => {
    const clip = movingSquare();
    const out = path.join(await outDir('mp4'), 'take.mp4');
    const result = await encodeVideo(clip, { path: out });

    expect(result).toMatchObject({ path: out, width: 256, height: 256, frames: 16, contentType: 'video/mp4', attempts: 1 });
    expect(result.bytes).toBe((await stat(out)).size);

    const probe = await ffprobe(out);
    const video = probe.streams[0]!;
    expect(video).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 256, height: 256, avg_frame_rate: '8/1' });
    expect(Number(video.nb_read_frames)).toBe(16);

    const boxes = await mp4TopLevelBoxes(out);
    expect(boxes.get('moov')).toBeDefined();
    expect(boxes.get('mdat')).toBeDefined();
    expect(boxes.get('moov')!).toBeLessThan(boxes.get('mdat')!);

    const back = await decodeClip(out);
    expect(back).toMatchObject({ width: 256, height: 256, fps: 8 });
    expect(back.frames).toHaveLength(16);
    // Frame 5: the square spans source x 5..12, y 12..19, i.e. 40..103 x 96..159 at 8x.
    expect(pixel(back, 5, 72, 128)).toSatisfy((p: number[]) => near(p, SQUARE, 24));
    expect(pixel(back, 5, 200, 40)).toSatisfy((p: number[]) => near(p, BACKGROUND, 24));
    // The edge stays where it was: 6 px (3/4 of a source pixel) outside the square is background.
    expect(pixel(back, 5, 72, 90)).toSatisfy((p: number[]) => near(p, BACKGROUND, 40));
  });

  it('smooths a finalize render to 24 fps without changing its duration', async () => {
    const out = path.join(await outDir('finalize'), 'final.mp4');
    const result = await encodeVideo(movingSquare(), { path: out, quality: 'finalize' });
    expect(result.frames).toBe(48);
    const video = (await ffprobe(out)).streams[0]!;
    expect(video.avg_frame_rate).toBe('24/1');
    expect(Number(video.nb_read_frames)).toBe(48);
  });

  it('walks down the size ladder when the first encode is over budget', async () => {
    const clip = movingSquare({ noise: 40 });
    const d = await outDir('ladder');
    const first = await encodeVideo(clip, { path: path.join(d, 'first.mp4') });
    expect(first.attempts).toBe(1);

    const maxBytes = first.bytes - 1;
    const fitted = await encodeVideo(clip, { path: path.join(d, 'fitted.mp4'), maxBytes });
    expect(fitted.attempts).toBeGreaterThan(1);
    expect(fitted.bytes).toBeLessThanOrEqual(maxBytes);
    expect((await stat(fitted.path)).size).toBe(fitted.bytes);
    expect((await readdir(d)).sort()).toEqual(['first.mp4', 'fitted.mp4']);
  });

  it('fails with one clear sentence and leaves no files when even the last rung is too big', async () => {
    const d = await outDir('too-small');
    const error = await encodeVideo(movingSquare({ noise: 40 }), { path: path.join(d, 'x.mp4'), maxBytes: 500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'DailiesError',
      code: 'bad_input',
      message: expect.stringMatching(/^The video is still [\d.]+ KiB at the lowest quality and size, over the 500 bytes limit; render fewer frames or raise the limit\.$/),
    });
    expect(await readdir(d)).toEqual([]);
  });

  it('kills ffmpeg and leaves no files when aborted mid-encode', async () => {
    const d = await outDir('abort');
    // Big enough to take seconds (motion interpolation at 512 px), so the abort lands mid-run.
    const clip = movingSquare({ width: 64, height: 64, frames: 48, noise: 40 });
    const controller = new AbortController();
    // Abort once ffmpeg has opened its (temporary) output: the encode is provably under way.
    const watcher = setInterval(() => {
      if (readdirSync(d).some((f) => f.includes('.tmp-'))) controller.abort();
    }, 5);
    const started = performance.now();
    const error = await encodeVideo(clip, { path: path.join(d, 'x.mp4'), quality: 'finalize', size: 512, signal: controller.signal })
      .catch((e: unknown) => e)
      .finally(() => clearInterval(watcher));
    expect(controller.signal.aborted).toBe(true);
    expect(error).toMatchObject({ code: 'cancelled' });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await readdir(d)).toEqual([]);
    expect(ffmpegWritingInto(d)).toEqual([]);
  });

  it('refuses to start when already aborted', async () => {
    const d = await outDir('pre-abort');
    const error = await encodeVideo(movingSquare(), { path: path.join(d, 'x.mp4'), signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled' });
    expect(await readdir(d)).toEqual([]);
  });
});

describe('encodePreview', () => {
  it('writes an animated WebP under the 2 MiB default budget', async () => {
    const out = path.join(await outDir('webp'), 'preview.webp');
    const result = await encodePreview(movingSquare({ noise: 10 }), { path: out });
    expect(result).toMatchObject({ contentType: 'image/webp', width: 256, height: 256, frames: 16, attempts: 1 });
    expect(result.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    const head = await readFile(out);
    expect(head.toString('latin1', 0, 4)).toBe('RIFF');
    expect(head.toString('latin1', 8, 12)).toBe('WEBP');
    const chunks = await webpChunks(out);
    expect(chunks).toContain('ANIM');
    expect(chunks.filter((c) => c === 'ANMF')).toHaveLength(16);
  });

  it('writes a GIF with a per-clip palette when asked', async () => {
    const out = path.join(await outDir('gif'), 'preview.gif');
    const result = await encodePreview(movingSquare(), { path: out, format: 'gif' });
    expect(result).toMatchObject({ contentType: 'image/gif', width: 256, height: 256, frames: 16 });
    expect(readFileSync(out).toString('latin1', 0, 6)).toBe('GIF89a');
    const video = (await ffprobe(out)).streams[0]!;
    expect(video).toMatchObject({ codec_name: 'gif', width: 256, height: 256 });
    expect(Number(video.nb_read_frames)).toBe(16);
    const back = await decodeClip(out);
    expect(pixel(back, 5, 72, 128)).toSatisfy((p: number[]) => near(p, SQUARE, 8));
  });

  it('shrinks a preview to fit a small budget', async () => {
    const d = await outDir('webp-small');
    const clip = movingSquare({ noise: 40 });
    const first = await encodePreview(clip, { path: path.join(d, 'a.webp') });
    const fitted = await encodePreview(clip, { path: path.join(d, 'b.webp'), maxBytes: Math.floor(first.bytes * 0.6) });
    expect(fitted.attempts).toBeGreaterThan(1);
    expect(fitted.bytes).toBeLessThanOrEqual(first.bytes * 0.6);
  });
});

describe('encodeTake', () => {
  /** Runs `fn` with FFMPEG_PATH pointing at a wrapper that logs each ffmpeg start, then counts them. */
  async function countingFfmpegStarts(d: string, fn: () => Promise<unknown>): Promise<number> {
    const { execFileSync } = await import('node:child_process');
    const { chmod, writeFile } = await import('node:fs/promises');
    const real = execFileSync('sh', ['-c', 'command -v ffmpeg']).toString().trim();
    const log = path.join(d, 'starts.log');
    const wrapper = path.join(d, 'ffmpeg-counting');
    await writeFile(wrapper, `#!/bin/sh\necho start >> '${log}'\nexec '${real}' "$@"\n`);
    await chmod(wrapper, 0o755);
    const before = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = wrapper;
    try {
      await fn();
    } finally {
      if (before === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = before;
    }
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0;
  }

  it('writes the MP4 and the preview from one ffmpeg run, each as its own encoder would', async () => {
    const d = await outDir('take');
    const tools = await outDir('take-tools');
    const clip = movingSquare();
    let take!: Awaited<ReturnType<typeof encodeTake>>;
    const starts = await countingFfmpegStarts(tools, async () => {
      take = await encodeTake(clip, { video: { path: path.join(d, 'take.mp4') }, preview: { path: path.join(d, 'take.webp') } });
    });
    expect(starts).toBe(1);
    expect(take.video).toMatchObject({ contentType: 'video/mp4', width: 256, height: 256, frames: 16, attempts: 1 });
    expect(take.preview).toMatchObject({ contentType: 'image/webp', width: 256, height: 256, frames: 16, attempts: 1 });
    expect(take.video.bytes).toBe((await stat(take.video.path)).size);
    expect(take.preview.bytes).toBe((await stat(take.preview.path)).size);
    const back = await decodeClip(take.video.path);
    expect(back.frames).toHaveLength(16);
    expect(pixel(back, 5, 72, 128)).toSatisfy((p: number[]) => near(p, SQUARE, 24));
    expect((await webpChunks(take.preview.path)).filter((c) => c === 'ANMF')).toHaveLength(16);
    expect((await readdir(d)).sort()).toEqual(['take.mp4', 'take.webp']);
  });

  it('smooths a finalize MP4 while the preview keeps the clip frame rate', async () => {
    const d = await outDir('take-finalize');
    const take = await encodeTake(movingSquare(), {
      video: { path: path.join(d, 'final.mp4'), quality: 'finalize' },
      preview: { path: path.join(d, 'final.gif'), format: 'gif' },
    });
    expect(take.video.frames).toBe(48);
    expect(take.preview).toMatchObject({ contentType: 'image/gif', frames: 16 });
    expect(Number((await ffprobe(take.preview.path)).streams[0]!.nb_read_frames)).toBe(16);
  });

  it('walks only the output that is over its budget down the ladder', async () => {
    const d = await outDir('take-ladder');
    const clip = movingSquare({ noise: 40 });
    const alone = await encodePreview(clip, { path: path.join(d, 'alone.webp') });
    const maxBytes = Math.floor(alone.bytes * 0.6);
    const take = await encodeTake(clip, { video: { path: path.join(d, 'take.mp4') }, preview: { path: path.join(d, 'take.webp'), maxBytes } });
    expect(take.video.attempts).toBe(1);
    expect(take.preview.attempts).toBeGreaterThan(1);
    expect(take.preview.bytes).toBeLessThanOrEqual(maxBytes);
    expect((await stat(take.preview.path)).size).toBe(take.preview.bytes);
  });

  it('leaves neither file when one output cannot fit or the run is aborted', async () => {
    const d = await outDir('take-none');
    const clip = movingSquare({ noise: 40 });
    const tooSmall = await encodeTake(clip, { video: { path: path.join(d, 'a.mp4'), maxBytes: 500 }, preview: { path: path.join(d, 'a.webp') } }).catch((e: unknown) => e);
    expect(tooSmall).toMatchObject({ code: 'bad_input', message: expect.stringMatching(/^The video is still/) });
    const aborted = await encodeTake(clip, { video: { path: path.join(d, 'b.mp4') }, preview: { path: path.join(d, 'b.webp') }, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: 'cancelled' });
    expect(await readdir(d)).toEqual([]);
  });
});

describe('upscaling a 32 px clip', () => {
  // Frame 5's square spans source x 5..12, so row y = height / 2 crosses two of its edges.
  const edges = (clip: Awaited<ReturnType<typeof decodeClip>>) => rampWidth(clip, 5, clip.height / 2, BACKGROUND, SQUARE);

  it('ramps across edges without halos in the MP4 and the GIF, at every size of the size ladder', async () => {
    const d = await outDir('smooth');
    // 256 px and the ladder's 0.75 and 0.5 rungs of it: 8x, 6x and 4x.
    for (const size of [256, 192, 128]) {
      const take = await encodeTake(movingSquare(), {
        video: { path: path.join(d, `${size}.mp4`), size },
        preview: { path: path.join(d, `${size}.gif`), size, format: 'gif' },
      });
      const mp4 = await decodeClip(take.video.path);
      const gif = await decodeClip(take.preview.path);
      const at = (x: number) => Math.round((x * size) / 32);
      for (const back of [mp4, gif]) {
        expect(back.width).toBe(size);
        // Nearest-neighbour steps from background to square: no pixel in between (0).
        expect(edges(back)).toBeGreaterThanOrEqual(2);
        // Still the square where it was: inside, outside, and either side of its left edge (source x 5).
        expect(pixel(back, 5, at(9), size / 2)).toSatisfy((p: number[]) => near(p, SQUARE, 24));
        expect(pixel(back, 5, at(2), size / 2)).toSatisfy((p: number[]) => near(p, BACKGROUND, 24));
        expect(pixel(back, 5, at(3.5), size / 2)).toSatisfy((p: number[]) => near(p, BACKGROUND, 40));
        expect(pixel(back, 5, at(6.5), size / 2)).toSatisfy((p: number[]) => near(p, SQUARE, 40));
      }
      // The GIF's palette holds the ramp's blends, and nothing beyond the two colours' range:
      // lanczos or bicubic would ring 25-30 levels past it; nearest-neighbour gives 2 colours.
      expect(distinctColours(gif, 5)).toBeGreaterThanOrEqual(16);
      expect(outOfRange(gif, 5, [BACKGROUND, SQUARE])).toBeLessThanOrEqual(4);
      // H.264 adds a few levels of its own (7-10 here); lanczos or bicubic reach 30.
      expect(outOfRange(mp4, 5, [BACKGROUND, SQUARE])).toBeLessThanOrEqual(18);
    }
  });

  it('keeps a long take\'s 48-frame GIF preview of a grainy clip within the default budget in one encode', async () => {
    const d = await outDir('smooth-gif-budget');
    const preview = await encodePreview(movingSquare({ frames: 48, noise: 2 }), { path: path.join(d, 'long.gif'), format: 'gif' });
    expect(preview).toMatchObject({ contentType: 'image/gif', width: 256, frames: 48, attempts: 1 });
    expect(preview.bytes).toBeLessThanOrEqual(DEFAULT_PREVIEW_MAX_BYTES);
  });

  it('walks a GIF preview down the size ladder to fit a small budget, still smooth', async () => {
    const d = await outDir('smooth-gif-ladder');
    const clip = movingSquare({ noise: 10 });
    const first = await encodePreview(clip, { path: path.join(d, 'a.gif'), format: 'gif' });
    const maxBytes = Math.floor(first.bytes * 0.6);
    const fitted = await encodePreview(clip, { path: path.join(d, 'b.gif'), format: 'gif', maxBytes });
    expect(fitted.attempts).toBeGreaterThan(1);
    expect(fitted.bytes).toBeLessThanOrEqual(maxBytes);
    expect(edges(await decodeClip(fitted.path))).toBeGreaterThanOrEqual(2);
  });
});

describe('reencodeToFit', () => {
  it('re-encodes an MP4 under a lower upload cap, and copies one that already fits', async () => {
    const d = await outDir('reencode');
    const encoder: VideoEncoder = new FfmpegEncoder();
    const original = await encoder.encodeVideo(movingSquare({ noise: 40 }), { path: path.join(d, 'original.mp4'), quality: 'finalize' });

    const cap = Math.floor(original.bytes / 2);
    const smaller = await encoder.reencodeToFit(original.path, cap, path.join(d, 'small.mp4'));
    expect(smaller.bytes).toBeLessThanOrEqual(cap);
    expect(smaller.attempts).toBeGreaterThanOrEqual(1);
    expect(smaller.frames).toBe(48);
    const video = (await ffprobe(smaller.path)).streams[0]!;
    expect(video).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    expect((await mp4TopLevelBoxes(smaller.path)).get('moov')!).toBeLessThan((await mp4TopLevelBoxes(smaller.path)).get('mdat')!);

    const copy = await encoder.reencodeToFit(original.path, original.bytes, path.join(d, 'copy.mp4'));
    expect(copy).toMatchObject({ attempts: 0, bytes: original.bytes, width: 256, height: 256 });
    expect((await readdir(d)).sort()).toEqual(['copy.mp4', 'original.mp4', 'small.mp4']);
  });
});

/** Live ffmpeg processes whose command line mentions `dir` (Linux only; empty elsewhere). */
function ffmpegWritingInto(dir: string): string[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        return cmd.includes('ffmpeg') && cmd.includes(dir) ? [pid] : [];
      } catch {
        return [];
      }
    });
}
