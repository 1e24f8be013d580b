import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DailiesError, describeZodIssues } from '../errors.ts';

/**
 * Where the block list comes from: DAILIES_BLOCKED_TERMS (comma- or newline-separated) and/or
 * DAILIES_BLOCKED_TERMS_FILE (one term per line, `#` starts a comment). Both are merged, so a
 * deployment can ship a file and add a term through the environment without editing it.
 */

const envSchema = z.object({
  DAILIES_BLOCKED_TERMS: z.string().optional(),
  DAILIES_BLOCKED_TERMS_FILE: z.string().min(1).optional(),
});

export interface PolicyConfig {
  blockedTerms: string[];
}

export function parseTermList(text: string): string[] {
  return text
    .split(/[\n,]/u)
    .map((line) => line.replace(/#.*$/u, '').trim())
    .filter((t) => t !== '');
}

/** `env`: the process's settings (src/config.ts `loadConfig()`), or just these two variables. */
export function loadPolicyConfig(env: { DAILIES_BLOCKED_TERMS?: string | undefined; DAILIES_BLOCKED_TERMS_FILE?: string | undefined }, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): PolicyConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new DailiesError('bad_input', describeZodIssues('Policy settings', parsed.error.issues));
  const terms = parseTermList(parsed.data.DAILIES_BLOCKED_TERMS ?? '');
  const file = parsed.data.DAILIES_BLOCKED_TERMS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFile(file);
    } catch (cause) {
      throw new DailiesError('bad_input', `DAILIES_BLOCKED_TERMS_FILE points at ${file}, which cannot be read; fix the path or unset it.`, { cause });
    }
    terms.push(...parseTermList(text));
  }
  return { blockedTerms: [...new Set(terms)] };
}
