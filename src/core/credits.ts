import type { Person, PromptVersion, Session, VoteRound } from './session.ts';
import { findVersion } from './session-state.ts';
import { clip } from './text.ts';

/**
 * Who made a final, as its Content Credentials will say: the prompt lineage of the take (every
 * version from the first prompt to the one rendered, with who wrote or revised it) and everyone
 * who contributed (prompted, revised, voted for the take, asked for the final). The core knows
 * all of it from the thread; the worker adds the software and the model and signs the file.
 */

export type CreditRole = 'prompted' | 'revised' | 'voted' | 'finalized';

export interface CreditLineageEntry {
  version: number;
  prompt: string;
  negativePrompt?: string;
  author: Person;
  change: string;
  parent: { version: number } | null;
}

export interface RenderCredits {
  title: string;
  /** The version and 1-based take this video is (a film: the thread's current version, take 1). */
  take: { version: number; take: number };
  lineage: CreditLineageEntry[];
  contributors: Array<{ person: Person; roles: CreditRole[] }>;
  /** Names left out: people appear as "contributor 1", … (DAILIES_CREDIT_NAMES=off). */
  anonymous?: boolean;
}

/** Bounds the signed manifest (the provenance module refuses more). */
const MAX_ENTRIES = 100;

/** Credits for the final of take `take` (0-based) of `version`, asked for by `by`. */
export function creditsForTake(session: Session, version: number, take: number, roundJobId: string, by: Person, anonymous: boolean): RenderCredits {
  const lineage = lineageOf(session, [version]);
  const credits: RenderCredits = {
    title: clip(findVersion(session, version)?.prompt ?? `v${version}`, 200),
    take: { version, take: take + 1 },
    lineage,
    contributors: contributors(lineage, votersFor(session, [{ jobId: roundJobId, take }]), by),
  };
  return anonymous ? { ...credits, anonymous: true } : credits;
}

/** Credits for a storyboard's film: every shot's lineage, every voter of the takes used. */
export function creditsForFilm(session: Session, shots: ReadonlyArray<{ version: number; jobId: string; take: number }>, by: Person, anonymous: boolean): RenderCredits {
  const lineage = lineageOf(
    session,
    shots.map((s) => s.version),
  );
  const title = clip(`Film: ${shots.map((s) => findVersion(session, s.version)?.prompt ?? `v${s.version}`).join(' | ')}`, 200);
  const credits: RenderCredits = {
    title,
    take: { version: session.current, take: 1 },
    lineage,
    contributors: contributors(lineage, votersFor(session, shots), by),
  };
  return anonymous ? { ...credits, anonymous: true } : credits;
}

/** The versions leading to each of `versions` (ancestors first), each once, oldest first. */
function lineageOf(session: Session, versions: readonly number[]): CreditLineageEntry[] {
  const wanted = new Set<number>();
  for (const v of versions) {
    for (let n: number | null = v; n !== null && !wanted.has(n); n = findVersion(session, n)?.parent ?? null) wanted.add(n);
  }
  return [...wanted]
    .sort((a, b) => a - b)
    .slice(-MAX_ENTRIES)
    .map((n) => entryOf(findVersion(session, n)!));
}

function entryOf(v: PromptVersion): CreditLineageEntry {
  return {
    version: v.n,
    prompt: clip(v.prompt, 2000),
    ...(v.negativePrompt ? { negativePrompt: clip(v.negativePrompt, 2000) } : {}),
    author: { id: v.author.id, name: v.author.name },
    change: clip(v.change, 500),
    parent: v.parent === null ? null : { version: v.parent },
  };
}

/** The people whose votes went to these takes in their rounds. */
function votersFor(session: Session, takes: ReadonlyArray<{ jobId: string; take: number }>): Person[] {
  const voters: Person[] = [];
  for (const { jobId, take } of takes) {
    const round: VoteRound | undefined = session.rounds.find((r) => r.jobId === jobId);
    for (const [id, voted] of Object.entries(round?.votes ?? {})) {
      if (voted === take) voters.push({ id, name: round?.voterNames?.[id] ?? id });
    }
  }
  return voters;
}

function contributors(lineage: readonly CreditLineageEntry[], voters: readonly Person[], by: Person): RenderCredits['contributors'] {
  const people = new Map<string, { person: Person; roles: Set<CreditRole> }>();
  const add = (person: Person, role: CreditRole) => {
    const entry = people.get(person.id) ?? { person: { id: person.id, name: person.name }, roles: new Set<CreditRole>() };
    entry.roles.add(role);
    people.set(person.id, entry);
  };
  for (const entry of lineage) add(entry.author, entry.parent === null ? 'prompted' : 'revised');
  for (const voter of voters) add(voter, 'voted');
  add(by, 'finalized');
  const order: CreditRole[] = ['prompted', 'revised', 'voted', 'finalized'];
  return [...people.values()].slice(0, MAX_ENTRIES).map((p) => ({ person: p.person, roles: order.filter((r) => p.roles.has(r)) }));
}

/** One line for a final's message: who made it, as its credentials record. */
export function creditsLine(credits: RenderCredits): string {
  if (credits.anonymous) return `Content Credentials: signed; ${credits.lineage.length} version${credits.lineage.length === 1 ? '' : 's'}, ${credits.contributors.length} contributor${credits.contributors.length === 1 ? '' : 's'}`;
  // A chain of revisions reads with arrows; a film's shots, which descend from no one, with commas.
  const chained = credits.lineage.every((v, i) => i === 0 || v.parent?.version === credits.lineage[i - 1]!.version);
  const lineage = credits.lineage.map((v) => `v${v.version} by ${v.author.name}`).join(chained ? ' → ' : ', ');
  const voted = credits.contributors.filter((c) => c.roles.includes('voted')).map((c) => c.person.name);
  return `Content Credentials: signed; ${lineage}${voted.length ? `; voted by ${voted.join(', ')}` : ''}`;
}
