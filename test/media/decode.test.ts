import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClip, decodeImage, encodePreview, resizeClip } from '../../src/media/index.ts';
import type { Clip } from '../../src/core/ports/video-model.ts';
import { withExifGps } from '../local/image-fixtures.ts';
import { BACKGROUND, SQUARE, distinctColours, movingSquare, near, outOfRange, pixel, rampWidth, tempDir, writeImage } from './helpers.ts';

const RED = [250, 20, 20];
const GREEN = [20, 220, 40];
const BLUE = [30, 40, 240];
const WHITE = [255, 255, 255];

/** 40x24, one colour per quadrant: red top-left, green top-right, blue bottom-left, white bottom-right. */
function quadrants(width = 40, height = 24): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : WHITE;
      rgb.set(colour, (y * width + x) * 3);
    }
  }
  return rgb;
}

let dir: string;
let cleanup: () => Promise<void>;
let png: string;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  png = path.join(dir, 'still.png');
  await writeImage(quadrants(), 40, 24, png);
});
afterAll(() => cleanup());

describe('decodeImage', () => {
  it('reads a PNG file to one RGB frame of the right size and colours', async () => {
    const clip = await decodeImage(png);
    expect(clip).toMatchObject({ width: 40, height: 24, fps: 1 });
    expect(clip.frames).toHaveLength(1);
    expect(clip.frames[0]).toEqual(quadrants());
  });

  it('reads the same PNG from a buffer', async () => {
    const clip = await decodeImage(await readFile(png), { name: 'upload.png' });
    expect(clip.frames[0]).toEqual(quadrants());
  });

  it('reads a JPEG with colours roughly intact', async () => {
    const jpeg = path.join(dir, 'still.jpg');
    await writeImage(quadrants(), 40, 24, jpeg);
    const clip = await decodeImage(jpeg);
    expect(clip).toMatchObject({ width: 40, height: 24 });
    expect(pixel(clip, 0, 5, 3)).toSatisfy((p: number[]) => near(p, RED, 40));
    expect(pixel(clip, 0, 35, 20)).toSatisfy((p: number[]) => near(p, WHITE, 40));
  });

  it("turns a phone photo upright by its EXIF orientation, as the phone shows it, instead of shearing it", async () => {
    const jpeg = path.join(dir, 'stored-sideways.jpg');
    await writeImage(quadrants(), 40, 24, jpeg);
    // Orientation 6: shown turned 90° clockwise, so the stored bottom-left (blue) is shown top-left.
    const turned = path.join(dir, 'portrait.jpg');
    await writeFile(turned, withExifGps(await readFile(jpeg), 6));
    const clip = await decodeImage(turned);
    expect(clip).toMatchObject({ width: 24, height: 40 });
    expect(pixel(clip, 0, 3, 5)).toSatisfy((p: number[]) => near(p, BLUE, 40));
    expect(pixel(clip, 0, 20, 5)).toSatisfy((p: number[]) => near(p, RED, 40));
    expect(pixel(clip, 0, 3, 35)).toSatisfy((p: number[]) => near(p, WHITE, 40));
    expect(pixel(clip, 0, 20, 35)).toSatisfy((p: number[]) => near(p, GREEN, 40));
  });

  it('rejects a text file with one sentence, even one ffmpeg would read as ANSI art', async () => {
    const txt = path.join(dir, 'x.txt');
    // Long enough that ffmpeg's "tty" demuxer would happily turn it into video.
    await writeFile(txt, Array.from({ length: 200 }, (_, i) => `line ${i} of some notes`).join('\n'));
    const error = await decodeImage(txt).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'DailiesError',
      code: 'bad_input',
      message: 'The file "x.txt" is not an image ffmpeg can read; use a PNG, JPEG or WebP.',
    });
  });

  it('rejects an unreadable buffer without a name', async () => {
    await expect(decodeImage(Buffer.from('definitely not an image'))).rejects.toMatchObject({
      code: 'bad_input',
      message: 'The uploaded file is not an image ffmpeg can read; use a PNG, JPEG or WebP.',
    });
  });

  it('rejects an HLS playlist disguised as a video instead of following it', async () => {
    const evil = path.join(dir, 'clip.mp4');
    await writeFile(evil, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${png}\n#EXT-X-ENDLIST\n`);
    await expect(decodeClip(evil)).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('says plainly that animated WebP (our own previews) cannot be read by this ffmpeg', async () => {
    const webp = path.join(dir, 'preview.webp');
    await encodePreview(movingSquare({ frames: 3 }), { path: webp, format: 'webp', size: 32 });
    await expect(decodeImage(webp)).rejects.toMatchObject({
      code: 'bad_input',
      message: 'The file "preview.webp" is an animated WebP, which this ffmpeg cannot read; use a PNG, JPEG or still WebP.',
    });
  });

  it('reports a missing file as not found', async () => {
    await expect(decodeImage(path.join(dir, 'nope.png'))).rejects.toMatchObject({
      code: 'not_found',
      message: 'The file "nope.png" does not exist; check the path and try again.',
    });
  });

  it('refuses images over the pixel limit', async () => {
    await expect(decodeImage(png, { maxPixels: 20 * 20 })).rejects.toMatchObject({
      code: 'bad_input',
      message: 'The file "still.png" is 40x24 pixels, more than the 20x20 we accept; scale it down and try again.',
    });
  });
});

describe('decodeClip', () => {
  it('reads a GIF with its frame rate, honouring maxFrames', async () => {
    const gif = path.join(dir, 'anim.gif');
    const { spawnSync } = await import('node:child_process');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=48x32:rate=10', '-frames:v', '12', '-y', gif]);
    expect(made.status).toBe(0);
    const all = await decodeClip(gif);
    expect(all).toMatchObject({ width: 48, height: 32, fps: 10 });
    expect(all.frames).toHaveLength(12);
    const some = await decodeClip(gif, { maxFrames: 5 });
    expect(some.frames).toHaveLength(5);
  });
});

describe('resizeClip', () => {
  const still: Clip = { width: 40, height: 24, fps: 1, frames: [quadrants()] };

  it('covers the target size and crops the overflow evenly', async () => {
    const small = await resizeClip(still, 16, 16);
    expect(small).toMatchObject({ width: 16, height: 16, fps: 1 });
    expect(small.frames[0]).toHaveLength(16 * 16 * 3);
    expect(pixel(small, 0, 1, 1)).toSatisfy((p: number[]) => near(p, RED, 12));
    expect(pixel(small, 0, 14, 1)).toSatisfy((p: number[]) => near(p, GREEN, 12));
    expect(pixel(small, 0, 1, 14)).toSatisfy((p: number[]) => near(p, BLUE, 12));
    expect(pixel(small, 0, 14, 14)).toSatisfy((p: number[]) => near(p, WHITE, 12));
  });

  it('grows a 32 px clip 8x into soft edges without blocks or halos', async () => {
    const big = await resizeClip(movingSquare(), 256, 256);
    // Row 128 crosses the square's two edges (source x 5 and 13 in frame 5): nearest-neighbour
    // would step straight across (0 pixels part-way, 2 colours in all).
    expect(rampWidth(big, 5, 128, BACKGROUND, SQUARE)).toBeGreaterThanOrEqual(4);
    expect(distinctColours(big, 5)).toBeGreaterThanOrEqual(32);
    // Nothing outside the two colours' range: lanczos and bicubic ring 25-30 levels past it.
    expect(outOfRange(big, 5, [BACKGROUND, SQUARE])).toBe(0);
    expect(pixel(big, 5, 72, 128)).toEqual([...SQUARE]);
    expect(pixel(big, 5, 200, 40)).toEqual([...BACKGROUND]);
  });

  it('stretches when asked, and returns the clip itself when the size already matches', async () => {
    const stretched = await resizeClip(still, 20, 20, { fit: 'stretch' });
    expect(stretched).toMatchObject({ width: 20, height: 20 });
    expect(pixel(stretched, 0, 19, 19)).toSatisfy((p: number[]) => near(p, WHITE, 12));
    expect(await resizeClip(still, 40, 24)).toBe(still);
  });
});
