/** Output geometry shared by the encoders: which size, and which resampling filter. */

export type ScaleFlags = 'neighbor' | 'lanczos' | 'area';

/** Sources this small are the built-in model's pixel-art look; smoothing them would blur it away. */
export const PIXEL_ART_MAX_SIDE = 64;

export function upscaleFlags(width: number, height: number): ScaleFlags {
  return Math.max(width, height) <= PIXEL_ART_MAX_SIDE ? 'neighbor' : 'lanczos';
}

/**
 * Scales (width, height) so the short side is `shortSide`, keeping the aspect ratio, with both
 * sides even because yuv420p (what every H.264 player expects) stores chroma per 2x2 block.
 */
export function fitShortSide(width: number, height: number, shortSide: number): { width: number; height: number } {
  const factor = shortSide / Math.min(width, height);
  return { width: even(width * factor), height: even(height * factor) };
}

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** A `scale` filter with square pixels afterwards, so players never stretch the result. */
export function scaleFilter(width: number, height: number, flags: ScaleFlags, extra: string[] = []): string {
  return `scale=${[width, height, `flags=${flags}`, ...extra].join(':')},setsar=1`;
}
