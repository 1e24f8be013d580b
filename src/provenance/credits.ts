import { z } from 'zod';
import { DailiesError, describeZodIssues } from '../errors.ts';

/**
 * Who made a video and how: what dailies writes into its Content Credentials next to the
 * standard C2PA actions. The same schema checks what is about to be signed and what is read
 * back from a file, so a foreign or older manifest never reaches the caller as `Credits`
 * unless it has exactly this shape.
 */

export interface Person {
  id: string;
  name: string;
}

export type ContributorRole = 'prompted' | 'revised' | 'voted' | 'finalized';

export interface LineageEntry {
  version: number;
  prompt: string;
  negativePrompt?: string;
  author: Person;
  /** What changed against the parent, e.g. "added 'slowly'". */
  change: string;
  /** The version (and 1-based take) this one was made from; null for a fresh prompt. */
  parent: { version: number; take?: number } | null;
}

export interface Credits {
  /** e.g. the final prompt, clipped. */
  title: string;
  software: { name: 'dailies'; version: string };
  model: { name: string; weightsSha256: string };
  /** Which take this video is: its prompt version and 1-based take. */
  take: { version: number; take: number };
  lineage: LineageEntry[];
  contributors: Array<{ person: Person; roles: ContributorRole[] }>;
  /** Teams may publish credits without names: then persons are written as "contributor 1", … */
  anonymous?: boolean;
}

// A typical thread adds 3-6 KB to the video; these limits keep the very worst case (every field
// full) near 0.5 MB, so a runaway thread cannot make the signed file balloon. The prompt limit
// matches the render job's.
const MAX = { title: 200, prompt: 2000, name: 100, id: 200, change: 500, entries: 100 } as const;

// Half of a surrogate pair cannot be written as UTF-8, which the manifest's CBOR requires.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: z.ZodString) => s.refine((v) => !LONE_SURROGATE.test(v), 'holds half of an emoji or other broken character; remove it');

const text = (max: number, what: string) =>
  wellFormed(z.string().min(1, `must not be empty`).max(max, `must be at most ${max} characters; clip ${what}`));
const optionalText = (max: number, what: string) => wellFormed(z.string().max(max, `must be at most ${max} characters; ${what}`));

const positive = z.number().int('must be a whole number').min(1, 'must be 1 or more');

const person = z.object({ id: text(MAX.id, 'the id'), name: text(MAX.name, 'the name') });

const lineageEntry = z.object({
  version: positive,
  prompt: text(MAX.prompt, 'the prompt'),
  negativePrompt: optionalText(MAX.prompt, 'clip the negative prompt').optional(),
  author: person,
  change: optionalText(MAX.change, 'shorten the description'),
  parent: z.object({ version: positive, take: positive.optional() }).nullable(),
});

export const creditsSchema = z
  .object({
    title: text(MAX.title, 'the title (e.g. the prompt) to fit'),
    software: z.object({ name: z.literal('dailies', 'must be "dailies"'), version: text(50, 'the version') }),
    model: z.object({
      name: text(MAX.name, 'the model name'),
      weightsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (the SHA-256 of the weights file)'),
    }),
    take: z.object({ version: positive, take: positive }),
    lineage: z.array(lineageEntry).min(1, 'must hold at least the version this take was rendered from').max(MAX.entries, `must hold at most ${MAX.entries} versions; keep the ancestors of this take only`),
    contributors: z
      .array(z.object({ person, roles: z.array(z.enum(['prompted', 'revised', 'voted', 'finalized'], 'must be one of prompted, revised, voted, finalized')).min(1, 'must name at least one role') }))
      .max(MAX.entries, `must hold at most ${MAX.entries} people`),
    anonymous: z.boolean('must be true or false').optional(),
  })
  .superRefine((c, ctx) => {
    // Cross-references are checked because `dailies verify` prints "v2 … from v1#2": a reference
    // to a version that is not in the lineage would be a claim nobody can follow.
    const versions = new Set<number>();
    c.lineage.forEach((entry, i) => {
      if (versions.has(entry.version)) ctx.addIssue({ code: 'custom', path: ['lineage', i, 'version'], message: `repeats v${entry.version}; list each version once` });
      versions.add(entry.version);
    });
    c.lineage.forEach((entry, i) => {
      if (entry.parent && (entry.parent.version >= entry.version || !versions.has(entry.parent.version))) {
        ctx.addIssue({ code: 'custom', path: ['lineage', i, 'parent', 'version'], message: `names v${entry.parent.version}, which is not an earlier version in the lineage; include that version or set parent to null` });
      }
    });
    if (!versions.has(c.take.version)) {
      ctx.addIssue({ code: 'custom', path: ['take', 'version'], message: `is v${c.take.version}, which the lineage does not hold; include it in the lineage` });
    }
    const ids = new Set<string>();
    c.contributors.forEach((entry, i) => {
      if (ids.has(entry.person.id)) ctx.addIssue({ code: 'custom', path: ['contributors', i, 'person', 'id'], message: 'repeats a contributor; merge their roles into one entry' });
      ids.add(entry.person.id);
    });
  }) satisfies z.ZodType<Credits>;

/** The credits as given, checked; throws DailiesError('bad_input') naming the first bad field. */
export function parseCredits(data: unknown): Credits {
  const result = creditsSchema.safeParse(data);
  if (!result.success) throw new DailiesError('bad_input', describeZodIssues('Credits', result.error.issues));
  return result.data;
}

/**
 * Credits with every person replaced by "contributor N" (numbered by first appearance: lineage
 * first, then contributors), ids too, since a chat user id identifies someone as well as a
 * name does. The same person keeps the same number throughout, so "who revised what" survives.
 */
export function anonymize(credits: Credits): Credits {
  const numbers = new Map<string, number>();
  const as = (p: Person): Person => {
    let n = numbers.get(p.id);
    if (n === undefined) numbers.set(p.id, (n = numbers.size + 1));
    return { id: `contributor-${n}`, name: `contributor ${n}` };
  };
  const lineage = credits.lineage.map((entry) => ({ ...entry, author: as(entry.author) }));
  const contributors = credits.contributors.map((c) => ({ ...c, person: as(c.person) }));
  return { ...credits, lineage, contributors, anonymous: true };
}
