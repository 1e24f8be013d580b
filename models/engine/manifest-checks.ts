import { describeZodIssues, DailiesError } from '../../src/errors.ts';
import { ModelManifest, type FileRef } from './manifest.ts';

/*
 * Rules the zod schema cannot state on its own (they relate fields to each other). Kept out of
 * manifest.ts so the schema stays a plain description of model.json that a Python exporter can
 * mirror; both model.json packages and diffusers folders pass through here.
 */

/** Parses and checks a manifest object; `where` names its source in errors, e.g. "model.json in /m". */
export function parseManifest(raw: unknown, where: string): ModelManifest {
  const parsed = ModelManifest.safeParse(raw);
  if (!parsed.success) throw new DailiesError('model_invalid', describeIssues(where, parsed.error.issues, 'fix it or re-export the model'));
  checkConsistency(parsed.data, where);
  return parsed.data;
}

export function checkConsistency(m: ModelManifest, where: string): void {
  const fail = (what: string): never => {
    throw new DailiesError('model_invalid', `${where}: ${what}; fix it or re-export the model.`);
  };
  const within = (field: 'frames' | 'steps' | 'guidance'): void => {
    const value = m.defaults[field];
    const { min, max } = m.limits[field];
    if (value < min || value > max) fail(`defaults.${field} ${value} is outside limits.${field} ${min}..${max}`);
  };
  within('frames');
  within('steps');
  within('guidance');
  if (m.limits.variations.min < 1) fail(`limits.variations.min must be at least 1`);
  if (m.limits.steps.max > m.scheduler.numTrainTimesteps) {
    fail(`limits.steps.max ${m.limits.steps.max} exceeds scheduler.numTrainTimesteps ${m.scheduler.numTrainTimesteps}`);
  }
  if (m.space.kind === 'latent') {
    const { downsample, channels, previewRgbFactors } = m.space;
    if (!m.components.vaeDecoder) fail('a latent model needs components.vaeDecoder');
    if (m.defaults.width % downsample !== 0 || m.defaults.height % downsample !== 0) {
      fail(`defaults.width and defaults.height (${m.defaults.width}x${m.defaults.height}) must be multiples of space.downsample ${downsample}`);
    }
    if (previewRgbFactors && previewRgbFactors.length !== channels) {
      fail(`space.previewRgbFactors has ${previewRgbFactors.length} rows but the latent has ${channels} channels`);
    }
  }
}

/** Every file a manifest refers to, with where it is declared (for errors). */
export function manifestFiles(m: ModelManifest): { role: string; ref: FileRef }[] {
  const out: { role: string; ref: FileRef }[] = [];
  for (const [role, c] of Object.entries(m.components)) {
    if (!c) continue;
    out.push({ role: `components.${role}`, ref: c });
    c.externalData.forEach((ref, i) => out.push({ role: `components.${role}.externalData.${i}`, ref }));
  }
  const t = m.tokenizer;
  if (t.kind === 'tokenizer-json') {
    out.push({ role: 'tokenizer.file', ref: t.file });
    if (t.config) out.push({ role: 'tokenizer.config', ref: t.config });
  } else {
    out.push({ role: 'tokenizer.vocab', ref: t.vocab }, { role: 'tokenizer.merges', ref: t.merges });
  }
  return out;
}

/** One sentence for the first zod issue, in the engine's wording ("must be ..."), ending with `fix`. */
export function describeIssues(where: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, fix: string): string {
  const friendly = issues.map((i) => ({ ...i, message: friendlyMessage(i.message) }));
  return describeZodIssues(where, friendly).replace(/\.$/, `; ${fix}.`);
}

function friendlyMessage(message: string): string {
  return message
    .replace(/^Unrecognized key: /, 'has an unknown key ')
    .replace(/^Unrecognized keys: /, 'has unknown keys ')
    .replace(/^Invalid option: expected one of /, 'must be one of ')
    .replace(/^(Invalid input: )?expected (\w+), received (\w+)$/, (_m, _p, want: string, got: string) => {
      const a = /^[aeiou]/.test(want) ? 'an' : 'a';
      return got === 'undefined' ? `is missing (${a} ${want} is required)` : `must be ${a} ${want} (got ${got})`;
    })
    .replace(/^(Invalid input: )?expected /, 'must be ');
}
