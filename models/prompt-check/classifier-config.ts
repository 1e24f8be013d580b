import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DailiesError } from '../../src/errors.ts';
import { friendly } from '../frame-check/classifier-config.ts';
import { blockThresholds, checkLabelsAndBlock, classifierLabels } from '../frame-check/classifier-labels.ts';

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
    labels: classifierLabels,
    maxLength: z.number().int('must be a whole number of tokens').min(4, 'must be at least 4 tokens').max(2048, 'must be at most 2048 tokens'),
    block: blockThresholds,
  })
  .superRefine((c, ctx) => checkLabelsAndBlock(c, ctx, '{"violence": 0.8}'));
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
