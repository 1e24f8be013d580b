import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DailiesError } from '../../src/errors.ts';
import { friendly } from '../frame-check/classifier-config.ts';

/**
 * classifier.json: what a prompt-check folder says about its model.onnx and tokenizer.json.
 *
 *   {"labels": [...], "maxLength": L, "block": {"<label>": threshold, ...}}
 *
 * A prompt is tokenised to at most L ids (the tokenizer's specials included, padded to L), and
 * the model answers one probability per label. Every problem found is reported, one sentence
 * each, so a folder is fixed in one pass.
 */

export const PromptClassifierConfig = z
  .object({
    labels: z.array(z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters')).min(1, 'must list at least one label'),
    maxLength: z.number().int('must be a whole number of tokens').min(4, 'must be at least 4 tokens').max(2048, 'must be at most 2048 tokens'),
    block: z.record(z.string(), z.number().gt(0, 'must be above 0').max(1, 'must be at most 1')),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const label of c.labels) {
      if (seen.has(label)) ctx.addIssue({ code: 'custom', path: ['labels'], message: `names "${label}" twice` });
      seen.add(label);
    }
    const blocked = Object.keys(c.block);
    if (blocked.length === 0) ctx.addIssue({ code: 'custom', path: ['block'], message: 'must name at least one label with its threshold, e.g. {"violence": 0.8}' });
    for (const label of blocked) {
      if (!seen.has(label)) ctx.addIssue({ code: 'custom', path: ['block', label], message: `is not one of the labels (${c.labels.join(', ')})` });
    }
  });
export type PromptClassifierConfig = z.output<typeof PromptClassifierConfig>;

/** Reads and validates DIR/classifier.json; DailiesError('model_invalid') naming every problem. */
export async function readPromptClassifierConfig(dir: string): Promise<PromptClassifierConfig> {
  const raw = await readJsonFile(dir, 'classifier.json');
  const file = path.join(dir, 'classifier.json');
  const parsed = PromptClassifierConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const sentences = parsed.error.issues.map((i) => `${file}: ${i.path.map(String).join('.') || 'the file'} ${friendly(i.message)}.`);
  throw new DailiesError('model_invalid', sentences.join(' '));
}

/** One JSON file of the folder, parsed; a missing or broken file is one sentence saying how to fix it. */
export async function readJsonFile(dir: string, name: string): Promise<unknown> {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DailiesError('model_invalid', `The prompt check folder ${dir} has no ${name}; add one (see the README's prompt check section) or set DAILIES_PROMPT_CHECK=off.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new DailiesError('model_invalid', `${file} is not valid JSON (${(cause as Error).message}); fix its syntax.`, { cause });
  }
}
