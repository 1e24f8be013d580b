import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dailies = (...args: string[]) => run(process.execPath, ['cli/dailies.js', ...args], { timeout: 60_000 });

// The top-level usage promises `dailies <command> --help` for every command; an unknown option is
// one `error:` line and exit code 1, never a stack trace.
const COMMANDS = ['eval', 'bench', 'start', 'bot', 'worker', 'bench-pool', 'register', 'generate', 'verify', 'audit'];

describe('dailies <command> --help and unknown options', () => {
  it.each(COMMANDS)('%s --help prints its usage', async (name) => {
    const { stdout } = await dailies(name, '--help');
    expect(stdout).toMatch(new RegExp(`^Usage: dailies ${name}\\b`));
  });

  it.each(COMMANDS)('%s --no-such-flag is one clear error line', async (name) => {
    const error = (await dailies(name, '--no-such-flag').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr.trim().split('\n')).toHaveLength(1);
    expect(error.stderr).toMatch(/^error: .*--no-such-flag/);
  });
});
