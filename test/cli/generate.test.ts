import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `dailies generate` as a user runs it: the real entry point in a child process, the tiny
 * committed models, real ffmpeg. Every spawn pays for tsx and onnxruntime start-up, so runs
 * are shared between checks and at most three run at once.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PIXEL = 'test/fixtures/tiny-pixel'; // 16x16, 4 frames by default, outputSize 64, limits in its model.json
const LATENT = 'test/fixtures/tiny-latent/clip-slow';
const OUTPUT_SIZE = 64;
const DEFAULT_FRAMES = 4;
const SEED = 4242;
const run = promisify(execFile);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const limit = limiter(3);

function dailies(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return limit(
    () =>
      new Promise<Result>((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, ['cli/dailies.js', 'generate', ...args], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
      }),
  );
}

function limiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((go) => waiting.push(go));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface Summary {
  model: string;
  outputs: { video: string; preview: string; seed: number }[];
  timings_ms: { total: number; denoise: number; encode: number };
}

function summaryOf(r: Result): Summary {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const last = r.stdout.trimEnd().split('\n').at(-1)!;
  return JSON.parse(last) as Summary;
}

async function probe(file: string) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; pix_fmt: string; width: number; height: number }[] }).streams[0]!;
}

/** Decoded RGB frames: what a viewer sees, independent of how the encoder packed it. */
async function decodeFrames(file: string): Promise<Buffer[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const { width, height } = await probe(file);
  const size = width * height * 3;
  expect(stdout.length % size).toBe(0);
  return Array.from({ length: stdout.length / size }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}

async function previewKind(file: string): Promise<string> {
  const head = (await readFile(file)).subarray(0, 12);
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (head.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  return 'unknown';
}

async function expectH264(file: string) {
  const s = await probe(file);
  expect({ codec: s.codec_name, pixFmt: s.pix_fmt, short: Math.min(s.width, s.height) }).toEqual({ codec: 'h264', pixFmt: 'yuv420p', short: OUTPUT_SIZE });
}

const exists = (p: string) => stat(p).then(() => true, () => false);

let tmp: string;
let still: string;
let notes: string;
let badShaModel: string;
let badTensorModel: string;
let failingFfmpeg: string;
const timings: Record<string, number> = {};

// Started together in beforeAll and awaited by the checks that need them.
let takes: Promise<Result>;
let again: Promise<Result>;
let fromImage: Promise<Result>;
let latent: Promise<Result>;
let extended: Promise<Result>;
const dir = (name: string) => path.join(tmp, name);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dailies-generate-'));
  still = dir('still.png');
  notes = dir('notes.txt');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=40x30:rate=1', '-frames:v', '1', still]);
  await writeFile(notes, 'not an image\n');

  badShaModel = dir('model-bad-sha');
  badTensorModel = dir('model-bad-tensor');
  await cp(path.join(ROOT, PIXEL), badShaModel, { recursive: true });
  await cp(path.join(ROOT, PIXEL), badTensorModel, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(ROOT, PIXEL, 'model.json'), 'utf8'));
  await writeFile(
    path.join(badShaModel, 'model.json'),
    JSON.stringify({ ...manifest, components: { ...manifest.components, denoiser: { ...manifest.components.denoiser, sha256: '0'.repeat(64) } } }),
  );
  const denoiser = manifest.components.denoiser;
  await writeFile(
    path.join(badTensorModel, 'model.json'),
    JSON.stringify({ ...manifest, components: { ...manifest.components, denoiser: { ...denoiser, outputs: { prediction: { ...denoiser.outputs.prediction, name: 'noise_pred' } } } } }),
  );

  // Real ffmpeg for everything but the preview encode: fails after the staging folder exists.
  const realFfmpeg = (await run('sh', ['-c', 'command -v ffmpeg'])).stdout.trim();
  failingFfmpeg = dir('failing-ffmpeg.sh');
  await writeFile(
    failingFfmpeg,
    `#!/bin/sh\nfor a in "$@"; do case "$a" in webp|gif) echo "simulated preview encoder failure" >&2; exit 1;; esac; done\nexec ${JSON.stringify(realFfmpeg)} "$@"\n`,
  );
  await chmod(failingFfmpeg, 0o755);

  const common = ['--model', PIXEL, '--json', '--prompt', 'a red circle moving left'];
  takes = dailies([...common, '--seed', String(SEED), '--variations', '2', '--out', dir('takes')]);
  again = dailies([...common, '--seed', String(SEED), '--variations', '2', '--out', dir('again')]);
  fromImage = dailies([...common, '--image', still, '--seed', '7', '--out', dir('image')]);
  latent = dailies(['--model', LATENT, '--json', '--prompt', 'a blue square', '--seed', '3', '--out', dir('latent')]);
  extended = takes.then((r) => dailies([...common, '--extend', summaryOf(r).outputs[0]!.video, '--seed', '9', '--out', dir('extended')]));
  for (const [name, p] of Object.entries({ takes, again, fromImage, latent, extended })) p.then((r) => (timings[name] = r.ms), () => {});
});

