import { MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction, type ModalSubmitInteraction } from 'discord.js';
import type { ActionEvent, CommandEvent, EventOutcome, IncomingAttachment } from '../../src/core/ports/chat-adapter.ts';
import { STILL_RUNNING, withinDeadline } from '../../src/core/call-core.ts';
import { isDailiesError, type DailiesError } from '../../src/errors.ts';
import { answerAutocomplete } from './autocomplete.ts';
import { isStaleInteraction } from './discord-errors.ts';
import type { Ack, DiscordRuntime, Pending } from './discord-runtime.ts';
import { formModal, submittedValues } from './form-modal.ts';
import { commandOptions, defaultOpensForm, eventBasics, threadOf, threadOfComponent } from './interaction-context.ts';
import { acknowledge, answer } from './interaction-replies.ts';

/**
 * Slash commands, button clicks and modal submissions. Every interaction is acknowledged before
 * the core runs (Discord allows 3 s), except a click whose answer may be a form: a modal must be
 * the first response, so there the core runs first, within `formDeadlineMs`.
 */
export class InteractionHandler {
  constructor(private readonly rt: DiscordRuntime) {}

  async onInteraction(i: Interaction): Promise<void> {
    const { rt } = this;
    const receivedAt = Date.now();
    try {
      rt.places.rememberInteraction(i);
      if (i.isAutocomplete()) await answerAutocomplete(rt, i);
      else if (i.isChatInputCommand()) await this.onCommand(i, receivedAt);
      else if (i.isButton()) await this.onButton(i, receivedAt);
      else if (i.isModalSubmit()) await this.onModalSubmit(i, receivedAt);
      else rt.log.warn('discord: ignoring an interaction this bot does not offer', { id: i.id, type: i.type });
    } catch (error) {
      if (isStaleInteraction(error)) rt.log.warn('discord: interaction expired or was already answered; ignored', { id: i.id, error: String(error) });
      else rt.log.error('discord: interaction failed', { id: i.id, error: String(error) });
    } finally {
      rt.pending.delete(i.id);
      rt.places.rawChannels.delete(i.id);
    }
  }

  private async onCommand(i: ChatInputCommandInteraction, receivedAt: number): Promise<void> {
    const { rt } = this;
    const place = rt.places.channelOf(i);
    const thread = threadOf(place);
    let refusal: DailiesError | undefined;
    let parsed: { options: Record<string, unknown>; attachments: IncomingAttachment[] } = { options: {}, attachments: [] };
    try {
      parsed = commandOptions(i.options.data, rt.options.maxImageBytes);
    } catch (error) {
      if (!isDailiesError(error)) throw error;
      refusal = error;
    }
    const spec = rt.specs.get(i.commandName);
    // A thread cannot be started inside a thread, so /video typed in one answers privately and posts the session in the parent channel.
    const ack: Ack = spec?.reply === 'session' && !thread && !refusal ? 'session' : 'ephemeral';
    const pending: Pending = { interaction: i, ack };
    rt.pending.set(i.id, pending);
    await acknowledge(pending, () => i.deferReply(ack === 'ephemeral' ? { flags: MessageFlags.Ephemeral } : {}), rt.log);
    const ackMs = Date.now() - receivedAt;

    if (refusal) {
      const outcome: EventOutcome = { error: { code: refusal.code, message: refusal.message } };
      await answer(pending, outcome, rt.log);
      rt.settled({ id: i.id, kind: 'command', ackMs, ack: pending.ack, outcome });
      return;
    }
    const event: CommandEvent = {
      ...eventBasics(i, receivedAt, pending.ackedAt),
      kind: 'command',
      channelId: thread ? thread.channelId : place.id,
      ...(thread && { thread }),
      name: i.commandName,
      options: parsed.options,
      ...(parsed.attachments.length && { attachments: parsed.attachments }),
    };
    this.rememberPrompts(event);
    const outcome = await rt.callCore(event);
    await answer(pending, outcome, rt.log);
    rt.settled({ id: i.id, kind: 'command', ackMs, ack: pending.ack, outcome });
  }

