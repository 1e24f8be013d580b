import type { ThreadRef } from './ports/chat-adapter.ts';
import type { RenderRequest, TakeResult, WithheldTake } from './ports/job-queue.ts';
import type { ArtifactRef } from './ports/artifact-store.ts';

/**
 * The shapes of a session: one per chat thread, holding the prompt lineage, the render jobs and
 * their vote rounds. Everything is plain JSON because the Redis store keeps a session as one
 * document and rewrites it with compare-and-set (see src/core/ports/session-store.ts).
 *
 * Take indexes are 0-based everywhere in data and action keys; people see `index + 1`.
 */

export interface Person {
  id: string;
  name: string;
}

export interface PromptVersion {
  /** 1-based, assigned by the store so two concurrent edits never share a number. */
  n: number;
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** The version this one was derived from; null for v1. */
  parent: number | null;
  author: Person;
  createdAt: number;
  /** A short human description of what changed against the parent, e.g. "seed 7 -> 12". */
  change: string;
  /** In a storyboard: the shot (1-based) whose prompt this version holds. */
  shot?: number;
}

/** Render settings that outlive one version (changed by `takes: N` and the /video options). */
export interface RenderSettings {
  takes: number;
  steps?: number;
  guidance?: number;
  frames?: number;
  /** An image to animate, kept for the versions that follow until replaced. */
  image?: { artifact: ArtifactRef; strength: number };
  /** The model the session renders with (`/video model:`); absent: the pool's default. */
  model?: string;
  /** A clause added to every prompt for the model (a saved `style` default), e.g. "pixel art". */
  style?: string;
}

export type JobStateName = 'queued' | 'rendering' | 'previewed' | 'done' | 'failed' | 'cancelled';

/** render/vary: new takes; finalize: one take again at final quality; extend: a take made longer; bridge: two takes joined by a generated transition; cut: a storyboard's film. */
export type JobKind = 'render' | 'finalize' | 'extend' | 'vary' | 'bridge' | 'cut';

export interface JobRecord {
  jobId: string;
  version: number;
  kind: JobKind;
  quality: 'draft' | 'final';
  /** Takes requested; `artifacts` fills in as they arrive. */
  takes: number;
  state: JobStateName;
  /** 1 for the first run; the queue's retries raise it. */
  attempt: number;
  artifacts: TakeResult[];
  /** Takes the frame check kept back: never stored, shown in the thread as withheld. */
  withheld?: WithheldTake[];
  /** Takes a moderator removed: gone from `artifacts`, their files deleted, their posts replaced by a note. */
  removed?: RemovedTake[];
  /**
   * Preview messages posted for this job and the stored preview file of each take in them, so a
   * removal can find every message that carries a take's files (post keys alone do not say which
   * steps were posted, nor which files each holds).
   */
  previewPosts?: PreviewPost[];
  error: { code: string; message: string } | null;
  requestedBy: Person;
  /**
   * The chat event (`platform:eventId`) that asked for this job. Recorded in the same write as
   * the job, so a retry of that event after the bot died mid-answer finds the job and is answered
   * with it instead of rendering twice (SessionStore.getByOrigin).
   */
  origin?: string;
  /** For finalize/extend/vary/bridge: the take this job was made from (a bridge's `from`). */
  source?: { jobId: string; take: number };
  /** For a cut: the take used for each shot, in order, e.g. "shot 2: v3#1"; for a bridge, its two ends. */
  parts?: string[];
  /** The model it renders with, from the session's settings when it was recorded; absent: the pool's default. */
  model?: string;
  /**
   * Exactly what the queue is asked to render, stored with the job so a job recorded but never
   * handed to the queue (the bot died in between) can be admitted later. Absent on jobs recorded
   * before it existed, which were always queued in the same step.
   */
  request?: RenderRequest;
  createdAt: number;
  updatedAt: number;
  cancelledBy?: Person;
  /**
   * When delivery finished showing the job's end in its thread (every take posted, or the
   * failure shown). Until then the job sits in the store's undelivered index, and any bot's
   * reconciliation finishes the job's delivery, so an end reached while every bot was down is
   * still posted. Absent on jobs recorded before it existed.
   */
  deliveredAt?: number | null;
}

