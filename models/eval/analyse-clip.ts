import type { Clip } from '../../src/core/ports/video-model.ts';
import { readShape } from './read-shape.ts';

/**
 * Reads back what a built-in-model clip shows, from pixels alone: background colour, object
 * colour, shape, motion and flicker. The eval compares this with what the prompt asked for, so
 * it must not know the prompt. Works on the model's native frames (32x32) or any upscaled size.
 */

export interface Vocabulary {
  colours: Record<string, [number, number, number]>;
  shapes: string[];
  motions: string[];
  synonyms: Record<string, string>;
}

export interface ClipReading {
  background: string;
  object: string | null;
  shape: string | null;
  motion: string;
  /** Mean absolute change of background pixels between consecutive frames, 0..255. */
  flicker: number;
  /**
   * Colour fringes: how far the object's edge pixels (both sides of the outline) stray from the
   * line between the background and object colours, in RGB units (0..441), averaged. An edge
   * that only blends the two scores 0; a blue or red rim around a white object scores high.
   */
  fringe: number;
  /** The same distance over the object's interior, the noise floor to read `fringe` against. */
  coreFringe: number;
  /** The same distance over the background away from the object: the floor on the rim's other side. */
  backgroundFringe: number;
  /** Object pixels per frame (after background removal). */
  areas: number[];
  /** The object's centre per frame in pixels (NaN where no pixel is the object's). */
  centres: { x: number; y: number }[];
}

type Rgb = [number, number, number];

/** Pixels further than this from the background colour (Euclidean RGB) count as object. */
const OBJECT_DISTANCE = 60;
/** Centroid travel (in fractions of the frame) that counts as moving. */
const MOVE_FRACTION = 0.12;
/** Last/first area ratio beyond which the object is growing (or below 1/x, shrinking). */
const GROW_RATIO = 1.6;

