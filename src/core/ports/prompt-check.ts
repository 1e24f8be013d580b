/**
 * The prompt check: the seam every rule a prompt must pass implements, the blocked-term lists
 * (src/safety/prompt-policy.ts) and a text classifier folder (models/prompt-check/,
 * DAILIES_PROMPT_CHECK) alike. The core asks it before anything is stored, so a refused prompt
 * leaves no version, no job and no thread behind; the core only ever sees the refusal sentence.
 */

/** What one stored version would hold: the prompt the model reads, and its negative prompt. */
export interface CheckedPrompt {
  prompt: string;
  negativePrompt?: string;
}

/** The rule a prompt broke, in the one sentence its author sees. */
export interface PromptRefusal {
  /** The rule: a blocked term, or a classifier's "label score ≥ threshold". */
  rule: string;
  message: string;
}

export interface PromptCheck {
  /** Shown in logs and /api/health: the classifier folder's name, or the term list's. */
  readonly name: string;
  /** The first refusal among `prompts` (each prompt, then its negative prompt), or null when all pass. */
  review(prompts: readonly CheckedPrompt[], signal?: AbortSignal): Promise<PromptRefusal | null>;
}

/** A classifier's finding: the blocking label furthest over its threshold. */
export interface PromptFinding {
  label: string;
  score: number;
  threshold: number;
}

/** "violence 0.91 ≥ 0.80": how a classifier's finding reads in a refusal. */
export function describePromptFinding(finding: PromptFinding): string {
  return `${finding.label} ${finding.score.toFixed(2)} ≥ ${finding.threshold.toFixed(2)}`;
}

/** The refusal sentence for a classifier's finding, naming whether the prompt or its negative prompt broke it. */
export function classifierRefusal(finding: PromptFinding, negative = false): PromptRefusal {
  const rule = describePromptFinding(finding);
  return { rule, message: `This ${negative ? 'negative prompt' : 'prompt'} was refused by the prompt classifier (${rule}); rephrase it.` };
}
