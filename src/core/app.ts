import { DailiesError } from '../errors.ts';
import type { ActionEvent, ChatAdapter, ChatEvent, ChatEventHandler, CommandEvent, EventOutcome, Platform, ReplyEvent, ThreadRef } from './ports/chat-adapter.ts';
import type { JobQueue } from './ports/job-queue.ts';
import type { SessionStore } from './ports/session-store.ts';
import type { AuditLog } from './ports/audit-log.ts';
import { noMetrics, type CoreMetrics } from './ports/metrics.ts';
import { auditActor, auditPlace, recordAudit } from './audit.ts';
import { allowAllPolicy, combinePolicies, createPromptPolicy, type PromptPolicy } from '../safety/prompt-policy.ts';
import type { RateLimiter } from '../safety/rate-limit.ts';
import type { RenderQuota } from '../safety/render-quota.ts';
import type { ChannelTerms } from './ports/channel-terms.ts';
import type { PromptCheck } from './ports/prompt-check.ts';
import type { PersonBlock, PersonBlocks } from './ports/person-blocks.ts';
import type { ModelCatalog } from './ports/model-catalog.ts';
import type { SettingsStore } from './ports/settings-store.ts';
import { blockScopeOf, blockedError } from './person-block-check.ts';
import type { ArtifactStore } from './ports/artifact-store.ts';
import { optionsError, textOption } from './command-options.ts';
import { parseAction, type ParsedAction } from './actions.ts';
import { channelOf, eventOrigin, type CommandContext, type CommandDefinition, type CoreServices, type ImageIntake } from './command-context.ts';
import type { Admission } from './admission.ts';
import type { Delivery } from './delivery.ts';
import { errorOutcome } from './outcome.ts';
import { requireManager } from './permissions.ts';
import { parseRefinement } from './refine-grammar.ts';
import { refineSession } from './refine-flow.ts';
import type { Session } from './session.ts';
import { currentVersion } from './session-state.ts';
import { cancelJobs, extendTake, finalizeTake, resolveTake, varyTake } from './take-flow.ts';
import { isExpired } from './vote-round.ts';
import { removeTake } from './take-removal.ts';
import { DEFAULT_CONFIG, adapterDirectory, silentLogger, randomIds, systemClock, type AdapterDirectory, type Clock, type CoreConfig, type IdSource, type Logger } from './runtime.ts';

/**
 * The dispatcher. Every chat event goes: dedupe (event id, SET NX) -> route (command by name,
 * reply through the refinement grammar, button by its action key) -> policy -> store -> answer.
 * It answers with an EventOutcome and never throws. What follows the answer is not awaited here,
 * so acks stay fast: admission hands the recorded job to the queue, and delivery does the slow
 * platform work (progress messages, previews, takes).
 */

export interface CoreDeps {
  store: SessionStore;
  queue: JobQueue;
  adapters: AdapterDirectory | Partial<Record<Platform, ChatAdapter>> | readonly ChatAdapter[];
  delivery: Pick<Delivery, 'track' | 'roundChanged'>;
  admission: Pick<Admission, 'submit'>;
  policy?: PromptPolicy;
  /** A text classifier every prompt passes before it is stored (DAILIES_PROMPT_CHECK); absent: the terms only. */
  promptCheck?: PromptCheck | null;
  rateLimiter?: RateLimiter | null;
  /** Daily work budgets (src/safety/render-quota.ts); absent: no budgets. */
  quota?: RenderQuota | null;
  /** Channels' own blocked terms (/policy); absent: the server's list only. */
  channelTerms?: ChannelTerms | null;
  /** People moderators blocked from the bot (/block); absent: nobody can be blocked. */
  blocks?: PersonBlocks | null;
  /** Needed for /video with an image; without it such requests are refused with one sentence. */
  images?: ImageIntake | null;
  /** Where prompts, votes, picks, finals, cancels and refusals are recorded; absent: nowhere. */
  audit?: AuditLog | null;
  /** Where a removed take's files are deleted; absent: /remove and the Remove button are refused. */
  artifacts?: Pick<ArtifactStore, 'delete'> | null;
  /** The models the pool serves (/models, `/video model:`); absent: one model, and `model:` is refused. */
  models?: ModelCatalog | null;
  /** People's and channels' render defaults (/settings); absent: /settings is refused and the built-in defaults apply. */
  settings?: SettingsStore | null;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  config?: Partial<CoreConfig>;
  /** Counts for operators (`/metrics`): acks, refusals, failed posts; absent: nothing is counted. */
  metrics?: CoreMetrics;
  /** Every chat command (commands/index.ts), handed in by the entry point: the core imports none. */
  commands: readonly CommandDefinition[];
}

