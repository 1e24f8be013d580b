/**
 * Which frames of a video the frame check reads. A final is sampled (every 4th frame plus the
 * first and the last: nothing shown for more than half a second at 8 fps goes unseen, at a
 * quarter of the classifier's cost); a preview is read whole, being short.
 */
export const FINAL_FRAME_STRIDE = 4;

export function sampledFrameIndices(frameCount: number, stride = FINAL_FRAME_STRIDE): number[] {
  if (frameCount <= 0) return [];
  const picked = new Set<number>();
  for (let i = 0; i < frameCount; i += stride) picked.add(i);
  picked.add(frameCount - 1);
  return [...picked].sort((a, b) => a - b);
}
