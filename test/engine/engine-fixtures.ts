import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import type { Clip } from '../../src/core/ports/video-model.ts';

/** Built by test/fixtures/build_tiny_pixel.py and build_tiny_latent.py (random weights). */
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const TINY_PIXEL = join(FIXTURES, 'tiny-pixel');
export const TINY_PIXEL_FP16 = join(FIXTURES, 'tiny-pixel-fp16');
export const TINY_LATENT_CLIP = join(FIXTURES, 'tiny-latent', 'clip-slow');
export const TINY_LATENT_JSON = join(FIXTURES, 'tiny-latent', 'tokenizer-json');

/**
 * The first built-in model, the default until shapes-v2 replaced it. Tests that show an engine
 * rule mending a model's defect render with it: it has the defects (a background that drifts
 * across joins, a circle that stops at the edge after a lap) that v2 shows less or not at all.
 */
export const SHAPES_V1 = fileURLToPath(new URL('../../models/shapes-v1', import.meta.url));

/** One intra-op thread: the test machine is shared with training and other suites. */
export const CPU = { threads: 1 } as const;

const temps: string[] = [];

/** A scratch copy of a fixture folder that a test may break. */
export async function copyFixture(src: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-engine-'));
  temps.push(dir);
  await cp(src, dir, { recursive: true });
  return dir;
}

export async function emptyDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-engine-'));
  temps.push(dir);
  return dir;
}

export async function removeTemps(): Promise<void> {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function editJson(path: string, edit: (json: any) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8'));
  edit(json);
  await writeFile(path, JSON.stringify(json, null, 2));
}

/** The DailiesError a promise rejects with (fails the test if it resolves or throws something else). */
export async function rejection(p: Promise<unknown>): Promise<DailiesError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DailiesError);
    return e as DailiesError;
  }
  throw new Error('expected a rejection');
}

export function makeClip(width: number, height: number, frames: number, value: (f: number, x: number, y: number, c: number) => number): Clip {
  return {
    width,
    height,
    fps: 8,
    frames: Array.from({ length: frames }, (_, f) => {
      const out = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = value(f, x, y, c);
      return out;
    }),
  };
}

export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}
