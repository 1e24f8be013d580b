import { chainPreviewSegments } from './segment-plan.ts';
import type { CoreMetrics } from './ports/metrics.ts';
import type { ChatAdapter, OutgoingAttachment, Platform, ThreadRef } from './ports/chat-adapter.ts';
import type { JobEvent, JobQueue, JobStatus } from './ports/job-queue.ts';
import type { ArtifactRef, ArtifactStore } from './ports/artifact-store.ts';
import type { SessionStore } from './ports/session-store.ts';
import type { AuditLog } from './ports/audit-log.ts';
import { describeFinding } from './ports/frame-check.ts';
import { auditPlace, recordAudit } from './audit.ts';
import { isDailiesError } from '../errors.ts';
import type { JobRecord, JobStateName, PostKey, Session, VoteRound } from './session.ts';
import { findJob, isTerminal, recordPreviewPost } from './session-state.ts';
import { findRound } from './vote-round.ts';
import { finalMessage, progressMessage, roundMessage, roundResultMessage, takeMessage, withheldLabel, withheldMessage, type ProgressView } from './render-message.ts';
import { ThreadPoster } from './thread-poster.ts';
import { DEFAULT_CONFIG, adapterDirectory, silentLogger, systemClock, type AdapterDirectory, type Clock, type CoreConfig, type Logger } from './runtime.ts';

/**
 * Delivery: job events in, thread messages out. For each job, in the thread it came from:
 * one progress message edited in place (queue position, bar, step k/N, the newest preview;
 * throttled, final state always sent), then one message per take (video + Vote, Pick,
 * Finalize, Vary, Extend) and one vote message whose tally is edited live. Final-quality jobs get
 * their video without a vote. Every post goes through the store's post claims, so a job retried
 * by the queue, a 'completed' delivered twice or a restarted bot never posts an item twice.
 *
 * Events of one job are handled in order; different jobs proceed in parallel.
 */

/** Shrinks a stored video to fit `maxBytes` (the media module re-encodes it) and stores the result; returns the smaller artifact. */
export type FitToSize = (ref: ArtifactRef, maxBytes: number) => Promise<ArtifactRef>;

export interface DeliveryDeps {
  store: SessionStore;
  queue: Pick<JobQueue, 'onEvent'>;
  adapters: AdapterDirectory | Partial<Record<Platform, ChatAdapter>> | readonly ChatAdapter[];
  artifacts: Pick<ArtifactStore, 'publicUrl'>;
  fitToSize?: FitToSize;
  /** Where withheld takes are recorded; absent: nowhere. */
  audit?: AuditLog | null;
  /** Where people on `platform` can read a signed final's Content Credentials; null: nowhere (the post carries the credits line only). */
  credentialsUrl?: (platform: Platform, ref: ArtifactRef) => string | null;
  clock?: Clock;
  log?: Logger;
  /** Counts failed posts for operators; absent: nothing is counted. */
  metrics?: Pick<CoreMetrics, 'postFailed'>;
  config?: Partial<CoreConfig>;
  /** How often due vote rounds are swept from the store (covers restarts); default 30 s. */
  sweepIntervalMs?: number;
}

export interface Delivery {
  /** Subscribes to the queue and closes rounds whose deadline passed while the bot was down. */
  start(): void;
  stop(): Promise<void>;
  handle(event: JobEvent): Promise<void>;
  /** Posts the progress message for a job just enqueued (before the queue's first event). */
  track(jobId: string, status?: JobStatus): Promise<void>;
  /** A round changed (vote, pick, deadline): edit its tally; announce the winner once when closed. */
  roundChanged(session: Session, round: VoteRound): Promise<void>;
  /** Closes every round past its deadline and announces every closed round not yet announced. */
  sweepRounds(): Promise<void>;
  /** Resolves when all work started so far is done (tests, shutdown). */
  idle(): Promise<void>;
}

