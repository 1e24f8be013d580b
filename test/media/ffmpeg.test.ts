import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFfmpeg, FfmpegError, runFfmpeg } from '../../src/media/ffmpeg.ts';
import { decodeImage, encodeVideo } from '../../src/media/index.ts';
import { movingSquare } from './helpers.ts';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-ffmpeg-test-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ensureFfmpeg', () => {
  it('reports a missing ffmpeg as missing_dependency, reading PATH at call time', async () => {
    const saved = { PATH: process.env.PATH, FFMPEG_PATH: process.env.FFMPEG_PATH };
    const message =
      'ffmpeg was not found on PATH; install it with `sudo apt-get install ffmpeg` (or your OS package manager) and try again.';
    await ensureFfmpeg(); // a cached success must not hide the change below
    try {
      process.env.PATH = dir; // exists, holds no ffmpeg
      delete process.env.FFMPEG_PATH;
      await expect(encodeVideo(movingSquare(), { path: path.join(dir, 'x.mp4') })).rejects.toMatchObject({ code: 'missing_dependency', message });
      await expect(decodeImage(Buffer.from('x'))).rejects.toMatchObject({ code: 'missing_dependency', message });
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.FFMPEG_PATH !== undefined) process.env.FFMPEG_PATH = saved.FFMPEG_PATH;
    }
    expect(await readdir(dir)).toEqual([]);
    expect((await ensureFfmpeg()).ffmpeg).toMatch(/ffmpeg$/);
  });
});

describe('runFfmpeg', () => {
  it('puts the tail of stderr into the error when ffmpeg fails', async () => {
    const error = await runFfmpeg({
      input: { frames: movingSquare() },
      outputArgs: ['-vf', 'no_such_filter', '-f', 'null'],
      output: 'stdout',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as FfmpegError).stderrTail).toMatch(/no_such_filter/);
  });

  it('streams frames lazily and stops ffmpeg when the frame source throws', async () => {
    const clip = movingSquare();
    let pulled = 0;
    async function* frames() {
      for (const frame of clip.frames) {
        pulled++;
        if (pulled === 4) throw new Error('model crashed');
        yield frame;
      }
    }
    const out = path.join(dir, 'partial.mp4');
    await expect(
      runFfmpeg({ input: { frames: { ...clip, frames: frames() } }, outputArgs: ['-c:v', 'libx264', '-f', 'mp4'], output: out }),
    ).rejects.toThrow('model crashed');
    expect(pulled).toBe(4);
  });

  it('collects stdout when asked', async () => {
    const clip = movingSquare({ frames: 3 });
    const out = await runFfmpeg({ input: { frames: clip }, outputArgs: ['-f', 'rawvideo', '-pix_fmt', 'rgb24'], output: 'stdout' });
    expect(out.length).toBe(3 * 32 * 32 * 3);
    expect(out.subarray(0, 32 * 32 * 3)).toEqual(Buffer.from(clip.frames[0]!));
  });
});
