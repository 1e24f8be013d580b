/**
 * The frame check: an image classifier that looks at a video's frames before anything is posted
 * (previews and finals alike). The worker runs it between decoding and storing a take, so a
 * flagged take is never written where a chat could fetch it; the core only ever sees its verdict.
 */

/** The label that blocked a take: its highest score over the checked frames, and the threshold it crossed. */
export interface FrameFinding {
  label: string;
  score: number;
  threshold: number;
}

export interface FrameVerdict {
  /** The blocking label with the highest score at or over its threshold; null when the frames pass. */
  flagged: FrameFinding | null;
  /** Every label's highest score over the checked frames (what `/why` shows). */
  scores: Record<string, number>;
  /** How many frames were checked. */
  frames: number;
}

/** One frame, RGB24 (width*height*3 bytes, row-major). */
export interface CheckedFrame {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export interface FrameCheck {
  /** Shown in logs and /api/health: the classifier folder's name. */
  readonly name: string;
  check(frames: readonly CheckedFrame[], signal?: AbortSignal): Promise<FrameVerdict>;
  close(): Promise<void>;
}

/** "porn 0.93 ≥ 0.80": how a finding reads in a thread. */
export function describeFinding(finding: FrameFinding): string {
  return `${finding.label} ${finding.score.toFixed(2)} ≥ ${finding.threshold.toFixed(2)}`;
}
