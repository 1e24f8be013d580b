import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DailiesError } from '../errors.ts';

/** Command-line plumbing shared by the subcommands and the scripts that also run on their own. */

/** parseArgs with one-sentence errors. */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (cause) {
    throw new DailiesError('bad_input', `${(cause as Error).message}; run with --help for the options.`, { cause });
  }
}

/** A whole-number flag: `fallback` when absent, a clear error when not a whole number >= min. */
export function wholeNumber(flag: string, raw: string | undefined, fallback: number, min: number): number {
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
