import { DailiesError } from '../errors.ts';
import type { BranchableEdit, RefineEdit } from './refine-grammar.ts';
import { revisePrompt } from './prompt-revision.ts';
import type { PromptVocabulary } from './prompt-vocabulary.ts';
import type { Person, PromptVersion, Session, VersionDraft } from './session.ts';
import { currentVersion, requireVersion } from './session-state.ts';
import { MAX_PROMPT_CHARS, charCount, clip } from './text.ts';

/**
 * Turns a parsed edit into the next version's draft, pure. The starting point is, in order:
 * the version named by `from vN:`; else the session's base (the take that won the last vote:
 * its version's prompt with that take's seed); else the current version. An edit that changes
 * nothing is refused, so a repeated reply does not queue an identical render.
 */

/** `form`: several fields at once (the edit-prompt form, /video inside a session thread); unchanged fields are ignored. */
export type FormEdit = { kind: 'form'; prompt?: string; negativePrompt?: string; seed?: number };

export type VersionEdit = BranchableEdit | FormEdit | Extract<RefineEdit, { kind: 'branch' | 'shot' }>;

export interface DeriveOptions {
  author: Person;
  newSeed: () => number;
  maxChars?: number;
  /** The words of the session's model for plain-text revisions; null or left out: the built-in words. */
  vocabulary?: PromptVocabulary | null;
}

export function deriveVersion(session: Session, edit: VersionEdit, options: DeriveOptions): VersionDraft {
  const changes: string[] = [];
  let start: PromptVersion;
  let seed: number;
  let inner: BranchableEdit | FormEdit | null;
  if (edit.kind === 'shot') return deriveShot(session, edit, options);
  if (edit.kind === 'branch') {
    start = requireVersion(session, edit.from);
    seed = start.seed;
    inner = edit.then;
    changes.push(inner ? `from v${start.n}` : `branched from v${start.n}`);
  } else if (session.base) {
    const base = session.base;
    start = requireVersion(session, base.version);
    seed = base.seed;
    inner = edit;
    changes.push(start.seed === seed ? `take ${base.take + 1} of v${start.n}` : `take ${base.take + 1} of v${start.n} (seed ${start.seed} -> ${seed})`);
  } else {
    start = currentVersion(session);
    seed = start.seed;
    inner = edit;
  }

  let prompt = start.prompt;
  let negativePrompt = start.negativePrompt;
  if (inner) {
    switch (inner.kind) {
      case 'revise': {
        const revision = revisePrompt(prompt, inner.text, options.vocabulary);
        if (revision.prompt === prompt) throw new DailiesError('bad_input', 'That reply does not change the prompt; describe what should be different.');
        prompt = revision.prompt;
        changes.push(...revision.changes);
        break;
      }
      case 'replace':
        if (inner.prompt === prompt) throw new DailiesError('bad_input', 'That is already the prompt; change some words or reply again for a new seed.');
        changes.push(`prompt '${clip(prompt)}' -> '${clip(inner.prompt)}'`);
        prompt = inner.prompt;
        break;
      case 'negative':
        if (inner.negativePrompt === negativePrompt) throw new DailiesError('bad_input', 'That is already the negative prompt; write a different one or negative: none to clear it.');
        changes.push(
          inner.negativePrompt === ''
            ? `cleared negative '${clip(negativePrompt)}'`
            : negativePrompt === ''
              ? `negative '${clip(inner.negativePrompt)}'`
              : `negative '${clip(negativePrompt)}' -> '${clip(inner.negativePrompt)}'`,
        );
        negativePrompt = inner.negativePrompt;
        break;
      case 'seed':
        if (inner.seed === seed) throw new DailiesError('bad_input', `The seed is already ${seed}; pick another number or reply again.`);
        changes.push(`seed ${seed} -> ${inner.seed}`);
        seed = inner.seed;
        break;
      case 'form': {
        const before = changes.length;
        if (inner.prompt !== undefined && inner.prompt !== prompt) {
          changes.push(`prompt '${clip(prompt)}' -> '${clip(inner.prompt)}'`);
          prompt = inner.prompt;
        }
        if (inner.negativePrompt !== undefined && inner.negativePrompt !== negativePrompt) {
          changes.push(`negative '${clip(negativePrompt)}' -> '${clip(inner.negativePrompt)}'`);
          negativePrompt = inner.negativePrompt;
        }
        if (inner.seed !== undefined && inner.seed !== seed) {
          changes.push(`seed ${seed} -> ${inner.seed}`);
          seed = inner.seed;
        }
        if (changes.length === before) throw new DailiesError('bad_input', 'Nothing changed in the prompt, negative prompt or seed; edit one of them or reply again.');
        break;
      }
      case 'reroll': {
        let fresh = options.newSeed();
        if (fresh === seed) fresh = options.newSeed();
        changes.push(`seed ${seed} -> ${fresh} (again)`);
        seed = fresh;
        break;
      }
    }
  }

  checkLength(prompt, options);
  return { prompt, negativePrompt, seed, parent: start.n, author: options.author, change: changes.join('; ') };
}

function checkLength(prompt: string, options: DeriveOptions): void {
  const max = options.maxChars ?? MAX_PROMPT_CHARS;
  const length = charCount(prompt);
  if (length > max) {
    throw new DailiesError('bad_input', `The revised prompt would be ${length} characters, over the ${max} limit; shorten it with prompt: and a new text.`);
  }
}

/**
 * `shot N: <edit>` in a storyboard: the edit applied to shot N's current prompt (not to the
 * session's current version), or, for N one past the last shot, a new shot whose text is the
 * whole prompt. Shots share the board's seed family unless the edit changes the seed.
 */
function deriveShot(session: Session, edit: Extract<RefineEdit, { kind: 'shot' }>, options: DeriveOptions): VersionDraft {
  const board = session.storyboard;
  if (!board) throw new DailiesError('bad_input', `shot ${edit.shot}: only works in a storyboard thread; here, reply with the change itself.`);
  const count = board.shots.length;
  if (edit.shot > count + 1) throw new DailiesError('bad_input', `This storyboard has ${count} shot${count === 1 ? '' : 's'}; revise shot 1 to ${count}, or add shot ${count + 1}.`);
  if (edit.shot === count + 1) {
    const then = edit.then;
    if (then.kind !== 'revise' && then.kind !== 'replace') throw new DailiesError('bad_input', `shot ${edit.shot}: adds a shot, so write its prompt, e.g. shot ${edit.shot}: a blue square moving up.`);
    const prompt = then.kind === 'revise' ? then.text : then.prompt;
    checkLength(prompt, options);
    const family = requireVersion(session, board.shots[0]!);
    return { prompt, negativePrompt: family.negativePrompt, seed: family.seed, parent: null, author: options.author, change: `new shot ${edit.shot}`, shot: edit.shot };
  }
  const start = requireVersion(session, board.shots[edit.shot - 1]!);
  const draft = deriveVersion({ ...session, base: null, current: start.n }, edit.then, options);
  return { ...draft, change: `shot ${edit.shot}: ${draft.change}`, shot: edit.shot };
}