afterAll(async () => {
  if (Object.keys(timings).length) console.log('dailies generate spawn times (ms):', JSON.stringify(timings));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// Generous per test: a check may wait behind other spawns on a machine that is busy elsewhere.
describe.concurrent('dailies generate renders', { timeout: 120_000 }, () => {
  it('prints a JSON summary as the last stdout line, with one output per take and seeds s, s+1', async () => {
    const summary = summaryOf(await takes);
    expect(summary).toEqual({
      model: 'tiny-pixel',
      outputs: [
        { video: expect.any(String), preview: expect.any(String), seed: SEED },
        { video: expect.any(String), preview: expect.any(String), seed: SEED + 1 },
      ],
      timings_ms: { total: expect.any(Number), denoise: expect.any(Number), encode: expect.any(Number) },
    });
    const { total, denoise, encode } = summary.timings_ms;
    expect(total).toBeGreaterThanOrEqual(denoise + encode);
    // Only the published files: the staging folder is gone.
    const files = summary.outputs.flatMap((o) => [o.video, o.preview]);
    expect((await readdir(dir('takes'))).sort()).toEqual(files.map((f) => path.basename(f)).sort());
  });

  it('writes H.264 yuv420p MP4s at the model outputSize and WebP or GIF previews', async () => {
    for (const o of summaryOf(await takes).outputs) {
      expect(path.dirname(o.video)).toBe(dir('takes'));
      await expectH264(o.video);
      expect(await decodeFrames(o.video)).toHaveLength(DEFAULT_FRAMES);
      expect(['webp', 'gif']).toContain(await previewKind(o.preview));
      expect(o.preview.endsWith(`.${await previewKind(o.preview)}`)).toBe(true);
    }
  });

  it('gives the same frames for the same seed, and different frames for the next seed', async () => {
    const [first, second] = [summaryOf(await takes), summaryOf(await again)];
    for (const i of [0, 1]) {
      const [a, b] = [first.outputs[i]!.video, second.outputs[i]!.video];
      expect(Buffer.concat(await decodeFrames(a)).equals(Buffer.concat(await decodeFrames(b)))).toBe(true);
      // x264 is deterministic unless told otherwise and ffmpeg writes no creation time, so the
      // files match byte for byte too (checked on ffmpeg 5.1); the frames are what must hold.
      expect((await readFile(a)).equals(await readFile(b))).toBe(true);
    }
    const [take0, take1] = await Promise.all(first.outputs.map((o) => decodeFrames(o.video)));
    expect(Buffer.concat(take0!).equals(Buffer.concat(take1!))).toBe(false);
  });

  it('animates a PNG given with --image', async () => {
    const [output] = summaryOf(await fromImage).outputs;
    await expectH264(output!.video);
    expect(await decodeFrames(output!.video)).toHaveLength(DEFAULT_FRAMES);
  });

  it('extends a clip from an earlier run into a longer one', async () => {
    const input = summaryOf(await takes).outputs[0]!.video;
    const [output] = summaryOf(await extended).outputs;
    await expectH264(output!.video);
    const [before, after] = [await decodeFrames(input), await decodeFrames(output!.video)];
    expect(after.length).toBeGreaterThan(before.length);
  });

  it('renders with a diffusers-layout latent model', async () => {
    const summary = summaryOf(await latent);
    expect(summary.model).toBe('tiny-latent-clip-slow');
    await expectH264(summary.outputs[0]!.video);
  });

  it('prints usage and exits 0 for --help', async () => {
    const r = await dailies(['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: dailies generate --prompt/);
    expect(r.stdout).toContain('--variations N');
  });
});

const LONG = 'a'.repeat(1001);
const cases: [string, () => string[], RegExp][] = [
  ['an empty prompt', () => ['--prompt', ''], /^--prompt must not be blank; describe the video/],
  ['a whitespace prompt', () => ['--prompt', '  \t '], /^--prompt must not be blank/],
  ['a prompt over 1000 characters', () => ['--prompt', LONG], /^--prompt must be at most 1000 characters \(got 1001\)\.$/],
  ['no prompt', () => [], /^Option --prompt is missing; describe the video, e.g\. --prompt "/],
  ['an unknown --model folder', () => ['--prompt', 'x', '--model', dir('no-such-model')], /^No model at .*no-such-model: pass --model a folder with model\.json/],
  ['a model file with the wrong sha256', () => ['--prompt', 'x', '--model', badShaModel], /^File denoiser\.onnx in .* does not match its sha256 in model\.json; re-download or re-export/],
  ['a manifest tensor name the graph lacks', () => ['--prompt', 'x', '--model', badTensorModel], /^The denoiser graph denoiser\.onnx has no output "noise_pred" .*; fix the tensor name in model\.json\.$/],
  ['--steps below the range', () => ['--prompt', 'x', '--steps', '0'], /^--steps must be a whole number from 1 to 20 \(got 0\)\.$/],
  ['--steps above the range', () => ['--prompt', 'x', '--steps', '21'], /^--steps must be a whole number from 1 to 20 \(got 21\)\.$/],
  ['--frames above the range', () => ['--prompt', 'x', '--frames', '9'], /^--frames must be a whole number from 2 to 8 \(got 9\)\.$/],
  ['--guidance above the range', () => ['--prompt', 'x', '--guidance', '10.5'], /^--guidance must be a number from 0 to 10 \(got 10\.5\)\.$/],
  ['--variations above the range', () => ['--prompt', 'x', '--variations', '5'], /^--variations must be a whole number from 1 to 4 \(got 5\)\.$/],
  ['a non-numeric --steps', () => ['--prompt', 'x', '--steps', 'many'], /^Option --steps must be a number \(got "many"\); run `dailies generate --help` for the options\.$/],
  ['an unknown flag', () => ['--prompt', 'x', '--foo'], /^Unknown option --foo; run `dailies generate --help` for the options\.$/],
  ['a flag missing its value', () => ['--prompt', 'x', '--steps'], /^Option --steps needs a value; run `dailies generate --help`/],
  ['an unquoted prompt', () => ['--prompt', 'a', 'red', 'circle'], /^Unexpected argument "red"; .*quotes/],
  ['--image of a text file', () => ['--prompt', 'x', '--image', notes], /^The file "notes\.txt" is not an image ffmpeg can read; use a PNG, JPEG or WebP\.$/],
  ['--extend of a text file', () => ['--prompt', 'x', '--extend', notes], /^The file "notes\.txt" is not a video or image ffmpeg can read; use an MP4/],
  ['--extend of a missing file', () => ['--prompt', 'x', '--extend', dir('gone.mp4')], /^The file "gone\.mp4" does not exist; check the path and try again\.$/],
  ['--image with --extend', () => ['--prompt', 'x', '--image', still, '--extend', still], /^Options --image and --extend cannot be combined; /],
];

describe.concurrent('dailies generate refuses bad input with one line and an untouched --out', { timeout: 120_000 }, () => {
  it.each(cases)('%s', async (_label, args, message) => {
    const out = await mkdtemp(path.join(tmp, 'out-'));
    // Last, so that a case can end on an option missing its value.
    const r = await dailies(['--model', PIXEL, '--out', out, '--json', ...args()]);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]!.slice('error: '.length)).toMatch(message);
    expect(r.code).toBe(1);
    expect(await readdir(out)).toEqual([]);
  });

  it('removes the staging folder and a --out it created when encoding fails', async () => {
    const out = path.join(tmp, 'made-by-run', 'nested');
    const r = await dailies(['--model', PIXEL, '--prompt', 'x', '--seed', '1', '--variations', '2', '--out', out], { FFMPEG_PATH: failingFfmpeg });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: Encoding the clips into .*nested failed \(.*\); check that the folder is writable/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await exists(path.join(tmp, 'made-by-run'))).toBe(false);
  });

  // onnxruntime's own logger used to print the missing-library error in red above this line.
  it.skipIf(existsSync('/dev/nvidia0'))('says in one line that CUDA cannot start on a machine without it', async () => {
    const out = await mkdtemp(path.join(tmp, 'out-'));
    const r = await dailies(['--model', PIXEL, '--prompt', 'x', '--provider', 'cuda', '--out', out]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^error: The CUDA execution provider could not start .*, or run with --provider cpu\.\n$/);
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a --out that is a file before rendering', async () => {
    const file = path.join(tmp, 'out-file');
    await writeFile(file, '');
    const r = await dailies(['--model', PIXEL, '--prompt', 'x', '--out', file]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^error: Option --out ".*out-file" is a file, not a folder; pass a folder/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('leaves a missing --out missing after a refusal', async () => {
    const out = path.join(tmp, 'never-made');
    const r = await dailies(['--model', PIXEL, '--prompt', 'x', '--steps', '0', '--out', out]);
    expect(r.code).toBe(1);
    expect(await exists(out)).toBe(false);
  });
});
