import { createHash } from 'node:crypto';
import type { ChatUser } from '../../src/core/ports/chat-adapter.ts';

/**
 * The local chat has no accounts: people pick a display name in the page. The same name (ignoring
 * case, width and spacing variants) always maps to the same user id, so votes and per-person limits
 * hold across reloads and restarts without storing anything.
 */

export const USER_NAME_MAX = 40;

/** Trims and folds a display name for comparison: NFKC, collapsed whitespace, lower case. */
export function normalizeUserName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/** Display names must be printable: control and format characters could spoof other names. */
export function isPrintableName(name: string): boolean {
  return !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name);
}

/**
 * A person named in a command (`/block Ben`, `"options":{"user":"@Ben"}`) as the core takes one:
 * the id that name always has here, and the name as typed; null when it is no valid name.
 */
export function localPerson(typed: unknown): { id: string; name: string } | null {
  if (typeof typed !== 'string') return null;
  const name = typed.trim().replace(/^@/, '');
  if (name.trim() === '' || [...name].length > USER_NAME_MAX || !isPrintableName(name)) return null;
  const user = localUser(name);
  return { id: user.id, name: user.name };
}

export function localUser(displayName: string): ChatUser {
  const name = displayName.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const digest = createHash('sha256').update(normalizeUserName(name)).digest('hex').slice(0, 16);
  return { id: `local-${digest}`, name, canModerate: false };
}
