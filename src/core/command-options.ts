import { z } from 'zod';
import { DailiesError } from '../errors.ts';
import { MAX_PROMPT_CHARS, charCount, cleanText, hasLoneSurrogate } from './text.ts';
import { parseTakeRef, type TakeRef } from './take-ref.ts';

/**
 * Option schemas shared by the commands. Platforms send numbers as strings (Slack always,
 * the local chat sometimes), so numbers are coerced — but only from numbers and numeric-looking
 * strings: `z.coerce` alone would turn `[5]` into 5 and `true` into 1. Every failure message is
 * one sentence naming the option and what it accepts, whatever was wrong with the value.
 */

function emptyToUndefined(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  return value;
}

function numericOnly(value: unknown): unknown {
  const v = emptyToUndefined(value);
  if (v === undefined || typeof v === 'number') return v;
  if (typeof v === 'string' && v.length <= 40) return v.trim();
  return Number.NaN;
}

export function intOption(name: string, min: number, max: number) {
  const error = `${name} must be a whole number from ${min} to ${max}.`;
  return z.preprocess(numericOnly, z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).optional());
}

export function numberOption(name: string, min: number, max: number) {
  const error = `${name} must be a number from ${min} to ${max}.`;
  return z.preprocess(numericOnly, z.coerce.number({ error }).min(min, { error }).max(max, { error }).optional());
}

/** Seconds of video; the upper bound is the server's (`maxSeconds`), checked where it is known. */
export function durationOption(name: string) {
  return numberOption(name, 0.1, 600);
}

/** One of a few words, case-insensitive. */
export function choiceOption<const T extends string>(name: string, choices: readonly T[]) {
  const error = `${name} must be ${choices.slice(0, -1).join(', ')}${choices.length > 1 ? ' or ' : ''}${choices.at(-1)}.`;
  return z.preprocess(
    (v) => (typeof emptyToUndefined(v) === 'string' ? (v as string).trim().toLowerCase() : emptyToUndefined(v)),
    z.enum(choices as unknown as [T, ...T[]], { error }).optional(),
  );
}

/** Yes or no: a boolean, or the words people type for one (true/false, yes/no, on/off, 1/0). */
export function booleanOption(name: string) {
  const error = `${name} must be true or false.`;
  const words: Record<string, boolean> = { true: true, yes: true, on: true, '1': true, false: false, no: false, off: false, '0': false };
  return z.preprocess((v) => {
    const value = emptyToUndefined(v);
    if (typeof value === 'string') return words[value.trim().toLowerCase()] ?? value;
    if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : value;
    return value;
  }, z.boolean({ error }).optional());
}

/** A take reference: `v2#1`, or a bare take number for the newest version (see take-ref.ts). */
export function takeRefOption(name: string) {
  const error = `${name} must be a take reference such as v2#1 or 1.`;
  return z.preprocess(emptyToUndefined, z.union([z.string({ error }).max(40, { error }), z.number({ error })], { error }).optional()).transform((v, ctx): TakeRef | undefined => {
    if (v === undefined) return undefined;
    try {
      return parseTakeRef(v, name);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * Free text: checked for broken UTF-16, cleaned (NFC, whitespace collapsed), then measured in
 * characters. Empty text says what to write (`example`), too long text says how long it was.
 */
export function textOption(name: string, min: number, max: number = MAX_PROMPT_CHARS, example?: string) {
  const error = min > 0 ? `${name} must be text of ${min} to ${max} characters.` : `${name} must be text of at most ${max} characters.`;
  const tooLong = (n: number) => `${name} is ${n} characters, over the ${max} limit; shorten it.`;
  return z
    .string({ error })
    // Bounds the work of cleaning a pathological value before it is measured properly.
    .max(max * 8, { error: (issue) => tooLong(typeof issue.input === 'string' ? charCount(issue.input) : max * 8) })
    .refine((s) => !hasLoneSurrogate(s), { error: `${name} contains broken characters (unpaired UTF-16 surrogates); retype it.` })
    .transform(cleanText)
    .superRefine((s, ctx) => {
      const n = charCount(s);
      if (n < min) ctx.addIssue({ code: 'custom', message: n === 0 && example ? `${name} is empty; add one, e.g. ${example}.` : error });
      else if (n > max) ctx.addIssue({ code: 'custom', message: tooLong(n) });
    });
}

export function optionalText(name: string, max: number = MAX_PROMPT_CHARS) {
  return z.preprocess((v) => (v === undefined || v === null ? undefined : v), textOption(name, 0, max).optional());
}

const ATTACHMENT_ERROR = 'image must be an attached image file.';
const attachment = z.object(
  {
    url: z.string({ error: ATTACHMENT_ERROR }).min(1, { error: ATTACHMENT_ERROR }).max(2048, { error: ATTACHMENT_ERROR }),
    filename: z.string({ error: ATTACHMENT_ERROR }).max(512, { error: ATTACHMENT_ERROR }),
    contentType: z.string({ error: ATTACHMENT_ERROR }).max(200, { error: ATTACHMENT_ERROR }).optional(),
    bytes: z.number({ error: ATTACHMENT_ERROR }).nonnegative({ error: ATTACHMENT_ERROR }).optional(),
  },
  { error: ATTACHMENT_ERROR },
);

export function attachmentOption() {
  return z.preprocess(emptyToUndefined, attachment.optional());
}

/**
 * A person, as every adapter hands one over: the platform's user id and the name it shows
 * (Discord resolves a user option, Slack a mention, the web chat a typed name).
 */
export function personOption(name: string) {
  const error = `${name} must be one person, such as @Ben.`;
  const person = z.object({ id: z.string({ error }).trim().min(1, { error }).max(100, { error }), name: z.string({ error }).trim().min(1, { error }).max(100, { error }) }, { error });
  return z.preprocess(emptyToUndefined, person.optional());
}

const PERIOD_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A length of time typed as a number and a unit (`30m`, `2h`, `1d`, `7d`, `2w`), as milliseconds up to `maxMs`. */
export function periodOption(name: string, maxMs: number) {
  const error = `${name} must be a length of time such as 30m, 2h, 1d or 7d.`;
  const maxDays = Math.floor(maxMs / 86_400_000);
  return z.preprocess(
    emptyToUndefined,
    z
      .string({ error })
      .max(20, { error })
      .transform((text, ctx) => {
        const m = /^(\d{1,6})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i.exec(text.trim());
        if (!m) {
          ctx.addIssue({ code: 'custom', message: error });
          return z.NEVER;
        }
        const ms = Number(m[1]) * PERIOD_UNITS[m[2]![0]!.toLowerCase()]!;
        if (ms < 60_000 || ms > maxMs) {
          ctx.addIssue({ code: 'custom', message: `${name} must be from 1 minute to ${maxDays} days (${maxDays}d); "${text.trim()}" is ${ms < 60_000 ? 'too short' : 'too long'}.` });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
  );
}

/** The raw options object itself: platforms always send one, but fuzzed input may not. */
export function optionsObject<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((v) => (v === undefined || v === null ? {} : v), z.object(shape, { error: 'The command options must be a set of named values.' }));
}

/** The first problem as the user-facing sentence; zod's own texts only for shapes we did not label. */
export function optionsError(command: string, error: z.ZodError): DailiesError {
  const issue = error.issues[0];
  const message = issue?.message && !issue.message.startsWith('Invalid') ? issue.message : `/${command}: ${issue?.path.map(String).join('.') || 'options'} ${issue?.message ?? 'is invalid'}.`;
  return new DailiesError('bad_input', message.endsWith('.') ? message : `${message}.`);
}
