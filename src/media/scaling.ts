/** Output geometry shared by the encoders: which size, and which resampling filter. */

/**
 * How a picture is resampled; each name stands for a set of swscale options (see SWS_OPTIONS).
 * 'smooth' is for large upscales, 'lanczos' for everything else the encoders scale, 'area' for
 * shrinking user uploads to the model's size.
 */
export type Resampler = 'smooth' | 'lanczos' | 'area';

/**
 * Upscales by this factor or more use 'smooth'. Chosen by looking at 32 px takes of the built-in
 * model blown up to the sizes its outputs are encoded at (256, 192 and 128 px: 8x, 6x, 4x), side
 * by side with every filter this ffmpeg has:
 * - neighbor shows each source pixel as a square block, so shapes read as mosaics.
 * - bilinear is halo-free but leaves a diamond-shaped crease on every source pixel.
 * - lanczos, spline and bicubic are crisp but ring: a bright rim inside a hard-edged shape and a
 *   dark outline around it, 8 output pixels wide at 8x (up to 40 levels over the source range on a
 *   red square on blue). Adding unsharp after lanczos makes the rims stronger.
 * - xbr and hqx are made for clean pixel art: on the model's grainy, soft-edged output xbr draws
 *   contour lines and wobbly outlines, and hqx keeps most of the blocks.
 * - a Gaussian (gauss) never leaves the range of the source pixels around it, so there are no
 *   halos, and it turns the staircase of a diagonal into a smooth edge. At swscale's default
 *   exponent (3) it is soft enough to look out of focus; 4 keeps edges as sharp as bilinear's
 *   (a hard edge ramps over 0.75 source pixels) without the creases. 5 and up bring the staircase
 *   back.
 * Below 3x the kernel's shape is too small to see, and lanczos and the Gaussian look alike on
 * photo-like content; lanczos is a little crisper there. Nothing keeps nearest-neighbour: the
 * model's 32 px frames are soft-edged and grainy, not pixel art whose hard pixels are the look, and
 * no setting or model manifest asks for hard pixels.
 */
const SMOOTH_UPSCALE_FACTOR = 3;

/**
 * swscale options per resampler. The Gaussian's exponent must stay a whole number: ffmpeg 5.1's
 * scale filter truncates param0/param1 to integers (param0=4.5 acts as 4), so fractional values
 * would mean different things on different ffmpeg versions.
 */
const SWS_OPTIONS: Record<Resampler, readonly string[]> = {
  smooth: ['flags=gauss', 'param0=4'],
  lanczos: ['flags=lanczos'],
  area: ['flags=area'],
};

/** The resampler for scaling each side by `factor` (output over input; the smaller one if they differ). */
export function resamplerFor(factor: number): Resampler {
  return factor >= SMOOTH_UPSCALE_FACTOR ? 'smooth' : 'lanczos';
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
export function scaleFilter(width: number, height: number, resampler: Resampler, extra: string[] = []): string {
  return `scale=${[width, height, ...SWS_OPTIONS[resampler], ...extra].join(':')},setsar=1`;
}
