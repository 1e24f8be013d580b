import { DailiesError } from '../../src/errors.ts';
import type { CommandSyntax, OptionKind, OptionSyntax } from './command-syntax.ts';

/**
 * Parses the text after a slash command: `a paper boat --takes 4 --negative "blurry, dark"`.
 * Free text fills the command's positional options; `--name value` / `--name=value` set the
 * rest. Anything that cannot be understood is refused with one sentence saying how to fix it,
 * because a silently ignored `--seed` would cost someone a render.
 */

export type CommandOptionValue = string | number | boolean;

export type ParsedCommandText =
  | { kind: 'options'; options: Record<string, CommandOptionValue> }
  | { kind: 'help'; text: string };

interface Token {
  value: string;
  raw: string;
  quoted: boolean;
}

/** Straight and typographic quotes; phones and some keyboards send the curly ones. */
const CLOSERS: Record<string, string> = { '"': '"', '“': '”', '„': '“', "'": "'", '‘': '’' };
// An apostrophe opening a word ("'tis") is text, not a quote, when nothing closes it.
const LENIENT_OPENERS = new Set(["'", '‘']);
// Smart punctuation turns "--" into an en or em dash as people type.
const OPTION_PREFIX = /^(?:--|—|–)(?=[A-Za-z])/;

const bad = (message: string) => new DailiesError('bad_input', message);

function readQuoted(text: string, at: number): { value: string; end: number } | undefined {
  const open = text[at]!;
  const close = CLOSERS[open];
  if (close === undefined) return undefined;
  let value = '';
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === close || text[i + 1] === '\\')) {
      value += text[i + 1];
      i++;
    } else if (c === close) {
      return { value, end: i + 1 };
    } else {
      value += c;
    }
  }
  if (LENIENT_OPENERS.has(open)) return undefined;
  throw bad(`A quote opened before "${text.slice(at + 1, at + 21).trim()}" is never closed; add the closing ${close}.`);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let value = '';
    let quoted = false;
    const q = readQuoted(text, i);
    if (q) {
      value = q.value;
      quoted = true;
      i = q.end;
    }
    while (i < text.length && !/\s/.test(text[i]!)) {
      // `--negative="a b"`: a quoted value may follow the equals sign of an option.
      if (text[i - 1] === '=' && !quoted && OPTION_PREFIX.test(value)) {
        const v = readQuoted(text, i);
        if (v) {
          value += v.value;
          i = v.end;
          continue;
        }
      }
      value += text[i];
      i++;
    }
    tokens.push({ value, raw: text.slice(start, i), quoted });
  }
  return tokens;
}

const normalize = (name: string) => name.toLowerCase().replace(/[-_]/g, '');

function findOption(syntax: CommandSyntax, name: string): OptionSyntax | undefined {
  const n = normalize(name);
  return syntax.options.find((o) => normalize(o.name) === n);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

function unknownOption(syntax: CommandSyntax, name: string): DailiesError {
  const flags = syntax.options.map((o) => `--${o.name}`);
  const near = syntax.options.map((o) => o.name).find((o) => editDistance(normalize(o), normalize(name)) <= 2);
  if (near) return bad(`/${syntax.name} has no --${name} option; did you mean --${near}?`);
  if (flags.length === 0) return bad(`/${syntax.name} takes no options; remove --${name}.`);
  return bad(`/${syntax.name} has no --${name} option; it knows ${flags.join(', ')} (try /${syntax.name} --help).`);
}

/** How a missing required option is named in the refusal, where "a <name>" reads wrong. */
const MISSING: Record<string, string> = { text: 'some text', shots: 'its shots, separated by |', from: 'the take to start from', to: 'the take to lead into' };

const KIND_WORD: Record<OptionKind, string> = { string: 'text', integer: 'whole number', number: 'number', boolean: 'yes or no', user: '@person' };

function coerce(option: OptionSyntax, raw: string): CommandOptionValue {
  switch (option.kind) {
    case 'integer': {
      const n = /^[+-]?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw bad(`--${option.name} must be a whole number, not "${raw}".`);
      return n;
    }
    case 'number': {
      const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(n)) throw bad(`--${option.name} must be a number, not "${raw}".`);
      return n;
    }
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      throw bad(`--${option.name} must be yes or no, not "${raw}".`);
    default:
      return raw;
  }
}

export function commandUsage(syntax: CommandSyntax): string {
  const positional = syntax.positional ?? [];
  const parts = [`/${syntax.name}`];
  for (const name of positional) {
    const o = findOption(syntax, name);
    parts.push(o?.required ? `<${name}>` : `[${name}]`);
  }
  for (const o of syntax.options) {
    if (positional.includes(o.name)) continue;
    const value = o.kind === 'boolean' ? '' : o.kind === 'string' ? ' "<text>"' : ` <${KIND_WORD[o.kind]}>`;
    parts.push(o.required ? `--${o.name}${value}` : `[--${o.name}${value}]`);
  }
  return parts.join(' ');
}

