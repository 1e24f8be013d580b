/*
 * Keeps a chain's flat background the colour it started with. Each window of a chain continues
 * the frames before it, so a model's small shift in a flat background's colour adds up join after
 * join: over a minute shapes-v1 turned a black background navy (an RGB distance of 43 from the
 * first frame, the median over the last quarter) and shapes-v2 dark green (21). Moving each frame
 * the chain makes back by its background's distance from the chain's first background removes
 * that, the way long animation tools match every frame's colours to frame 0. Only a chain whose
 * first background is flat is anchored: a scene's border is not one colour, and a change in it
 * (a pan, the light) is the video, not drift.
 */

export type Rgb = readonly [number, number, number];

/**
 * A border pixel this close (RGB distance) to the border's median is the same colour. The
 * built-in models' flat backgrounds are noisy: on 120-frame chains of three prompts each, 80-88%
 * of a frame's border (the tenth percentile) is within 40 of its median, 52-80% within 24.
 */
const FLAT_DISTANCE = 40;
/** A background is flat when at least this share of its border pixels is one colour. */
const FLAT_SHARE = 0.6;

/** The pixel indices of a frame's outermost rows and columns. */
function borderPixels(width: number, height: number): number[] {
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) border.push(y * width, y * width + width - 1);
  return border;
}

/** The per-channel median of the (RGB) frame's pixels `border`. */
function medianColour(frame: Uint8Array, border: number[]): Rgb {
  const middle = (c: number) => border.map((p) => frame[p * 3 + c]!).sort((a, b) => a - b)[border.length >> 1]!;
  return [middle(0), middle(1), middle(2)];
}

/** The per-channel median of a frame's (RGB) outermost pixels: its background, if it has a flat one. */
export function borderColour(frame: Uint8Array, width: number, height: number): Rgb {
  return medianColour(frame, borderPixels(width, height));
}

/** A frame's background when it is flat: its border's per-channel median; undefined for a scene. */
export function flatBackground(frame: Uint8Array, width: number, height: number): Rgb | undefined {
  const border = borderPixels(width, height);
  const colour = medianColour(frame, border);
  const same = border.filter((p) => Math.hypot(frame[p * 3]! - colour[0], frame[p * 3 + 1]! - colour[1], frame[p * 3 + 2]! - colour[2]) <= FLAT_DISTANCE).length;
  return same >= FLAT_SHARE * border.length ? colour : undefined;
}

/**
 * `frames` (in time order) each moved by one offset per channel so that its flat background is
 * `anchor`. A frame whose border is not one colour (an object across it) takes the offset of the
 * frame before it, so the video does not flicker between moved and unmoved frames.
 */
export function anchorBackground(frames: readonly Uint8Array[], width: number, height: number, anchor: Rgb): Uint8Array[] {
  let shift = [0, 0, 0];
  return frames.map((frame) => {
    const own = flatBackground(frame, width, height);
    if (own) shift = [anchor[0] - own[0], anchor[1] - own[1], anchor[2] - own[2]];
    if (shift.every((s) => s === 0)) return frame;
    const out = new Uint8Array(frame.length);
    for (let i = 0; i < frame.length; i++) out[i] = Math.max(0, Math.min(255, frame[i]! + shift[i % 3]!));
    return out;
  });
}

/**
 * The background a chain keeps, per take: that of the clip it continues (its last frame) or leads
 * into (its first), else the chain's own first frame (`first`, from its first window). None for
 * a bridge, whose two clips may differ (a transition from one to the other is the point), or
 * when that frame's background is not flat.
 */
export function chainAnchor(context: { before?: Uint8Array; after?: Uint8Array; first?: Uint8Array }, width: number, height: number): Rgb | undefined {
  if (context.before && context.after) return undefined;
  const frame = context.before ?? context.after ?? context.first;
  return frame && flatBackground(frame, width, height);
}
