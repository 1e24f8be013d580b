import { DailiesError } from '../errors.ts';
import type { CommandContext } from './command-context.ts';
import type { CheckedPrompt, PromptRefusal } from './ports/prompt-check.ts';

/**
 * The prompt check stage, run before any session write: the blocked terms (server's, then the
 * channel's), then the text classifier when one is plugged in (DAILIES_PROMPT_CHECK). It is
 * asynchronous, so it cannot run inside the store's atomic update; the term lists are checked
 * again in there, and the caller makes sure the classifier read exactly what gets stored
 * (see `sameTexts`).
 */

/**
 * How long the classifier may take before the prompt is turned away: the platforms give up on an
 * answer at 3 s, and a small classifier answers in milliseconds.
 */
export const PROMPT_CHECK_TIMEOUT_MS = 2_000;

export async function screenPrompts(ctx: Pick<CommandContext, 'policy' | 'promptCheck'>, prompts: readonly CheckedPrompt[]): Promise<void> {
  const terms = await ctx.policy.review(prompts);
  if (terms) throw new DailiesError('policy_refused', terms.message);
  if (!ctx.promptCheck) return;
  const signal = AbortSignal.timeout(PROMPT_CHECK_TIMEOUT_MS);
  let found: PromptRefusal | null;
  try {
    found = await ctx.promptCheck.review(prompts, signal);
  } catch (cause) {
    if (signal.aborted) throw new DailiesError('unavailable', 'The prompt check did not answer in time; send the prompt again in a moment.', { cause });
    throw cause;
  }
  if (found) throw new DailiesError('policy_refused', found.message);
}

/** True when a draft written inside an atomic update holds the texts the classifier read before it. */
export function sameTexts(draft: CheckedPrompt, screened: CheckedPrompt): boolean {
  return draft.prompt === screened.prompt && (draft.negativePrompt ?? '') === (screened.negativePrompt ?? '');
}
