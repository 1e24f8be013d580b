import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DailiesError } from '../errors.ts';

/**
 * Command-line plumbing shared by every CLI: the `dailies` subcommands, the benches and the
 * scripts that also run on their own. One parser, built on node:util parseArgs.
 */

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
}
export type CliOptions = Record<string, CliOption>;

/** `--help` / `-h`: every CLI answers it, so the parser adds it. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

export type CliValues<O extends CliOptions> = {
  -readonly [K in keyof (O & typeof HELP)]?: (O & typeof HELP)[K] extends { type: 'boolean' } ? boolean : string;
};

export interface CliArgsOptions {
  /** How the user asks for help, e.g. "dailies generate": "run `dailies generate --help` for the options". */
  command?: string;
  /** The fix named after "Unexpected argument …" (default: options start with --). */
  positional?: string;
}

/** A dash-led value that is still a value: a negative number. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

const quoted = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * Options from `argv`, every error one sentence ending in what to do. `--help` anywhere wins: the
 * values are then `{ help: true }` and nothing else is checked. parseArgs runs non-strict and its
 * tokens are checked here, because its strict-mode errors are multi-line and name no fix, and it
 * would take `--prompt --json` as the prompt "--json".
 */
export function parseCliArgs<const O extends CliOptions>(argv: string[], options: O, how: CliArgsOptions = {}): CliValues<O> {
  const all: CliOptions = { ...HELP, ...options };
  const more = how.command ? `run \`${how.command} --help\` for the options` : 'run with --help for the options';
  const usageError = (text: string, fix = more) => new DailiesError('bad_input', `${text}; ${fix}.`);
  const { tokens } = parseArgs({ args: argv, options: all, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { help: true } as CliValues<O>;
  const values: Record<string, string | boolean> = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw usageError(`Unexpected argument ${quoted(token.value)}`, how.positional ?? 'options start with --, and a value with spaces needs quotes');
    }
    const option = Object.hasOwn(all, token.name) ? all[token.name] : undefined;
    if (!option) throw usageError(`Unknown option ${token.rawName}`);
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw usageError(`Option ${token.rawName} takes no value (got ${quoted(token.value)})`, `write ${token.rawName} on its own`);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) throw usageError(`Option ${token.rawName} needs a value`);
    if (!token.inlineValue && value.startsWith('-') && !DECIMAL.test(value)) {
      throw usageError(`Option ${token.rawName} needs a value but is followed by ${quoted(value)}`, `give it a value, or write ${token.rawName}=VALUE for one that starts with a dash`);
    }
    values[token.name] = value;
  }
  return values as CliValues<O>;
}

/** A whole-number flag: `fallback` when absent, a clear error when not a whole number >= min. */
export function wholeNumber<F extends number | undefined>(flag: string, raw: string | undefined, fallback: F, min: number): number | F {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new DailiesError('bad_input', `${flag} must be a whole number of at least ${min}, not "${raw}".`);
  return v;
}

/** Runs `run` when the module at `moduleUrl` is the script node was started with. */
export async function runIfMain(moduleUrl: string, run: (argv: string[]) => Promise<number>): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(path.resolve(process.argv[1])).href) return;
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