export function nearestColour(palette: Record<string, Rgb>, rgb: Rgb): string {
  let best = '';
  let bestD = Infinity;
  for (const [name, c] of Object.entries(palette)) {
    const d = (c[0] - rgb[0]) ** 2 + (c[1] - rgb[1]) ** 2 + (c[2] - rgb[2]) ** 2;
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}

function pixel(frame: Uint8Array, i: number): Rgb {
  return [frame[i * 3]!, frame[i * 3 + 1]!, frame[i * 3 + 2]!];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/** The background is what the border shows most: the palette colour most border pixels are nearest to. */
function readBackground(clip: Clip, palette: Record<string, Rgb>): { name: string; rgb: Rgb } {
  const votes = new Map<string, number>();
  const { width: w, height: h } = clip;
  for (const frame of clip.frames) {
    for (let x = 0; x < w; x++) {
      for (const y of [0, h - 1]) {
        const n = nearestColour(palette, pixel(frame, y * w + x));
        votes.set(n, (votes.get(n) ?? 0) + 1);
      }
    }
    for (let y = 1; y < h - 1; y++) {
      for (const x of [0, w - 1]) {
        const n = nearestColour(palette, pixel(frame, y * w + x));
        votes.set(n, (votes.get(n) ?? 0) + 1);
      }
    }
  }
  const name = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  // Measure against the rendered background, not the palette entry, so a slightly off
  // background does not turn into "object" pixels everywhere.
  const samples: Rgb[] = [];
  const first = clip.frames[0]!;
  for (let x = 0; x < w; x++) samples.push(pixel(first, x));
  const rgb: Rgb = [median(samples.map((s) => s[0])), median(samples.map((s) => s[1])), median(samples.map((s) => s[2]))];
  const pal = palette[name]!;
  const near = Math.hypot(rgb[0] - pal[0], rgb[1] - pal[1], rgb[2] - pal[2]) < OBJECT_DISTANCE;
  return { name, rgb: near ? rgb : pal };
}

/** 1 for each of a frame's `pixels` further than OBJECT_DISTANCE from `background`: the object's. */
export function objectMask(frame: Uint8Array, pixels: number, background: readonly [number, number, number]): Uint8Array {
  const mask = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const p = pixel(frame, i);
    if (Math.hypot(p[0] - background[0], p[1] - background[1], p[2] - background[2]) > OBJECT_DISTANCE) mask[i] = 1;
  }
  return mask;
}

export function analyseClip(clip: Clip, vocabulary: Vocabulary): ClipReading {
  const palette = vocabulary.colours;
  const { width: w, height: h } = clip;
  const bg = readBackground(clip, palette);

  // Object pixels: far from the background colour in each frame.
  const masks: Uint8Array[] = [];
  const objectPixels: Rgb[] = [];
  const centroids: { x: number; y: number; n: number }[] = [];
  for (const frame of clip.frames) {
    const mask = objectMask(frame, w * h, bg.rgb);
    let sx = 0, sy = 0, n = 0;
    for (let i = 0; i < w * h; i++) {
      if (!mask[i]) continue;
      sx += i % w;
      sy += Math.floor(i / w);
      n++;
      objectPixels.push(pixel(frame, i));
    }
    masks.push(mask);
    centroids.push({ x: n ? sx / n : NaN, y: n ? sy / n : NaN, n });
  }
  const areas = centroids.map((c) => c.n);

  const object = objectPixels.length
    ? nearestColour(palette, [
        median(objectPixels.map((p) => p[0])),
        median(objectPixels.map((p) => p[1])),
        median(objectPixels.map((p) => p[2])),
      ])
    : null;

  const shape = readShape(masks, w, h);

  const motion = readMotion(centroids, w, h);

  // Flicker: background pixels (outside the object in both frames) changing between frames.
  let diff = 0, counted = 0;
  for (let f = 1; f < clip.frames.length; f++) {
    const a = clip.frames[f - 1]!, b = clip.frames[f]!;
    for (let i = 0; i < w * h; i++) {
      if (masks[f - 1]![i] || masks[f]![i]) continue;
      diff += (Math.abs(a[i * 3]! - b[i * 3]!) + Math.abs(a[i * 3 + 1]! - b[i * 3 + 1]!) + Math.abs(a[i * 3 + 2]! - b[i * 3 + 2]!)) / 3;
      counted++;
    }
  }
  const { fringe, coreFringe, backgroundFringe } = readFringe(clip, masks);
  return { background: bg.name, object, shape, motion, flicker: counted ? diff / counted : 0, fringe, coreFringe, backgroundFringe, areas, centres: centroids.map(({ x, y }) => ({ x, y })) };
}

/**
 * Off-line colour at the outline vs inside the object (see ClipReading.fringe). The two end
 * colours are measured, not taken from the palette: the median of interior object pixels and of
 * pixels away from the object.
 */
function readFringe(clip: Clip, masks: Uint8Array[]): { fringe: number; coreFringe: number; backgroundFringe: number } {
  const { width: w, height: h } = clip;
  const edges: Rgb[] = [], cores: Rgb[] = [], outer: Rgb[] = [];
  clip.frames.forEach((frame, f) => {
    const mask = masks[f]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        let differs = 0, same = 0;
        for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          if (mask[ny * w + nx] === mask[i]) same++;
          else differs++;
        }
        const p = pixel(frame, i);
        if (differs > 0) edges.push(p);
        else if (mask[i]) cores.push(p);
        else if (same === 4) outer.push(p);
      }
    }
  });
  if (cores.length === 0 || outer.length === 0) return { fringe: 0, coreFringe: 0, backgroundFringe: 0 };
  const mid = (ps: Rgb[]): Rgb => [median(ps.map((p) => p[0])), median(ps.map((p) => p[1])), median(ps.map((p) => p[2]))];
  const object = mid(cores), background = mid(outer);
  const mean = (ps: Rgb[]) => (ps.length ? ps.reduce((sum, p) => sum + offLine(p, background, object), 0) / ps.length : 0);
  return { fringe: mean(edges), coreFringe: mean(cores), backgroundFringe: mean(outer) };
}

/** Distance from `p` to the segment a-b in RGB: how much of `p` is neither colour nor a blend. */
function offLine(p: Rgb, a: Rgb, b: Rgb): number {
  const d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const len2 = d[0]! * d[0]! + d[1]! * d[1]! + d[2]! * d[2]!;
  const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((p[0] - a[0]) * d[0]! + (p[1] - a[1]) * d[1]! + (p[2] - a[2]) * d[2]!) / len2));
  return Math.hypot(p[0] - (a[0] + t * d[0]!), p[1] - (a[1] + t * d[1]!), p[2] - (a[2] + t * d[2]!));
}

function readMotion(centroids: { x: number; y: number; n: number }[], w: number, h: number): string {
  const seen = centroids.filter((c) => c.n > 0);
  if (seen.length < 2) return 'still';
  const quarter = Math.max(1, Math.floor(seen.length / 4));
  const mean = (cs: typeof seen, k: 'x' | 'y' | 'n') => cs.reduce((s, c) => s + c[k], 0) / cs.length;
  const head = seen.slice(0, quarter);
  const tail = seen.slice(-quarter);
  const ratio = mean(tail, 'n') / Math.max(1, mean(head, 'n'));
  const dx = (mean(tail, 'x') - mean(head, 'x')) / w;
  const dy = (mean(tail, 'y') - mean(head, 'y')) / h;
  // Translation first: a shape entering or leaving the frame also changes area.
  if (Math.max(Math.abs(dx), Math.abs(dy)) >= MOVE_FRACTION) {
    if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'left' : 'right';
    return dy < 0 ? 'up' : 'down';
  }
  if (ratio >= GROW_RATIO) return 'growing';
  if (ratio <= 1 / GROW_RATIO) return 'shrinking';
  return 'still';
}
