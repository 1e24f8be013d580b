import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DailiesError } from '../../src/errors.ts';
import { blockThresholds, checkLabelsAndBlock, classifierLabels } from './classifier-labels.ts';

/**
 * classifier.json: what a frame-check folder says about its model.onnx.
 *
 *   {"labels": [...], "input": {"size": [H, W], "layout": "NHWC"|"NCHW", "scale": 1/255, "mean"?: [r,g,b], "std"?: [r,g,b]},
 *    "block": {"<label>": threshold, ...}}
 *
 * A pixel p (0..255) reaches the model as (p * scale - mean) / std, per channel.
 * Every problem found is reported, one sentence each, so a folder is fixed in one pass.
 */

const triple = z.array(z.number().finite()).length(3, 'must list 3 numbers (red, green, blue)');

export const ClassifierConfig = z
  .object({
    labels: classifierLabels,
    input: z.object({
      size: z.tuple([z.number().int().min(8).max(1024), z.number().int().min(8).max(1024)], 'must be [height, width] in pixels, each 8 to 1024'),
      layout: z.enum(['NHWC', 'NCHW'], 'must be "NHWC" or "NCHW"'),
      scale: z.number().positive('must be a positive number, e.g. 0.00392156862745098 for 1/255'),
      mean: triple.optional(),
      std: triple.refine((s) => s.every((v) => v > 0), 'must hold positive numbers').optional(),
    }),
    block: blockThresholds,
  })
  .superRefine((c, ctx) => checkLabelsAndBlock(c, ctx, '{"porn": 0.8}'));
export type ClassifierConfig = z.output<typeof ClassifierConfig>;

/** Reads and validates DIR/classifier.json; DailiesError('model_invalid') naming every problem. */
export async function readClassifierConfig(dir: string): Promise<ClassifierConfig> {
  const file = path.join(dir, 'classifier.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DailiesError('model_invalid', `The frame check folder ${dir} has no classifier.json; add one (see the README's frame check section) or set DAILIES_FRAME_CHECK=off.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new DailiesError('model_invalid', `${file} is not valid JSON (${(cause as Error).message}); fix its syntax.`, { cause });
  }
  return parseClassifierConfig(raw, file);
}

export function parseClassifierConfig(raw: unknown, where: string): ClassifierConfig {
  const parsed = ClassifierConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const sentences = parsed.error.issues.map((i) => `${where}: ${i.path.map(String).join('.') || 'the file'} ${friendly(i.message)}.`);
  throw new DailiesError('model_invalid', sentences.join(' '));
}

/** A zod message as the end of a sentence that names the field (shared with models/prompt-check). */
export function friendly(message: string): string {
  return message
    .replace(/\.$/, '')
    .replace(/^(Invalid input: )?expected (\w+), received undefined$/, (_m, _p, want: string) => `is missing (${article(want)} is required)`)
    .replace(/^(Invalid input: )?expected (\w+), received (\w+)$/, (_m, _p, want: string, got: string) => `must be ${article(want)} (got ${got})`)
    .replace(/^Too small: expected number to be >=(\d+)$/, 'must be at least $1')
    .replace(/^Too big: expected number to be <=(\d+)$/, 'must be at most $1');
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}
