import { DiscordAPIError, MessageFlags, RESTJSONErrorCodes } from 'discord.js';
import type { EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import { isStaleInteraction } from './discord-errors.ts';
import type { AdapterLogger, Pending } from './discord-runtime.ts';
import { noteFor } from './interaction-context.ts';
import { LIMITS, truncate } from './outgoing-message.ts';

/** How an interaction is answered: its first response (within Discord's 3 s) and the core's answer after it. */

/**
 * Sends the first response. "Already acknowledged" means this is a redelivery of an interaction
 * another delivery answered: the core still sees it (it dedupes by id) but nothing is said.
 * An expired interaction (10062) throws on, to be logged and dropped.
 */
export async function acknowledge(pending: Pending, respond: () => Promise<unknown>, log: AdapterLogger): Promise<void> {
  try {
    await respond();
    pending.ackedAt = Date.now();
  } catch (error) {
    if (!(error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged)) throw error;
    log.info?.('discord: interaction delivered again; passing it on for the core to dedupe', { id: pending.interaction.id });
    pending.ack = 'none';
  }
}

/** Delivers the core's answer on the acknowledged interaction; only the acting user sees it. */
export async function answer(pending: Pending, outcome: EventOutcome, log: AdapterLogger): Promise<void> {
  const i = pending.interaction;
  const text = noteFor(outcome);
  const ephemeral = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  try {
    switch (pending.ack) {
      case 'session': {
        if (pending.sessionMessage) {
          if (text) await i.followUp({ ...ephemeral, content: truncate(text, LIMITS.contentChars) });
          return;
        }
        // The public "thinking…" placeholder never became a session: remove it, answer privately.
        await i.deleteReply();
        const note = text || (outcome.thread ? `The session continues in <#${outcome.thread.threadId}>.` : '');
        if (note) await i.followUp({ ...ephemeral, content: truncate(note, LIMITS.contentChars) });
        return;
      }
      case 'ephemeral': {
        const here = i.channelId;
        const note = text || (outcome.thread && outcome.thread.threadId !== here ? `Session: <#${outcome.thread.threadId}>` : '');
        if (note) await i.editReply({ content: truncate(note, LIMITS.contentChars), allowedMentions: { parse: [] } });
        else await i.deleteReply();
        return;
      }
      case 'update':
        if (text) await i.followUp({ ...ephemeral, content: truncate(text, LIMITS.contentChars) });
        return;
      default:
        // After a modal or on a redelivery there is no response left to write into.
        if (text) log.warn('discord: an answer could not be shown', { id: i.id, ack: pending.ack, text });
    }
  } catch (error) {
    if (isStaleInteraction(error)) log.warn('discord: could not answer an expired interaction', { id: i.id });
    else log.error('discord: could not answer an interaction', { id: i.id, error: String(error) });
  }
}
