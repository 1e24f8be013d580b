import { z } from 'zod';
import { channelOf, type CommandContext } from './command-context.ts';
import type { DefaultName, SavedDefaults } from './ports/settings-store.ts';
import { clip } from './text.ts';

/**
 * Render defaults: what a /video or /storyboard leaves out comes from the person's saved
 * defaults, then the channel's, then the server's built-in ones (/settings saves them). The
 * answer to the command says which saved defaults it used, so nobody is surprised by a style
 * they set last week.
 */

export const DEFAULT_NAMES: readonly DefaultName[] = ['takes', 'steps', 'duration', 'model', 'style', 'negative'];

// Read back with each field checked on its own: a value this release would not accept (hand-edited,
// or saved under looser limits) is dropped rather than used or allowed to break the command.
const dropBad = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const savedSchema = z.object({
  takes: dropBad(z.number().int().min(1).max(4)),
  steps: dropBad(z.number().int().min(1).max(150)),
  duration: dropBad(z.number().min(0.1).max(600)),
  model: dropBad(z.string().min(1).max(100)),
  style: dropBad(z.string().min(1).max(300)),
  negative: dropBad(z.string().min(1).max(1000)),
});

/** Saved defaults as stored, checked: fields that fail are left out. */
export function checkSaved(raw: unknown): SavedDefaults {
  const parsed = savedSchema.safeParse(raw && typeof raw === 'object' ? raw : {});
  if (!parsed.success) return {};
  return Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as SavedDefaults;
}

/** Where a person's and a channel's defaults are kept. */
export function settingsScopes(ctx: Pick<CommandContext, 'event' | 'session' | 'user'>): { person: string; channel: string } {
  return { person: `person:${ctx.event.platform}:${ctx.user.id}`, channel: `channel:${channelOf(ctx)}` };
}

export async function savedDefaults(ctx: Pick<CommandContext, 'event' | 'session' | 'user' | 'settings'>): Promise<{ person: SavedDefaults; channel: SavedDefaults }> {
  if (!ctx.settings) return { person: {}, channel: {} };
  const scopes = settingsScopes(ctx);
  const raw = await ctx.settings.read(scopes.person, scopes.channel);
  return { person: checkSaved(raw.person), channel: checkSaved(raw.channel) };
}

export interface Defaulted {
  /** The command's own values, with the saved defaults filled in where it gave none. */
  values: SavedDefaults;
  /** "from your settings: takes 2; from the channel's: style "pixel art"", or null when none applied. */
  note: string | null;
}

/**
 * Fills what `given` leaves out from the saved defaults (yours, then the channel's). `lengthGiven`:
 * the command set frames or a duration itself, so no saved duration applies.
 */
export async function withDefaults(ctx: Pick<CommandContext, 'event' | 'session' | 'user' | 'settings'>, given: SavedDefaults, lengthGiven: boolean): Promise<Defaulted> {
  const saved = await savedDefaults(ctx);
  const values: Record<string, unknown> = { ...given };
  const mine: Record<string, unknown> = {};
  const theirs: Record<string, unknown> = {};
  for (const name of DEFAULT_NAMES) {
    if (given[name] !== undefined || (name === 'duration' && lengthGiven)) continue;
    const [from, into] = saved.person[name] !== undefined ? [saved.person, mine] : [saved.channel, theirs];
    if (from[name] === undefined) continue;
    values[name] = from[name];
    into[name] = from[name];
  }
  const parts = [Object.keys(mine).length ? `from your settings: ${describeDefaults(mine)}` : '', Object.keys(theirs).length ? `from the channel's: ${describeDefaults(theirs)}` : ''].filter(Boolean);
  return { values: values as SavedDefaults, note: parts.length ? parts.join('; ') : null };
}

/** `takes 2, duration 4 s, style "pixel art"`. */
export function describeDefaults(d: SavedDefaults): string {
  const parts: string[] = [];
  if (d.takes !== undefined) parts.push(`takes ${d.takes}`);
  if (d.steps !== undefined) parts.push(`steps ${d.steps}`);
  if (d.duration !== undefined) parts.push(`duration ${d.duration} s`);
  if (d.model !== undefined) parts.push(`model ${d.model}`);
  if (d.style !== undefined) parts.push(`style "${clip(d.style, 60)}"`);
  if (d.negative !== undefined) parts.push(`negative "${clip(d.negative, 60)}"`);
  return parts.join(', ');
}
