import { ApplicationCommandOptionType, type AutocompleteInteraction } from 'discord.js';
import type { SuggestionKind } from './command-definitions.ts';
import { TIMED_OUT, later, type DiscordRuntime } from './discord-runtime.ts';
import { threadOf, userOf } from './interaction-context.ts';
import { defaultSuggestions, toChoices, type SuggestionQuery } from './suggestions.ts';

/**
 * Answers an autocomplete request: the provider's suggestions if they come within
 * `suggestDeadlineMs`, otherwise prompts this adapter has seen (Discord allows 3 s, no deferring).
 */
export async function answerAutocomplete(rt: DiscordRuntime, i: AutocompleteInteraction): Promise<void> {
  const focused = i.options.getFocused(true);
  const option = rt.specs.get(i.commandName)?.options.find((o) => o.name === focused.name);
  const kind: SuggestionKind | undefined = option && 'suggest' in option ? option.suggest : undefined;
  const numeric = focused.type !== ApplicationCommandOptionType.String;
  let list: readonly { name: string; value: string | number }[] = [];
  if (kind) {
    const place = rt.places.channelOf(i);
    const thread = threadOf(place);
    const query: SuggestionQuery = {
      kind,
      command: i.commandName,
      option: focused.name,
      typed: String(focused.value ?? ''),
      ...(option && 'max' in option && option.max !== undefined && { max: option.max }),
      user: userOf(i),
      channelId: thread ? thread.channelId : place.id,
      ...(thread && { thread }),
    };
    list = defaultSuggestions(query, rt.prompts, rt.takeRefs);
    if (rt.options.suggest) {
      try {
        const provided = await Promise.race([Promise.resolve(rt.options.suggest(query)), later(rt.options.suggestDeadlineMs ?? 1500, TIMED_OUT)]);
        if (provided === TIMED_OUT) rt.log.warn('discord: suggestions were too slow; answered from memory', { command: i.commandName });
        else list = provided;
      } catch (error) {
        rt.log.warn('discord: suggestions failed; answered from memory', { error: String(error) });
      }
    }
  }
  await i.respond(toChoices(list, numeric));
  rt.settled({ id: i.id, kind: 'autocomplete', ack: 'autocomplete' });
}
