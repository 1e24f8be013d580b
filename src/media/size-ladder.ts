import { stat } from 'node:fs/promises';
import { DailiesError } from '../errors.ts';

/**
 * What to give up, in order, when an encode is over its byte budget. Quality goes first: chat
 * clients show clips small anyway, so softer compression costs less than fewer pixels. Each
 * quality step roughly halves the bitrate (+6 CRF for H.264); the size rungs then cut pixels
 * to ~56% and 25%. Five encodes of a short clip take about a second, so no cleverer search.
 */
export interface Rung {
  /** 0 is the requested quality; 1 and 2 are each one notch lower. */
  qualityStep: 0 | 1 | 2;
  /** Fraction of the requested short side. */
  scale: number;
}

export const SIZE_LADDER: readonly Rung[] = [
  { qualityStep: 0, scale: 1 },
  { qualityStep: 1, scale: 1 },
  { qualityStep: 2, scale: 1 },
  { qualityStep: 2, scale: 0.75 },
  { qualityStep: 2, scale: 0.5 },
];

export interface FitResult {
  bytes: number;
  rung: Rung;
  attempts: number;
}

/**
 * Runs `encode(rung)` down the ladder until the file at `file` fits in `maxBytes`.
 * `what` names the output in the one-sentence error when even the last rung is too big.
 * `firstDone`: the first rung's file was already written (by a run that wrote several outputs),
 * so it is measured, not encoded again.
 */
export async function fitToBudget(
  file: string,
  maxBytes: number,
  what: string,
  encode: (rung: Rung) => Promise<void>,
  { firstDone = false }: { firstDone?: boolean } = {},
): Promise<FitResult> {
  if (!(maxBytes > 0)) {
    throw new DailiesError('internal', `A byte budget of ${maxBytes} is invalid; pass a positive number of bytes.`);
  }
  let attempts = 0;
  let bytes = 0;
  for (const rung of SIZE_LADDER) {
    attempts++;
    if (!(firstDone && attempts === 1)) await encode(rung);
    bytes = (await stat(file)).size;
    if (bytes <= maxBytes) return { bytes, rung, attempts };
  }
  throw new DailiesError(
    'bad_input',
    `The ${what} is still ${formatBytes(bytes)} at the lowest quality and size, over the ${formatBytes(maxBytes)} limit; render fewer frames or raise the limit.`,
  );
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