  private async onButton(i: ButtonInteraction, receivedAt: number): Promise<void> {
    const { rt } = this;
    const event: ActionEvent = {
      ...eventBasics(i, receivedAt),
      kind: 'action',
      thread: threadOfComponent(i.message.id, rt.places.channelOf(i)),
      action: i.customId,
    };
    const pending: Pending = { interaction: i, ack: 'update' };
    rt.pending.set(i.id, pending);

    let outcome: EventOutcome;
    if ((rt.options.opensForm ?? defaultOpensForm)(i.customId)) {
      const answered = await this.answerWithForm(i, event, pending, receivedAt);
      if (answered === 'modal') return;
      outcome = answered;
    } else {
      await acknowledge(pending, () => i.deferUpdate(), rt.log);
      outcome = await rt.callCore(pending.ackedAt !== undefined ? { ...event, ackedAt: pending.ackedAt } : event);
      if (outcome.openForm && !outcome.error && !outcome.ephemeral) {
        rt.log.warn('discord: the core asked for a form after the click was acknowledged; list the action in opensForm', { action: i.customId });
        outcome = { ...outcome, ephemeral: 'Use /refine to change the prompt.' };
      }
    }
    const ackMs = pending.ackedAt !== undefined ? pending.ackedAt - receivedAt : undefined;
    await answer(pending, outcome, rt.log);
    rt.settled({ id: i.id, kind: 'action', ...(ackMs !== undefined && { ackMs }), ack: pending.ack, outcome });
  }

  /**
   * A modal has to be the first response, so the core runs before the acknowledgement here, for
   * at most `formDeadlineMs`; past that the click is deferred like any other and the form is lost.
   */
  private async answerWithForm(i: ButtonInteraction, event: ActionEvent, pending: Pending, receivedAt: number): Promise<EventOutcome | 'modal'> {
    const { rt } = this;
    const running = rt.callCore(event);
    const early = await withinDeadline(running, rt.options.formDeadlineMs ?? 1500);
    let formError: EventOutcome['error'];
    if (early !== STILL_RUNNING && early.openForm && !early.error) {
      let modal: ReturnType<typeof formModal> | undefined;
      try {
        modal = formModal(early.openForm);
      } catch (error) {
        formError = { code: 'internal', message: (error as Error).message };
      }
      if (modal) {
        pending.ack = 'modal';
        await acknowledge(pending, () => i.showModal(modal), rt.log);
        rt.settled({ id: i.id, kind: 'action', ackMs: Date.now() - receivedAt, ack: pending.ack, outcome: early });
        return 'modal';
      }
    }
    await acknowledge(pending, () => i.deferUpdate(), rt.log);
    const outcome = early === STILL_RUNNING ? await running : early;
    if (formError) return { ...outcome, error: formError };
    if (outcome.openForm && !outcome.error) return { ...outcome, ephemeral: 'The form took too long to open; use /refine to change the prompt.' };
    return outcome;
  }

  private async onModalSubmit(i: ModalSubmitInteraction, receivedAt: number): Promise<void> {
    const { rt } = this;
    const place = rt.places.channelOf(i);
    const fromMessage = i.isFromMessage();
    const pending: Pending = { interaction: i, ack: fromMessage ? 'update' : 'ephemeral' };
    rt.pending.set(i.id, pending);
    await acknowledge(pending, () => (fromMessage ? i.deferUpdate() : i.deferReply({ flags: MessageFlags.Ephemeral })), rt.log);
    const ackMs = Date.now() - receivedAt;

    const event: ActionEvent = {
      ...eventBasics(i, receivedAt, pending.ackedAt),
      kind: 'action',
      thread: fromMessage && i.message ? threadOfComponent(i.message.id, place) : (threadOf(place) ?? { platform: 'discord', channelId: place.id, threadId: place.id }),
      action: i.customId,
      values: submittedValues(i.components),
    };
    const outcome = await rt.callCore(event);
    await answer(pending, outcome, rt.log);
    rt.settled({ id: i.id, kind: 'action', ackMs, ack: pending.ack, outcome });
  }

  private rememberPrompts(event: CommandEvent): void {
    for (const key of ['prompt', 'text']) {
      const value = event.options[key];
      if (typeof value !== 'string') continue;
      this.rt.prompts.remember(event.channelId, value);
      if (event.thread) this.rt.prompts.remember(event.thread.threadId, value);
    }
  }
}
