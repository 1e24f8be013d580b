import { z } from 'zod';

/**
 * The part of classifier.json every classifier folder shares (the frame check's and the prompt
 * check's): its labels, and the labels that block with their thresholds.
 */

export const classifierLabels = z.array(z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters')).min(1, 'must list at least one label');

export const blockThresholds = z.record(z.string(), z.number().gt(0, 'must be above 0').max(1, 'must be at most 1'));

/** Labels are unique, and `block` names at least one of them; `example` shows a threshold in the sentence. */
export function checkLabelsAndBlock(c: { labels: string[]; block: Record<string, number> }, ctx: z.RefinementCtx, example: string): void {
  const seen = new Set<string>();
  for (const label of c.labels) {
    if (seen.has(label)) ctx.addIssue({ code: 'custom', path: ['labels'], message: `names "${label}" twice` });
    seen.add(label);
  }
  const blocked = Object.keys(c.block);
  if (blocked.length === 0) ctx.addIssue({ code: 'custom', path: ['block'], message: `must name at least one label with its threshold, e.g. ${example}` });
  for (const label of blocked) {
    if (!seen.has(label)) ctx.addIssue({ code: 'custom', path: ['block', label], message: `is not one of the labels (${c.labels.join(', ')})` });
  }
}
