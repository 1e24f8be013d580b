import { DailiesError } from '../errors.ts';
import type { TakeResult } from './ports/job-queue.ts';
import type { JobRecord, Session } from './session.ts';
import { doneDrafts, findVersion } from './session-state.ts';

/**
 * Take references as people type them: `v2#1` is take 1 of version 2, and a bare `1` is take 1 of
 * the newest version with finished takes. Data keeps takes 0-based; references are 1-based.
 */

export interface TakeRef {
  /** null: the newest version with finished takes. */
  version: number | null;
  /** 0-based. */
  take: number;
}

const REF = /^\s*(?:v(\d{1,6})\s*#\s*)?(\d{1,3})\s*$/iu;
const EXAMPLE = 'write v2#1 for take 1 of version 2, or 1 for take 1 of the newest version';

export function parseTakeRef(text: string | number, option = 'take'): TakeRef {
  const match = REF.exec(String(text));
  const take = match ? Number(match[2]) : 0;
  if (!match || take < 1) throw new DailiesError('bad_input', `${option} "${String(text).slice(0, 40)}" is not a take reference; ${EXAMPLE}.`);
  return { version: match[1] === undefined ? null : Number(match[1]), take: take - 1 };
}

export function formatTakeRef(version: number, take: number): string {
  return `v${version}#${take + 1}`;
}

/** The finished take a reference names, or a DailiesError naming what exists instead. */
export function resolveTakeRef(session: Session, ref: TakeRef): { job: JobRecord; take: TakeResult } {
  const drafts = doneDrafts(session);
  let job: JobRecord | undefined;
  if (ref.version === null) {
    job = drafts[0];
    if (!job) throw new DailiesError('bad_input', 'This thread has no finished takes yet; wait for the render to finish.');
  } else {
    if (!findVersion(session, ref.version)) {
      throw new DailiesError('bad_input', `There is no v${ref.version} in this thread; pick one of v1–v${session.versions.length}.`);
    }
    job = drafts.find((j) => j.version === ref.version);
    if (!job) throw new DailiesError('bad_input', `v${ref.version} has no finished takes yet; wait for its render or pick another version.`);
  }
  return { job, take: postedTake(job, ref.take) };
}

/** A finished job's posted take by index; the sentence for a withheld or missing one names the takes there are. */
export function postedTake(job: JobRecord, index: number, style: 'refs' | 'plain' = 'refs'): TakeResult {
  const take = job.artifacts.find((t) => t.index === index);
  if (take) return take;
  // Buttons and /finalize N speak of "take 2", take references of "v1#2".
  const name = (i: number) => (style === 'refs' ? formatTakeRef(job.version, i) : `take ${i + 1}`);
  const posted = [...job.artifacts].sort((a, b) => a.index - b.index).map((t) => name(t.index));
  // A run without gaps reads as a range ("v1#1 to v1#3"); a withheld or removed take leaves a gap to list around.
  const gapless = job.artifacts.every((t) => t.index < job.artifacts.length);
  const choose =
    posted.length === 0 ? 'render the version again' : posted.length === 1 ? `pick ${posted[0]}` : gapless ? `pick ${posted[0]} to ${style === 'refs' ? posted.at(-1) : posted.length}` : `pick one of ${posted.join(', ')}`;
  const named = style === 'refs' ? formatTakeRef(job.version, index) : `Take ${index + 1} of v${job.version}`;
  if (job.withheld?.some((w) => w.index === index)) {
    throw new DailiesError('bad_input', `${named} was withheld by the frame check; ${choose}.`);
  }
  const removed = job.removed?.find((r) => r.index === index);
  if (removed) throw new DailiesError('bad_input', `${named} was removed by ${removed.by.name}; ${choose}.`);
  throw new DailiesError('bad_input', `v${job.version} has no take ${index + 1}; ${choose}.`);
}
