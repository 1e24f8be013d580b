import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClip, encodePreview, encodeVideo, sampledSource, type FrameSource } from '../../src/media/index.ts';
import { BACKGROUND, SQUARE, ffprobe, movingSquare, near, pixel, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/**
 * A minute at 8 fps, made one frame at a time as it is read (the square's column follows the
 * frame index), counting how often it was read from the start.
 */
function minute(frameCount = 480, noise = 0): FrameSource & { passes: number; made: number } {
  const one = movingSquare({ frames: 32, noise });
  const source = {
    width: 32,
    height: 32,
    fps: 8,
    frameCount,
    passes: 0,
    made: 0,
    async *frames() {
      source.passes++;
      for (let i = 0; i < frameCount; i++) {
        source.made++;
        yield one.frames[i % 32]!.slice();
      }
    },
  };
  return source;
}

describe('encoding from a frame source', () => {
  it('encodes a minute pulled frame by frame into one MP4 at the source frame rate', async () => {
    const source = minute();
    const out = path.join(dir, 'minute.mp4');
    const result = await encodeVideo(source, { path: out, size: 64 });
    expect(result).toMatchObject({ frames: 480, width: 64, height: 64, contentType: 'video/mp4' });
    expect(source.passes).toBe(1);
    const video = (await ffprobe(out)).streams[0]!;
    expect(video.avg_frame_rate).toBe('8/1');
    expect(Number(video.nb_read_frames)).toBe(480);
    // Frame 300 is frame 300 % 32 = 12 of the square's run: the square spans x 12..19.
    const back = await decodeClip(out, { size: { width: 32, height: 32 } });
    expect(back.frames).toHaveLength(480);
    expect(pixel(back, 300, 15, 14)).toSatisfy((p: number[]) => near(p, SQUARE, 40));
    expect(pixel(back, 300, 2, 14)).toSatisfy((p: number[]) => near(p, BACKGROUND, 40));
  });

  it('reads the source again for each rung of the size ladder', async () => {
    const source = minute(64, 40);
    // Too small for the first rung at this size: a second encode must get every frame again.
    const result = await encodeVideo(source, { path: path.join(dir, 'ladder.mp4'), size: 128, maxBytes: 80_000 });
    expect(result.attempts).toBeGreaterThan(1);
    expect(source.passes).toBe(result.attempts);
    expect(result.frames).toBe(64);
  });

  it('fails, leaving no file, when a source gives another number of frames than it announced', async () => {
    const liar = { ...minute(20), frameCount: 30 };
    const out = path.join(dir, 'liar', 'liar.mp4');
    await expect(encodeVideo(liar, { path: out })).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('20 frames where 30') });
    await expect(readdir(path.dirname(out))).resolves.toEqual([]);
    const wrongSize = { width: 16, height: 32, fps: 8, frameCount: 2, frames: minute(2).frames };
    await expect(encodeVideo(wrongSize, { path: out })).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('needs 1536') });
  });

  it('previews a long source as a time-lapse of evenly spread frames at the same rate', async () => {
    const source = minute();
    const lapse = sampledSource(source, 48);
    expect(lapse).toMatchObject({ frameCount: 48, fps: 8, width: 32, height: 32 });
    const picked: Uint8Array[] = [];
    for await (const f of lapse.frames()) picked.push(f);
    expect(picked).toHaveLength(48);
    // Every 10th frame: frame 470 is the last one shown.
    const one = movingSquare({ frames: 32 });
    expect(Buffer.from(picked[47]!).equals(Buffer.from(one.frames[470 % 32]!))).toBe(true);
    const preview = await encodePreview(lapse, { path: path.join(dir, 'lapse'), size: 64 });
    expect(preview.frames).toBe(48);
    expect(sampledSource(minute(30), 48).frameCount).toBe(30);
  });
});

describe('decoding at a given size and frame rate', () => {
  it('scales while decoding and resamples the frame rate', async () => {
    const out = path.join(dir, 'square.mp4');
    await encodeVideo(movingSquare(), { path: out });
    const small = await decodeClip(out, { size: { width: 32, height: 32 } });
    expect(small).toMatchObject({ width: 32, height: 32, fps: 8 });
    expect(small.frames).toHaveLength(16);
    expect(pixel(small, 5, 8, 16)).toSatisfy((p: number[]) => near(p, SQUARE, 30));
    const slower = await decodeClip(out, { size: { width: 16, height: 16 }, fps: 4 });
    expect(slower).toMatchObject({ width: 16, height: 16, fps: 4 });
    expect(slower.frames).toHaveLength(8);
  });
});
