import { DailiesError } from '../errors.ts';

/**
 * Button action keys. A key names server-side state (session, round, job, take) in a few short
 * ids, so it fits Discord's 100-character custom_id and keeps working after a restart. Take
 * numbers in keys are 0-based indexes.
 *
 *   vote:<sessionId>:<roundId>:<take>          anyone; one vote per person, changeable
 *   pick:<sessionId>:<roundId>:<take>          owner/moderator closes the round with this take
 *   finalize:<sessionId>:<jobId>:<take>        owner/moderator renders the take at final quality
 *   cancel:<jobId>                             owner/moderator cancels a waiting or running job
 *   reroll:<sessionId>                         same prompt, new seed
 *   vary:<sessionId>:<jobId>:<take>            new seeds starting from a take
 *   extend:<sessionId>:<jobId>:<take>          continue a take by the default length
 *   remove:<sessionId>:<jobId>:<take>          moderator removes the take (files deleted, posts replaced by a note)
 *   edit-prompt:<sessionId>                    opens a form pre-filled with the current prompt
 *   edit-prompt-submit:<sessionId>             the form's submission (values.prompt, values.negative)
 */

export type ParsedAction =
  | { type: 'vote' | 'pick'; sessionId: string; roundId: number; take: number }
  | { type: 'finalize' | 'vary' | 'extend' | 'remove'; sessionId: string; jobId: string; take: number }
  | { type: 'cancel'; jobId: string }
  | { type: 'reroll' | 'edit-prompt' | 'edit-prompt-submit'; sessionId: string };

export const MAX_ACTION_LENGTH = 100;

const ID = /^[A-Za-z0-9_-]{1,40}$/;
const INDEX = /^\d{1,3}$/;

export function actionKey(action: ParsedAction): string {
  let key: string;
  switch (action.type) {
    case 'vote':
    case 'pick':
      key = `${action.type}:${action.sessionId}:${action.roundId}:${action.take}`;
      break;
    case 'finalize':
    case 'vary':
    case 'extend':
    case 'remove':
      key = `${action.type}:${action.sessionId}:${action.jobId}:${action.take}`;
      break;
    case 'cancel':
      key = `cancel:${action.jobId}`;
      break;
    default:
      key = `${action.type}:${action.sessionId}`;
  }
  if (key.length > MAX_ACTION_LENGTH) throw new DailiesError('internal', `Action key "${key.slice(0, 40)}…" is over ${MAX_ACTION_LENGTH} characters; shorten the ids.`);
  return key;
}

/** Parses a clicked key; null for anything malformed (old buttons, forged input). */
export function parseAction(key: string): ParsedAction | null {
  if (typeof key !== 'string' || key.length > MAX_ACTION_LENGTH) return null;
  const [type, a, b, c, ...rest] = key.split(':');
  if (rest.length > 0 || !type) return null;
  const id = (s: string | undefined): s is string => s !== undefined && ID.test(s);
  const index = (s: string | undefined): s is string => s !== undefined && INDEX.test(s);
  switch (type) {
    case 'vote':
    case 'pick':
      return id(a) && index(b) && index(c) ? { type, sessionId: a, roundId: Number(b), take: Number(c) } : null;
    case 'finalize':
    case 'vary':
    case 'extend':
    case 'remove':
      return id(a) && id(b) && index(c) ? { type, sessionId: a, jobId: b, take: Number(c) } : null;
    case 'cancel':
      return id(a) && b === undefined ? { type, jobId: a } : null;
    case 'reroll':
    case 'edit-prompt':
    case 'edit-prompt-submit':
      return id(a) && b === undefined ? { type, sessionId: a } : null;
    default:
      return null;
  }
}