export interface RemovedTake {
  /** 0-based, as in `artifacts`. */
  index: number;
  by: Person;
  at: number;
  /**
   * Artifact keys of the take's own files (video, preview), recorded in the same write that takes
   * it out of `artifacts`: deleting them comes after, so a removal interrupted by a crash is
   * finished by the next attempt, which finds them here.
   */
  files: string[];
  /** For a final or a cut removed with a take: the take that took it down ("v2#1"). */
  with?: string;
}

export interface PreviewPost {
  /** The preview post key's index (see delivery); for previews shown on the progress message, the step's. */
  index: number;
  /**
   * Shown on the job's progress message, which swaps in each newer preview and drops the last one
   * when the job ends (absent: a preview message of its own, as posted before that).
   */
  onProgress?: true;
  /** Artifact keys by 0-based take. */
  files: Array<{ take: number; key: string }>;
}

export type RoundCloseReason = 'deadline' | 'quorum' | 'owner-pick';

export interface VoteRound {
  /** 1-based per session; short so it fits in a button's action key. */
  id: number;
  jobId: string;
  version: number;
  takes: number;
  /** Takes the frame check withheld (never posted, not votable). */
  withheld?: number[];
  /** Takes a moderator removed: not votable, and votes cast for them no longer count. */
  removed?: number[];
  /** userId -> take index; one entry per person, so changing a vote overwrites it. */
  votes: Record<string, number>;
  /** userId -> the name the platform showed when they voted (for the credits of a final). */
  voterNames?: Record<string, string>;
  deadline: number;
  /** Distinct voters needed to close early (with a single leader); 0 disables it. */
  quorum: number;
  openedAt: number;
  closed: { reason: RoundCloseReason; at: number; by?: Person } | null;
  winner: number | null;
  /** When the result was posted; a closed round stays in the store's due index until then. */
  announcedAt?: number | null;
}

/** The take the next version builds on (a round's winner). */
export interface BasePick {
  jobId: string;
  version: number;
  take: number;
  seed: number;
  roundId: number;
}

export interface Session {
  id: string;
  thread: ThreadRef;
  /** Fair-share key of the channel, e.g. "discord:123". */
  channelKey: string;
  owner: Person;
  createdAt: number;
  versions: PromptVersion[];
  /** The version replies refine (not always the newest: `from v2:` moves it). */
  current: number;
  settings: RenderSettings;
  jobs: JobRecord[];
  rounds: VoteRound[];
  /** Set when a round closes with a winner; the next version takes its seed. */
  base: BasePick | null;
  /** Present when the thread is a storyboard: several shots, one film. */
  storyboard?: Storyboard;
  /** Bumped by every write; the store's compare-and-set compares it. */
  rev: number;
}

/**
 * A storyboard: shots rendered and voted on separately, then cut into one film. Each shot's
 * prompt lives in the session's versions (`PromptVersion.shot`), so revising a shot is the same
 * lineage as refining any prompt; `shots[i]` is the version holding shot i+1's current prompt.
 */
export interface Storyboard {
  /** Added to every shot's prompt so the film keeps one look; '' for none. */
  style: string;
  /** Version numbers, one per shot, in film order. */
  shots: number[];
}

/** What a caller supplies for a new version; the store assigns `n` and `createdAt`. */
export type VersionDraft = Omit<PromptVersion, 'n' | 'createdAt'>;

/** A message the core posted, keyed so the same item is never posted twice. */
export interface PostKey {
  /** The job (or `round:<sessionId>:<id>` for round results) the post belongs to. */
  scope: string;
  kind: string;
  index: number;
}
