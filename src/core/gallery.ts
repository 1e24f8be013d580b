import type { ArtifactRef } from './ports/artifact-store.ts';
import type { ThreadRef } from './ports/chat-adapter.ts';
import type { TakeResult } from './ports/job-queue.ts';
import type { FiledSession, SessionStore } from './ports/session-store.ts';
import { creditsForTake, type CreditLineageEntry, type CreditRole, type RenderCredits } from './credits.ts';
import type { JobRecord, Person, Session, VoteRound } from './session.ts';
import { findJob, findVersion } from './session-state.ts';
import { cutNumber } from './render-message.ts';
import { formatTakeRef } from './take-ref.ts';

/**
 * The gallery: a channel's takes worth showing again, read off its session documents — takes that
 * won their vote, takes rendered again at final quality, and storyboards' films. A take a
 * moderator removed or the frame check withheld is not in its job's `artifacts`, so it never
 * shows. `galleryEntries` is pure; `readGallery` pages through the store's per-channel index
 * (SessionStore.keptByChannel), so a big installation never scans for them.
 */

export type GalleryKind = 'winner' | 'final' | 'film';

export interface GalleryEntry {
  sessionId: string;
  channelKey: string;
  thread: ThreadRef;
  kind: GalleryKind;
  /** A final of a take that won its vote; that take is then not listed a second time as a winner. */
  won: boolean;
  /** The version the take belongs to (a film: the version its job was recorded under). */
  version: number;
  /** 1-based take of `version`; null for a film. */
  take: number | null;
  /** How the thread names it: "v2#1", or "cut 1" for a film. */
  label: string;
  prompt: string;
  /** The versions that led to it, e.g. "v1 by Ana → v3 by Ben" (a film's shots, side by side: commas). */
  lineage: string;
  /** Who made it, in the order finals' Content Credentials list them. */
  credits: Array<{ name: string; roles: CreditRole[] }>;
  video: ArtifactRef;
  /** A still to show before the video plays; null when the take's preview is not an image. */
  preview: ArtifactRef | null;
  /** When its vote closed, or its final finished. */
  at: number;
}

export interface GalleryOptions {
  /** DAILIES_CREDIT_NAMES=off: people read "contributor 1", … as in finals' Content Credentials. */
  anonymous: boolean;
}

export interface GalleryPage {
  entries: GalleryEntry[];
  /** `before` for the next page; null when this page is the last. */
  next: FiledSession | null;
}

/** How the web chat reads a channel's gallery (wired to `readGallery` over the bot's store). */
export type GalleryReader = (channelKey: string, page: { limit: number; before?: FiledSession }) => Promise<GalleryPage>;

/** Versions a lineage shows in full; a longer one keeps its first and its last two around "…". */
const LINEAGE_SHOWN = 4;

/**
 * The entries of `sessions`, in the order given (the store lists them newest write first), each
 * session's newest first.
 */
export function galleryEntries(sessions: readonly Session[], options: GalleryOptions): GalleryEntry[] {
  return sessions.flatMap((session) => entriesOf(session, options).sort((a, b) => b.at - a.at));
}

/**
 * About `limit` entries of a channel, newest session first: whole sessions, read until `limit`
 * entries are in hand (the last session may add a few more).
 */
export async function readGallery(store: Pick<SessionStore, 'keptByChannel' | 'get'>, channelKey: string, page: { limit: number; before?: FiledSession }, options: GalleryOptions): Promise<GalleryPage> {
  // One more than a page, to know whether another page follows without reading its document.
  const filed = await store.keptByChannel(channelKey, { limit: page.limit + 1, ...(page.before && { before: page.before }) });
  const sessions = await Promise.all(filed.slice(0, page.limit).map((f) => store.get(f.sessionId)));
  const entries: GalleryEntry[] = [];
  let used = 0;
  while (used < sessions.length && entries.length < page.limit) {
    // Null: retired or expired since the index was read, with nothing left to show.
    const session = sessions[used++];
    if (session) entries.push(...galleryEntries([session], options));
  }
  return { entries, next: used < filed.length ? filed[used - 1] ?? null : null };
}

/** Where the web chat shows a channel's gallery, relative to its address. */
export function galleryPath(channelKey: string): string {
  // "local:general" reads better than "local%3Ageneral", and a colon is allowed in a query.
  return `/gallery?channel=${encodeURIComponent(channelKey).replaceAll('%3A', ':')}`;
}