export function commandHelp(syntax: CommandSyntax): string {
  const lines = [syntax.description, `Usage: ${commandUsage(syntax)}`];
  for (const o of syntax.options) {
    const how = syntax.positional?.includes(o.name) ? `${o.name} (the text, or --${o.name})` : `--${o.name}`;
    lines.push(`• ${how}: ${o.description ?? KIND_WORD[o.kind]}${o.required ? '' : ' (optional)'}`);
  }
  return lines.join('\n');
}

export function parseCommandText(syntax: CommandSyntax, text: string): ParsedCommandText {
  const tokens = tokenize(text);
  const options: Record<string, CommandOptionValue> = {};
  const free: Token[] = [];
  let onlyText = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (onlyText || t.quoted) {
      free.push(t);
      continue;
    }
    if (t.value === '--') {
      // Everything after a bare "--" is text, so prompts may contain words like "--loop".
      onlyText = true;
      continue;
    }
    if (t.value === '-h' || /^(--|—|–)help$/i.test(t.value)) return { kind: 'help', text: commandHelp(syntax) };
    const prefix = OPTION_PREFIX.exec(t.value);
    if (!prefix) {
      free.push(t);
      continue;
    }
    const body = t.value.slice(prefix[0].length);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const option = findOption(syntax, name);
    if (!option) {
      // A dash is prose too ("a storm —slowly"), so only "--" insists on being an option.
      if (prefix[0] !== '--') {
        free.push(t);
        continue;
      }
      throw unknownOption(syntax, name);
    }
    if (option.name in options) throw bad(`--${option.name} is given twice; keep one.`);
    let raw: string;
    if (eq >= 0) {
      raw = body.slice(eq + 1);
    } else if (option.kind === 'boolean') {
      const next = tokens[i + 1];
      if (next && !next.quoted && /^(true|false|yes|no|on|off)$/i.test(next.value)) {
        raw = next.value;
        i++;
      } else {
        raw = 'true';
      }
    } else {
      const next = tokens[i + 1];
      if (!next || (!next.quoted && OPTION_PREFIX.test(next.value) && findOption(syntax, next.value.replace(OPTION_PREFIX, '').split('=')[0]!))) {
        throw bad(`--${option.name} needs a value, like --${option.name} ${option.kind === 'string' ? '"…"' : option.kind === 'user' ? '@Ben' : '4'}.`);
      }
      raw = next.value;
      i++;
    }
    options[option.name] = coerce(option, raw);
  }

  const slots = syntax.positional ?? [];
  if (free.length > 0 && slots.length === 0) {
    throw bad(`/${syntax.name} takes no text; remove "${free.map((t) => t.raw).join(' ').slice(0, 40)}" (try /${syntax.name} --help).`);
  }
  let next = 0;
  slots.forEach((slot, index) => {
    if (next >= free.length) return;
    const last = index === slots.length - 1;
    const taken = last ? free.slice(next) : [free[next]!];
    next += taken.length;
    const option = findOption(syntax, slot);
    if (!option) return;
    if (option.name in options) throw bad(`Give the ${option.name} either as text or as --${option.name}, not both.`);
    const raw = taken.length === 1 ? taken[0]!.value : taken.map((t) => t.raw).join(' ');
    options[option.name] = coerce(option, raw);
  });

  for (const o of syntax.options) {
    const v = options[o.name];
    if (o.required && (v === undefined || (typeof v === 'string' && v.trim() === ''))) {
      throw bad(`/${syntax.name} needs ${MISSING[o.name] ?? `a ${o.name}`}; usage: ${commandUsage(syntax)}.`);
    }
  }
  return { kind: 'options', options };
}

/** The inverse of `parseCommandText`: what a person would type for these options. */
export function formatCommandText(syntax: CommandSyntax, options: Record<string, unknown>): string {
  const quote = (v: string) => (v === '' || /[\s"'“”‘’„\\]|^(--|—|–|-h$)/.test(v) ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v);
  const parts: string[] = [];
  const slots = syntax.positional ?? [];
  const used = new Set<string>();
  // Free text can only fill a slot when every slot before it is filled too.
  for (const slot of slots) {
    const v = options[slot];
    if (v === undefined) break;
    const isLast = slot === slots[slots.length - 1];
    const s = String(v);
    const plain = isLast && s !== '' && s.trim() === s && !/["'“”‘’„\\]|\s(--|—|–|-h\b)|^(--|—|–|-h\b)|\s{2,}|[^\S ]/.test(s);
    parts.push(plain ? s : quote(s));
    used.add(slot);
  }
  for (const [name, v] of Object.entries(options)) {
    if (used.has(name) || v === undefined || v === null) continue;
    parts.push(`--${name}`, typeof v === 'boolean' ? String(v) : quote(String(v)));
  }
  return parts.join(' ');
}
