import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DailiesError } from '../src/errors.ts';
import { formatReport, readCredentials } from '../src/provenance/index.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';

/**
 * `dailies verify FILE.mp4`: whether a video's Content Credentials hold up, and what they say
 * (model, prompt lineage, contributors). The exit code is for scripts: 0 when the credentials
 * are valid (with --trust: trusted by that CA), 1 otherwise.
 */

const HELP = `Usage: dailies verify FILE.mp4 [--json] [--trust CA.pem]

Checks the Content Credentials (C2PA) in a video: whether the video or its manifest changed
after signing, who signed it, the software and model that made it, the prompt lineage
(v1 "…" by Name; v2 "…" by Name, from v1#2; …) and the contributors with their roles.

  --trust CA.pem   also check that the signer's certificate comes from this CA (PEM, one or
                   more certificates; a dailies install's CA is ca.pem in its signing folder);
                   the state is then "trusted", or "valid" with the reason it is not
  --json           print the report as one JSON object instead

Exit code: 0 when the credentials are valid (with --trust: trusted), 1 otherwise.`;

const OPTIONS = { json: { type: 'boolean' }, trust: { type: 'string' } } as const;
const COMMAND = 'dailies verify';

export async function run(argv: string[]): Promise<number> {
  // The shared parser takes options only, so the file name is taken out first.
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional = new Set(tokens.flatMap((t) => (t.kind === 'positional' ? [t.index] : [])));
  const files = argv.filter((_, i) => positional.has(i));
  const args = parseCliArgs(argv.filter((_, i) => !positional.has(i)), OPTIONS, { command: COMMAND });
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const [file, ...more] = files;
  if (!file) throw new DailiesError('bad_input', `Name the video to check, as in \`${COMMAND} clip.mp4\`; run \`${COMMAND} --help\` for the options.`);
  if (more.length) throw new DailiesError('bad_input', `${COMMAND} checks one file at a time, but got ${files.length}; run it once per file.`);

  const trustAnchorsPem = args.trust === undefined ? undefined : await readInput(args.trust, 'the CA certificate (PEM)', 'utf8');
  const bytes = await readInput(file, 'the video');
  const report = await readCredentials(bytes, trustAnchorsPem === undefined ? {} : { trustAnchorsPem });
  console.log(args.json ? JSON.stringify(report) : formatReport(report));
  // Asked to trust one CA, a signature from any other is a failure, not a pass with a note.
  if (trustAnchorsPem !== undefined) return report.state === 'trusted' ? 0 : 1;
  return report.state === 'valid' || report.state === 'trusted' ? 0 : 1;
}

async function readInput(path: string, what: string): Promise<Uint8Array>;
async function readInput(path: string, what: string, encoding: 'utf8'): Promise<string>;
async function readInput(path: string, what: string, encoding?: 'utf8'): Promise<Uint8Array | string> {
  try {
    if (encoding) return await readFile(path, encoding);
    const bytes = await readFile(path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DailiesError('not_found', `There is no file at ${path}; give the path of ${what}.`, { cause: e });
    if (code === 'EISDIR') throw new DailiesError('bad_input', `${path} is a folder; give the path of ${what}.`, { cause: e });
    throw new DailiesError('unavailable', `Cannot read ${path} (${code ?? (e as Error).message}); check its permissions.`, { cause: e });
  }
}