export type Core = ChatEventHandler & { readonly commands: readonly CommandDefinition[] };

const formPrompt = textOption('prompt', 1);
const formNegative = textOption('negative', 0);

/** How long an event being handled is held against retries before a crashed handler's event may run again. */
const EVENT_CLAIM_MS = 10_000;

/** The command a name refers to, however a platform spells it ("/Video", " video"). */
export function findCommand(registry: readonly CommandDefinition[], name: string): CommandDefinition | undefined {
  const wanted = typeof name === 'string' ? name.trim().replace(/^\//, '').toLowerCase() : '';
  return registry.find((c) => c.name === wanted);
}

export function createCore(deps: CoreDeps): Core {
  const registry = deps.commands;
  const services: CoreServices = {
    store: deps.store,
    queue: deps.queue,
    policy: deps.policy ?? allowAllPolicy,
    promptCheck: deps.promptCheck ?? null,
    clock: deps.clock ?? systemClock,
    ids: deps.ids ?? randomIds,
    config: { ...DEFAULT_CONFIG, ...deps.config },
    log: deps.log ?? silentLogger,
    adapters: adapterDirectory(deps.adapters),
    delivery: deps.delivery,
    admission: deps.admission,
    rateLimiter: deps.rateLimiter ?? null,
    quota: deps.quota ?? null,
    channelTerms: deps.channelTerms ?? null,
    blocks: deps.blocks ?? null,
    images: deps.images ?? null,
    models: deps.models ?? null,
    settings: deps.settings ?? null,
    audit: deps.audit ?? null,
    artifacts: deps.artifacts ?? null,
  };
  const { store, log, clock } = services;
  const commandList = registry.map((c) => ({ name: c.name, description: c.description }));

  function adapterFor(platform: Platform): ChatAdapter {
    const adapter = services.adapters(platform);
    if (!adapter) throw new DailiesError('unavailable', `This server has no ${platform} connection; ask the admin to configure it.`);
    return adapter;
  }

  // What every event's context shares, built once. Each context inherits it and adds only the
  // event's own fields: spreading the services into a fresh object with new keys takes V8's slow
  // path in Node 20 (about 2 µs, a tenth of the core's own work per command).
  const shared: Omit<CommandContext, 'event' | 'user' | 'session'> = {
    ...services,
    commands: commandList,
    post: (thread, message) => adapterFor(thread.platform).post(thread, message),
    startThread: (origin, message) => adapterFor(origin.platform).startThread(origin, message),
  };

  async function contextFor(event: ChatEvent, session: Session | null): Promise<CommandContext> {
    const ctx = Object.create(shared) as CommandContext;
    ctx.event = event;
    ctx.user = event.user;
    ctx.session = session;
    // The channel's own blocked terms (/policy) join the server's for everything this event does.
    if (services.channelTerms) ctx.policy = combinePolicies(services.policy, channelPolicy(await services.channelTerms.list(channelOf(ctx))));
    return ctx;
  }

  /** A compiled policy per distinct term list: channels rarely change theirs, and compiling is not free. */
  const compiled = new Map<string, PromptPolicy>();
  function channelPolicy(terms: readonly string[]): PromptPolicy {
    const key = terms.join('\n');
    let policy = compiled.get(key);
    if (!policy) {
      if (compiled.size >= 256) compiled.delete(compiled.keys().next().value!);
      policy = createPromptPolicy({ blockedTerms: terms, scope: 'channel' });
      compiled.set(key, policy);
    }
    return policy;
  }

  /** The "check on read" of vote deadlines: a round past its deadline is closed before anyone acts on it. */
  async function fresh(session: Session | null): Promise<Session | null> {
    if (!session) return null;
    const now = clock.now();
    if (!session.rounds.some((r) => isExpired(r, now))) return session;
    const { session: updated, closed } = await store.closeExpired(session.id);
    for (const round of closed) void services.delivery.roundChanged(updated, round).catch((e: unknown) => log.warn('could not announce a closed round', e));
    return updated;
  }

  async function sessionOfThread(thread: ThreadRef | undefined): Promise<Session | null> {
    return thread ? fresh(await store.getByThread(thread)) : null;
  }

  async function sessionById(id: string, platform: Platform): Promise<Session> {
    const session = await fresh(await store.get(id));
    if (!session || session.thread.platform !== platform) {
      throw new DailiesError('not_found', 'This button belongs to a session that no longer exists; start a new one with /video.');
    }
    return session;
  }

  /** The person's running block, if any (read once per event, beside its dedupe claim: see `answer`). */
  type BlockRead = Promise<PersonBlock | null>;
  const noBlock: BlockRead = Promise.resolve(null);

  async function onCommand(event: CommandEvent, blockRead: BlockRead): Promise<EventOutcome> {
    const command = findCommand(registry, event.name);
    if (!command) throw new DailiesError('bad_input', `There is no /${String(event.name).slice(0, 40)} command; type /help to see the commands.`);
    const [session, block] = await Promise.all([sessionOfThread(event.thread), blockRead]);
    if (block) throw blockedError(block, clock.now());
    const parsed = command.options.safeParse(event.options);
    if (!parsed.success) throw optionsError(command.name, parsed.error);
    const ctx = await contextFor(event, session);
    return command.handler(ctx, parsed.data);
  }

  /**
   * What the author of a reply needs to see (a refusal, help) goes back in the outcome, and the
   * adapter shows it to that person only: Slack ephemeral, Discord DM, the web chat's response.
   * Posting it into the thread would show one person's typo to the whole team.
   */
  async function onReply(event: ReplyEvent, blockRead: BlockRead): Promise<EventOutcome> {
    const [session, block] = await Promise.all([sessionOfThread(event.thread), blockRead]);
    // Not a session thread, or no message content (Discord without the intent): nothing to do.
    if (!session || typeof event.text !== 'string' || event.text.trim() === '') return {};
    if (block) return errorOutcome(blockedError(block, clock.now()), log, { thread: session.thread });
    const ctx = await contextFor(event, session);
    const parsed = parseRefinement(event.text, { maxTakes: services.config.maxTakes });
    if (!parsed.ok) {
      return { thread: session.thread, ephemeral: parsed.error, error: { code: 'bad_input', message: parsed.error } };
    }
    try {
      const attachment = event.attachments?.[0];
      const outcome = await refineSession(ctx, session, parsed.edit, attachment && { attachment });
      const note = parsed.edit.kind === 'help' || parsed.edit.kind === 'takes' ? outcome.ephemeral : undefined;
      return { thread: session.thread, ...(note ? { ephemeral: note } : {}) };
    } catch (error) {
      return errorOutcome(error, log, { thread: session.thread });
    }
  }

  async function onAction(event: ActionEvent, blockRead: BlockRead): Promise<EventOutcome> {
    const action = parseAction(event.action);
    if (!action) throw new DailiesError('bad_input', 'This button is not recognised (it may be from an older version of the bot); use the newest message.');
    return runAction(event, action, blockRead);
  }

  async function runAction(event: ActionEvent, action: ParsedAction, blockRead: BlockRead): Promise<EventOutcome> {
    if (action.type === 'cancel') {
      const [session, block] = await Promise.all([store.getByJob(action.jobId).then(fresh), blockRead]);
      if (block) throw blockedError(block, clock.now());
      if (!session || session.thread.platform !== event.platform) throw new DailiesError('not_found', 'That render is not known here any more; use /status in the thread.');
      return cancelJobs(await contextFor(event, session), session, action.jobId);
    }
    const [session, block] = await Promise.all([sessionById(action.sessionId, event.platform), blockRead]);
    if (block) throw blockedError(block, clock.now());
    const ctx = await contextFor(event, session);
    switch (action.type) {
      case 'vote': {
        const { session: updated, result } = await store.recordVote(session.id, action.roundId, event.user.id, action.take, event.user.name);
        if (result.closedNow || result.accepted) void services.delivery.roundChanged(updated, result.round).catch((e: unknown) => log.warn('could not update the vote tally', e));
        if (!result.accepted) return { thread: session.thread, ephemeral: result.reason, error: { code: 'conflict', message: result.reason } };
        const moved = result.previous !== null && result.previous !== action.take;
        recordAudit(services.audit, { at: clock.now(), kind: 'vote', ...auditPlace(session.thread, session.id), actor: auditActor(event.user), what: `take ${action.take + 1} of v${result.round.version}${moved ? ` (moved from take ${(result.previous ?? 0) + 1})` : ''}`, jobId: result.round.jobId }, log);
        // Named with the version: a thread holds several rounds, and people vote on older ones too.
        const v = result.round.version;
        const closed = result.closedNow ? ` That closed the vote: take ${(result.round.winner ?? action.take) + 1} of v${v} won.` : '';
        return { thread: session.thread, ephemeral: `${moved ? `Your vote on v${v} moved from take ${(result.previous ?? 0) + 1} to take ${action.take + 1}.` : `You voted for take ${action.take + 1} of v${v}.`}${closed}` };
      }
      case 'pick': {
        requireManager(session, event.user, 'close the vote');
        const { session: updated, round } = await store.closeRound(session.id, action.roundId, { take: action.take, by: { id: event.user.id, name: event.user.name } });
        void services.delivery.roundChanged(updated, round).catch((e: unknown) => log.warn('could not announce the pick', e));
        if (round.closed?.reason !== 'owner-pick') {
          const message = `The vote had already closed at its deadline${round.winner !== null ? ` with take ${round.winner + 1} winning` : ''}; refine or finalize that take.`;
          return { thread: session.thread, ephemeral: message, error: { code: 'conflict', message } };
        }
        recordAudit(services.audit, { at: clock.now(), kind: 'pick', ...auditPlace(session.thread, session.id), actor: auditActor(event.user), what: `take ${action.take + 1} of v${round.version}`, jobId: round.jobId }, log);
        return { thread: session.thread, ephemeral: `You picked take ${action.take + 1}; it is the base of the next version.` };
      }
      case 'finalize':
        return finalizeTake(ctx, session, action.take, action.jobId);
      case 'vary':
        return varyTake(ctx, session, action.take, session.settings.takes, action.jobId);
      case 'extend':
        return extendTake(ctx, session, resolveTake(session, action.take, action.jobId), ctx.config.defaultExtendFrames, 'forward');
      case 'remove':
        return removeTake(ctx, session, { version: null, take: action.take }, action.jobId);
      case 'reroll':
        return refineSession(ctx, session, { kind: 'reroll' });
      case 'edit-prompt': {
        const v = currentVersion(session);
        return {
          thread: session.thread,
          openForm: {
            action: `edit-prompt-submit:${session.id}`,
            title: `Edit the prompt (v${v.n})`,
            fields: [
              { id: 'prompt', label: 'Prompt', value: v.prompt, multiline: true },
              { id: 'negative', label: 'Avoid (negative prompt)', value: v.negativePrompt, multiline: true },
            ],
          },
        };
      }
      case 'edit-prompt-submit': {
        const values = event.values ?? {};
        const prompt = formPrompt.safeParse(values.prompt);
        if (!prompt.success) throw optionsError('edit', prompt.error);
        const negative = formNegative.safeParse(values.negative ?? '');
        if (!negative.success) throw optionsError('edit', negative.error);
        return refineSession(ctx, session, { kind: 'form', prompt: prompt.data, negativePrompt: negative.data });
      }
    }
  }

  async function handleEvent(event: ChatEvent, blockRead: BlockRead): Promise<EventOutcome> {
    switch (event.kind) {
      case 'command':
        return onCommand(event, blockRead);
      case 'reply':
        return onReply(event, blockRead);
      case 'action':
        return onAction(event, blockRead);
      default:
        throw new DailiesError('bad_input', 'The chat event has an unknown kind; the adapter must send command, reply or action.');
    }
  }

  /** The answer to a retried event whose job is already recorded, or null when it has none. */
  async function alreadyTaken(eventKey: string): Promise<EventOutcome | null> {
    const session = await store.getByOrigin(eventKey);
    const job = session?.jobs.find((j) => j.origin === eventKey);
    if (!session || !job) return null;
    return { thread: session.thread, ephemeral: `That request was already taken: v${job.version} (${job.kind}) is ${job.state} in this thread.` };
  }

  const answer = async (event: ChatEvent): Promise<EventOutcome> => {
    try {
      if (!event || typeof event !== 'object' || typeof event.id !== 'string' || !event.user || typeof event.user.id !== 'string') {
        throw new DailiesError('bad_input', 'The chat event is missing its id or user; the adapter must fill them in.');
      }
      // Two steps, so a bot that dies mid-event does not swallow the platform's (or client's)
      // retry of it: a short claim while handling, made long once handled. A retry inside the
      // claim is a duplicate of work in progress; after it lapses, the event is handled afresh,
      // unless its job was already recorded (the bot died after the write, before confirming):
      // then the retry is answered with that job instead of rendering it twice.
      const eventKey = eventOrigin(event);
      // Whether the person is blocked (/block) is asked in the same tick as the claim, so the
      // bot's auto-pipelined Redis client sends both in one round trip. A duplicate event never
      // awaits the answer, so a failed read must not become an unhandled rejection.
      const blockRead = services.blocks ? services.blocks.get(blockScopeOf(event), event.user.id, clock.now()) : noBlock;
      blockRead.catch(() => {});
      if (!(await store.claimEvent(eventKey, Math.min(EVENT_CLAIM_MS, services.config.eventTtlMs)))) return (await alreadyTaken(eventKey)) ?? {};
      try {
        return (await alreadyTaken(eventKey)) ?? (await handleEvent(event, blockRead));
      } finally {
        await store.confirmEvent(eventKey, services.config.eventTtlMs).catch((e: unknown) => log.warn(`could not confirm event ${eventKey}`, e));
      }
    } catch (error) {
      return errorOutcome(error, log);
    }
  };

  // Refusals are recorded here, where every path ends (a thrown error, a vote on a closed round,
  // a reply the grammar did not understand), rather than at each place that refuses.
  function auditRefusal(event: ChatEvent, error: NonNullable<EventOutcome['error']>, thread: ThreadRef | undefined): void {
    // A malformed event names no one to record.
    if (!event?.user || typeof event.user.id !== 'string') return;
    const where = thread ?? event.thread;
    const channelId = where?.channelId ?? (event.kind === 'command' ? event.channelId : undefined);
    if (typeof channelId !== 'string') return;
    const place = where ? auditPlace(where) : { platform: event.platform, channelId };
    recordAudit(services.audit, { at: clock.now(), kind: 'refusal', ...place, actor: auditActor(event.user), what: error.message, code: error.code }, log);
  }

  const metrics = deps.metrics ?? noMetrics;
  const handler = async (event: ChatEvent): Promise<EventOutcome> => {
    const outcome = await answer(event);
    // An event too malformed to name its platform (answered with a refusal above) is not counted.
    const platform = (event as Partial<ChatEvent> | null)?.platform;
    if (typeof platform === 'string') {
      // Wall-clock like `receivedAt`, which adapters stamp with Date.now(), whatever clock the core runs on.
      const ackMs = (event.ackedAt ?? Date.now()) - event.receivedAt;
      if (Number.isFinite(ackMs)) metrics.answered(platform, ackMs);
      if (outcome.error) metrics.refused(platform, outcome.error.code);
    }
    if (outcome.error) auditRefusal(event, outcome.error, outcome.thread);
    return outcome;
  };
  return Object.assign(handler, { commands: registry });
}