function entriesOf(session: Session, options: GalleryOptions): GalleryEntry[] {
  const finals = session.jobs.filter((j) => j.quality === 'final' && j.state === 'done').flatMap((job) => finalEntry(session, job, options) ?? []);
  const finalized = new Set(finals.flatMap((f) => (f.source ? [`${f.source.jobId}:${f.source.take}`] : [])));
  const winners = session.rounds
    .filter((r) => r.closed !== null && r.winner !== null && !finalized.has(`${r.jobId}:${r.winner}`))
    .flatMap((round) => winnerEntry(session, round, options) ?? []);
  return [...finals.map((f) => f.entry), ...winners];
}

function winnerEntry(session: Session, round: VoteRound, options: GalleryOptions): GalleryEntry | null {
  const job = findJob(session, round.jobId);
  const take = job?.artifacts.find((t) => t.index === round.winner);
  if (!job || !take || round.winner === null || !round.closed) return null;
  // The credits of a final of this take, minus the final: the owner stands in for whoever would
  // ask for it, and keeps only the roles they earned otherwise.
  const credits = creditsForTake(session, round.version, round.winner, round.jobId, session.owner, false);
  const earned = credits.contributors.map((c) => ({ ...c, roles: c.roles.filter((r) => r !== 'finalized') })).filter((c) => c.roles.length > 0);
  return entry(session, { ...credits, contributors: earned }, options, {
    kind: 'winner',
    won: true,
    version: round.version,
    take: round.winner + 1,
    label: formatTakeRef(round.version, round.winner),
    prompt: findVersion(session, round.version)?.prompt ?? credits.title,
    result: take,
    at: round.closed.at,
  });
}

function finalEntry(session: Session, job: JobRecord, options: GalleryOptions): { entry: GalleryEntry; source: JobRecord['source'] } | null {
  const result = job.artifacts[0];
  if (!result) return null;
  const source = job.source;
  const version = (source && findJob(session, source.jobId)?.version) ?? job.version;
  const take = source?.take ?? result.index;
  // The credits signed into the file; a job recorded before requests were kept has them worked out again.
  const credits = job.request?.credits ?? creditsForTake(session, version, take, source?.jobId ?? job.jobId, job.requestedBy, false);
  const film = job.kind === 'cut';
  const won = !film && source !== undefined && session.rounds.some((r) => r.jobId === source.jobId && r.winner === source.take);
  return {
    source,
    entry: entry(session, credits, options, {
      kind: film ? 'film' : 'final',
      won,
      version,
      take: film ? null : take + 1,
      label: film ? `cut ${cutNumber(session, job)}` : formatTakeRef(version, take),
      prompt: film ? credits.title : (findVersion(session, version)?.prompt ?? credits.title),
      result,
      at: job.updatedAt,
    }),
  };
}

type EntryFacts = Pick<GalleryEntry, 'kind' | 'won' | 'version' | 'take' | 'label' | 'prompt' | 'at'> & { result: TakeResult };

function entry(session: Session, credits: RenderCredits, options: GalleryOptions, facts: EntryFacts): GalleryEntry {
  const { result, ...rest } = facts;
  const name = namer(options.anonymous || credits.anonymous === true);
  return {
    sessionId: session.id,
    channelKey: session.channelKey,
    thread: { ...session.thread },
    ...rest,
    lineage: lineageText(credits.lineage, name),
    credits: credits.contributors.map((c) => ({ name: name(c.person), roles: [...c.roles] })),
    video: result.video,
    preview: result.preview.contentType.startsWith('image/') ? result.preview : null,
  };
}

/** "v1 by Ana → v2 by Ben", as a final's credits line reads; a long chain keeps its ends. */
function lineageText(lineage: readonly CreditLineageEntry[], name: (p: Person) => string): string {
  const chained = lineage.every((v, i) => i === 0 || v.parent?.version === lineage[i - 1]!.version);
  const parts = lineage.map((v) => `v${v.version} by ${name(v.author)}`);
  const shown = parts.length > LINEAGE_SHOWN ? [parts[0]!, '…', ...parts.slice(-(LINEAGE_SHOWN - 2))] : parts;
  return shown.join(chained ? ' → ' : ', ');
}

/**
 * People's names, or "contributor N" numbered by first appearance (lineage first, then the
 * contributors: the order `entry` asks in), as src/provenance/credits.ts `anonymize` numbers them.
 */
function namer(anonymous: boolean): (p: Person) => string {
  if (!anonymous) return (p) => p.name;
  const numbers = new Map<string, number>();
  return (p) => {
    let n = numbers.get(p.id);
    if (n === undefined) numbers.set(p.id, (n = numbers.size + 1));
    return `contributor ${n}`;
  };
}
