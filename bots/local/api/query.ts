import { MAX_SNAPSHOT } from '../local-store.ts';

/** Query-string and header numbers the API reads: stream positions and page sizes. */

/** A stream position (a sequence number), or undefined when `raw` is not one. */
export function parseSeq(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** `?limit=`, kept between 1 and MAX_SNAPSHOT. */
export function parseLimit(raw: string | undefined, fallback: number): number {
  const n = raw !== undefined && /^\d{1,6}$/.test(raw) ? Number(raw) : fallback;
  return Math.max(1, Math.min(MAX_SNAPSHOT, n));
}
