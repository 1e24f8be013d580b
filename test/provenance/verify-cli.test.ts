import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topLevelBoxes } from '../../src/provenance/bmff.ts';
import { loadSigningIdentity, signMp4, type SigningIdentity } from '../../src/provenance/index.ts';
import { exec, makeMp4, sampleCredits, tempDir } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `dailies verify …` as a user runs it: a child process, its stdout, stderr and exit code. */
async function dailies(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['cli/dailies.js', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: string;
let cleanup: () => Promise<void>;
let identity: SigningIdentity;
let unsigned: string;
let signed: string;
let tampered: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  identity = await loadSigningIdentity(path.join(dir, 'identity'));
  unsigned = await makeMp4(path.join(dir, 'take.mp4'));
  signed = path.join(dir, 'signed.mp4');
  await signMp4(unsigned, signed, sampleCredits(), identity);
  const bytes = await readFile(signed);
  const mdat = topLevelBoxes(bytes).find((b) => b.type === 'mdat')!;
  bytes[mdat.offset + 20]! ^= 0xff;
  tampered = path.join(dir, 'tampered.mp4');
  await writeFile(tampered, bytes);
});
afterAll(() => cleanup());

describe('dailies verify', () => {
  it('prints a valid report with lineage and contributors, exit 0', async () => {
    const { code, stdout, stderr } = await dailies('verify', signed);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Content Credentials: valid: /);
    expect(stdout).toContain('\nsigned by: dailies local CA\n');
    expect(stdout).toContain('\nsoftware agent: dailies 0.1.0\n');
    expect(stdout).toContain('\nmodel: shapes-v2 (weights sha256 9f2c4e1a');
    expect(stdout).toContain(['lineage:', '  v1 "a red circle moving to the left" by Ana (first version)', `  v2 "a red circle moving slowly to the left" (avoiding "blurry") by Bo, from v1#2 (added 'slowly')`].join('\n'));
    expect(stdout).toContain(['contributors:', '  Ana: prompted, voted', '  Bo: revised, voted, finalized'].join('\n'));
  });

  it('fails (exit 1) with --trust naming another CA, saying why, though the signature itself is valid', async () => {
    const other = await loadSigningIdentity(path.join(dir, 'other-identity'));
    const { code, stdout } = await dailies('verify', '--json', '--trust', path.join(other.dir, 'ca.pem'), signed);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { state: string; problems: string[] };
    expect(report.state).toBe('valid');
    expect(report.problems.join(' ')).toMatch(/untrusted/i);
  });

  it('is trusted with --trust ca.pem, exit 0; --json prints the report as one object', async () => {
    const { code, stdout } = await dailies('verify', '--json', '--trust', path.join(identity.dir, 'ca.pem'), signed);

    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toMatchObject({ state: 'trusted', problems: [], issuer: 'dailies local CA', credits: sampleCredits() });
  });

  it('prints INVALID with the reason for a changed video, exit 1', async () => {
    const { code, stdout } = await dailies('verify', tampered);

    expect(code).toBe(1);
    expect(stdout).toMatch(/^Content Credentials: INVALID\n {2}- the video data was changed after it was signed \(assertion\.bmffHash\.mismatch\)\n/);
  });

  it('says a video without credentials has none, exit 1', async () => {
    expect(await dailies('verify', unsigned)).toEqual({ code: 1, stdout: 'Content Credentials: none: this file carries no Content Credentials\n', stderr: '' });
  });

  it('answers --help with its usage, and is listed in `dailies --help`', async () => {
    expect((await dailies('verify', '--help')).stdout).toMatch(/^Usage: dailies verify FILE\.mp4 \[--json\] \[--trust CA\.pem\]\n/);
    expect((await dailies('--help')).stdout).toMatch(/\n {2}verify {7}check a video's Content Credentials: validity, prompt lineage, contributors\n/);
  });

  it.each([
    [['verify'], 'error: Name the video to check, as in `dailies verify clip.mp4`; run `dailies verify --help` for the options.'],
    [['verify', 'a.mp4', 'b.mp4'], 'error: dailies verify checks one file at a time, but got 2; run it once per file.'],
    [['verify', '--no-such-flag', 'a.mp4'], 'error: Unknown option --no-such-flag; run `dailies verify --help` for the options.'],
    [['verify', '/no/such/file.mp4'], 'error: There is no file at /no/such/file.mp4; give the path of the video.'],
  ])('%j is one clear error line, exit 1', async (args, message) => {
    expect(await dailies(...args)).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
  });
});