const CONTENT_EXT: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'image/gif': 'gif',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/jpeg': 'jpg',
};

function isEndEvent(event: JobEvent): boolean {
  return event.type === 'completed' || event.type === 'cancelled' || (event.type === 'failed' && !event.willRetry);
}

/** The take a withheld note is about, as people name takes: "v1#2", "final of v1#2", "cut of v3". */
function progressKey(jobId: string): PostKey {
  return { scope: jobId, kind: 'progress', index: 0 };
}

export function createDelivery(deps: DeliveryDeps): Delivery {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const config = { ...DEFAULT_CONFIG, ...deps.config };
  const adapters = adapterDirectory(deps.adapters);
  const store = deps.store;
  const poster = new ThreadPoster({ store, adapters, clock, log, editIntervalMs: config.editIntervalMs, ...(deps.metrics && { metrics: deps.metrics }) });
  const views = new Map<string, ProgressView>();
  const chains = new Map<string, Promise<void>>();
  const opened = new Set<string>();
  const roundTimers = new Map<string, unknown>();
  let unsubscribe: (() => void) | null = null;
  let sweepTimer: unknown = null;
  let stopped = false;

  function viewOf(jobId: string): ProgressView {
    let v = views.get(jobId);
    if (!v) {
      v = { position: null, etaMs: null, step: 0, totalSteps: 0, segment: 0, segments: 0, startedAt: null };
      views.set(jobId, v);
    }
    return v;
  }

  /** Runs `work` after earlier work of the same job, so events of a job are applied in order. */
  function serial(jobId: string, work: () => Promise<void>): Promise<void> {
    const prev = chains.get(jobId) ?? Promise.resolve();
    const next = prev.then(work).catch((error: unknown) => log.error(`delivery of job ${jobId} failed`, error));
    chains.set(jobId, next);
    void next.finally(() => {
      if (chains.get(jobId) === next) chains.delete(jobId);
    });
    return next;
  }

  async function showProgress(session: Session, job: JobRecord): Promise<void> {
    const message = progressMessage(session, job, viewOf(job.jobId), clock.now());
    const key = progressKey(job.jobId);
    if (!opened.has(job.jobId)) {
      opened.add(job.jobId);
      await poster.openLive(session.thread, key, message);
      if (isTerminal(job.state)) poster.setLive(session.thread, key, message, true);
      return;
    }
    poster.setLive(session.thread, key, message, isTerminal(job.state));
    if (isTerminal(job.state)) {
      opened.delete(job.jobId);
      views.delete(job.jobId);
    }
  }

  async function uploadable(thread: ThreadRef, ref: ArtifactRef, kind: OutgoingAttachment['kind'], filename: string, signed = false): Promise<{ attachment: OutgoingAttachment | null; note: string | null }> {
    const max = poster.maxUploadBytes(thread);
    let upload = ref;
    // A re-encode would drop a signed file's Content Credentials: such a file is linked instead.
    if (upload.bytes > max && deps.fitToSize && !signed) upload = await deps.fitToSize(ref, max);
    if (upload.bytes > max) {
      // Never hand the platform a file it will reject; link to it instead.
      return { attachment: null, note: `The file is too large to upload here; open it at ${deps.artifacts.publicUrl(ref)}` };
    }
    return { attachment: { kind, key: upload.key, filename: `${filename}.${CONTENT_EXT[upload.contentType] ?? 'bin'}`, contentType: upload.contentType, bytes: upload.bytes, ...(signed ? { signed: true } : {}) }, note: null };
  }

  /** Moves the stored job to `to`; returns null when the event no longer applies (e.g. completed after cancel). */
  async function moveJob(jobId: string, to: JobStateName, patch: Parameters<SessionStore['transitionJob']>[2] = {}) {
    try {
      return await store.transitionJob(jobId, to, patch);
    } catch (error) {
      if (isDailiesError(error) && error.code === 'conflict') {
        log.warn(`ignoring a late '${to}' for job ${jobId}: ${error.message}`);
        return null;
      }
      throw error;
    }
  }

  /**
   * The newest preview goes on the job's progress message (one message per job, edited in place,
   * its file swapped for each newer preview) instead of a message per preview step: a refined
   * session's takes are not pushed far down the thread by previews.
   */
  async function showPreview(session: Session, job: JobRecord, event: Extract<JobEvent, { type: 'preview' }>): Promise<void> {
    const segments = event.segments ?? 1;
    const segment = event.segment ?? 1;
    // A chain of 40 segments would upload 160 previews: it shows its first segment's as usual,
    // then one preview of the newest segment at each quarter of the chain.
    if (segments > 1 && segment > 1 && !chainPreviewSegments(segments).has(segment)) return;
    const index = segments > 1 ? segment * 1000 + (segment === 1 ? event.step : 0) : event.step;
    const attachments: OutgoingAttachment[] = [];
    let skipped = 0;
    for (const [i, ref] of event.previews.entries()) {
      const { attachment } = await uploadable(session.thread, ref, 'preview', `v${job.version}-step${event.step}-take${(event.takes?.[i] ?? i) + 1}`);
      if (attachment) attachments.push(attachment);
      else skipped++;
    }
    const withheld = event.takes ? job.takes - event.takes.length : 0;
    viewOf(job.jobId).preview = { step: event.step, totalSteps: event.totalSteps, segment: { k: segment, n: segments }, attachments, skipped, withheld };
    // Which take's files the progress message showed, so removing a take deletes them (src/core/take-removal.ts).
    const files = event.previews.map((p, i) => ({ take: event.takes?.[i] ?? i, key: p.key }));
    if (!job.previewPosts?.some((p) => p.index === index)) {
      await store.update(session.id, (s) => ({ session: recordPreviewPost(s, job.jobId, { index, files, onProgress: true }), value: null }));
    }
  }

  /**
   * Posts every take (and opens the vote round for drafts). Returns false when some take is
   * claimed by another process and not yet posted: that process may have died holding it, so the
   * job is not marked delivered and reconciliation looks again once the claim's lease runs out.
   */
  async function postTakes(session: Session, job: JobRecord): Promise<boolean> {
    const takes = [...job.artifacts].sort((a, b) => a.index - b.index);
    let complete = true;
    for (const withheld of job.withheld ?? []) {
      // Recorded once, by the process whose post went out: a re-delivered job finds its note posted.
      let posted = false;
      const ref = await poster.postOnce(session.thread, { scope: job.jobId, kind: 'withheld', index: withheld.index }, async () => {
        posted = true;
        return withheldMessage(session, job, withheld);
      });
      if (ref && posted) recordAudit(deps.audit, { at: clock.now(), kind: 'withheld', ...auditPlace(session.thread, session.id), actor: null, what: `${withheldLabel(session, job, withheld.index)}: ${describeFinding(withheld.finding)}`, jobId: job.jobId }, log);
      complete &&= ref !== null;
    }
    // Nothing left to vote on: the notes above are the whole result.
    if (takes.length === 0) return complete;
    if (job.quality === 'final') {
      for (const take of takes) {
        const ref = await poster.postOnce(session.thread, { scope: job.jobId, kind: 'final', index: take.index }, async () => {
          const { attachment, note } = await uploadable(session.thread, take.video, 'final', `${session.id}-v${job.version}-final`, take.signed === true);
          return finalMessage(session, job, take, attachment, note, take.signed ? (deps.credentialsUrl?.(session.thread.platform, take.video) ?? null) : null);
        });
        complete &&= ref !== null;
      }
      return complete;
    }
    const { session: withRound, round } = await store.openRound(session.id, { jobId: job.jobId, takes: job.takes, withheld: (job.withheld ?? []).map((w) => w.index), removed: (job.removed ?? []).map((r) => r.index), deadline: clock.now() + config.voteWindowMs, quorum: config.quorum });
    for (const take of takes) {
      const ref = await poster.postOnce(session.thread, { scope: job.jobId, kind: 'take', index: take.index }, async () => {
        const { attachment, note } = await uploadable(session.thread, take.video, 'final', `${session.id}-v${job.version}-take${take.index + 1}`);
        return takeMessage(withRound, job, take.index, take.seed, round, attachment, note);
      });
      complete &&= ref !== null;
    }
    await poster.openLive(session.thread, roundKey(round), roundMessage(withRound, round));
    if (round.closed) await roundChanged(withRound, round);
    else scheduleRound(withRound, round);
    return complete;
  }

  function roundKey(round: VoteRound): PostKey {
    return { scope: round.jobId, kind: 'round', index: round.id };
  }

  function scheduleRound(session: Session, round: VoteRound): void {
    const id = `${session.id}:${round.id}`;
    if (round.closed || roundTimers.has(id) || stopped) return;
    roundTimers.set(
      id,
      clock.setTimeout(() => {
        roundTimers.delete(id);
        void serial(`round:${id}`, () => closeDue(session.id));
      }, Math.max(0, round.deadline - clock.now())),
    );
  }

  /** Closes the session's expired rounds, then announces every closed round whose result is not posted. */
  async function closeDue(sessionId: string): Promise<void> {
    const { session } = await store.closeExpired(sessionId);
    for (const round of session.rounds) {
      if (round.closed && !round.announcedAt) await roundChanged(session, round);
    }
  }

  async function roundChanged(given: Session, round: VoteRound): Promise<void> {
    // Re-read: concurrent votes may finish their writes in one order and reach here in another.
    const session = (await store.get(given.id)) ?? given;
    const fresh = findRound(session, round.id) ?? round;
    poster.setLive(session.thread, roundKey(fresh), roundMessage(session, fresh), fresh.closed !== null);
    if (!fresh.closed) return;
    const timer = roundTimers.get(`${session.id}:${fresh.id}`);
    if (timer !== undefined) {
      clock.clearTimeout(timer);
      roundTimers.delete(`${session.id}:${fresh.id}`);
    }
    await poster.postOnce(session.thread, { scope: fresh.jobId, kind: 'result', index: fresh.id }, () => roundResultMessage(fresh));
    // Until this write the round stays in the store's due index, so a result lost to a crash or a
    // missing adapter is posted by the next sweep.
    if (!fresh.announcedAt) await store.markAnnounced(session.id, fresh.id);
  }

  /**
   * Shows a job's end in full — every take posted (and its vote round opened), or the failure in
   * its progress message — and only then marks it delivered, which takes it out of the store's
   * undelivered index. A crash anywhere before that leaves it for the reconciliation to finish;
   * the post claims keep whatever was already posted from being posted again.
   */
  async function finish(session: Session, job: JobRecord): Promise<void> {
    if (job.state === 'done' && !(await postTakes(session, job))) return;
    // The final progress edit may wait out the edit throttle; the job's other work need not.
    poster.whenSettled(progressKey(job.jobId), async (sent) => {
      if (sent) await store.markDelivered(job.jobId);
    });
  }

  async function process(event: JobEvent): Promise<void> {
    const before = await store.getByJob(event.jobId);
    const known = before && findJob(before, event.jobId);
    if (!before || !known) return; // another server's job, or one this store has forgotten
    // Its end is shown in full: duplicates and stragglers change nothing.
    if (known.deliveredAt) return;
    // Stragglers after the end; the end itself is delivered again until it is marked delivered.
    if (isTerminal(known.state) && !isEndEvent(event)) return;
    const view = viewOf(event.jobId);
    let moved: Awaited<ReturnType<typeof moveJob>> = { session: before, job: known, changed: false };
    switch (event.type) {
      case 'queued':
        view.position = event.position;
        view.etaMs = event.etaMs;
        break;
      case 'started':
        view.position = null;
        view.startedAt ??= clock.now();
        moved = await moveJob(event.jobId, 'rendering', { attempt: Math.max(known.attempt, event.attempt) });
        break;
      case 'progress':
        view.position = null;
        view.startedAt ??= clock.now();
        view.step = event.step;
        view.totalSteps = event.totalSteps;
        view.segment = event.segment ?? 0;
        view.segments = event.segments ?? 0;
        if (known.state === 'queued') moved = await moveJob(event.jobId, 'rendering');
        break;
      case 'preview':
        view.step = event.step;
        view.totalSteps = event.totalSteps;
        view.segment = event.segment ?? 0;
        view.segments = event.segments ?? 0;
        if (known.state !== 'previewed') moved = await moveJob(event.jobId, 'previewed');
        break;
      case 'completed':
        if (view.totalSteps > 0) view.step = view.totalSteps;
        moved = await moveJob(event.jobId, 'done', { artifacts: event.takes, ...(event.withheld?.length ? { withheld: event.withheld } : {}), error: null });
        break;
      case 'failed':
        moved = event.willRetry ? await moveJob(event.jobId, 'queued', { error: event.error }) : await moveJob(event.jobId, 'failed', { error: event.error });
        break;
      case 'cancelled':
        moved = await moveJob(event.jobId, 'cancelled');
        break;
    }
    if (!moved) return;
    const { session, job } = moved;
    if (event.type === 'preview') await showPreview(session, job, event);
    await showProgress(session, job);
    if (isTerminal(job.state)) await finish(session, job);
  }

  async function sweepRounds(): Promise<void> {
    const due = await store.dueRounds(clock.now());
    const sessions = [...new Set(due.map((d) => d.sessionId))];
    await Promise.all(sessions.map((id) => serial(`round:${id}`, () => closeDue(id))));
  }

  function scheduleSweep(): void {
    if (stopped) return;
    sweepTimer = clock.setTimeout(() => {
      void sweepRounds()
        .catch((error: unknown) => log.warn('sweeping vote rounds failed', error))
        .finally(scheduleSweep);
    }, deps.sweepIntervalMs ?? 30_000);
  }

  return {
    start() {
      if (unsubscribe) return;
      stopped = false;
      unsubscribe = deps.queue.onEvent((event) => {
        void serial(event.jobId, () => process(event));
      });
      void sweepRounds().catch((error: unknown) => log.warn('sweeping vote rounds failed', error));
      scheduleSweep();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribe = null;
      if (sweepTimer !== null) clock.clearTimeout(sweepTimer);
      for (const t of roundTimers.values()) clock.clearTimeout(t);
      roundTimers.clear();
      await Promise.allSettled([...chains.values()]);
      await poster.stop();
    },
    handle(event) {
      return serial(event.jobId, () => process(event));
    },
    track(jobId, status) {
      return serial(jobId, async () => {
        // Yield to the event loop first: the command that enqueued this job answers its
        // platform before its progress message competes for the CPU.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const session = await store.getByJob(jobId);
        const job = session && findJob(session, jobId);
        if (!session || !job || job.deliveredAt) return;
        if (status) {
          const view = viewOf(jobId);
          view.position = status.position;
          view.etaMs = status.etaMs;
        }
        await showProgress(session, job);
        // Ended before the queue had it (refused, or cancelled while awaiting admission).
        if (isTerminal(job.state)) await finish(session, job);
      });
    },
    roundChanged(session, round) {
      return serial(`round:${session.id}`, () => roundChanged(session, round));
    },
    sweepRounds,
    async idle() {
      for (;;) {
        const pending = [...chains.values()];
        await Promise.allSettled(pending);
        await poster.idle();
        if (chains.size === 0) return;
      }
    },
  };
}
