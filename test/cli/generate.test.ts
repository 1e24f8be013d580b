import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGenerateArgs } from '../../cli/generate.ts';

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

/**
 * Frames that went through the encoder twice are the same picture, not the same bytes: back down
 * to the model's 32 px, smoothed up again (src/media/scaling.ts) and through x264 they lose about
 * 11 of 255 on the tiny model's noise-like frames, which differ from each other by far more.
 */
function expectSameFrames(actual: Buffer[], expected: Buffer[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((f, i) => {
    const distances = expected.map((e) => meanAbsDiff(f, e));
    expect(distances[i]).toBeLessThan(16);
    expect(Math.min(...distances.filter((_, j) => j !== i))).toBeGreaterThan(2 * distances[i]!);
  });
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
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
let backward: Promise<Result>;
let bridged: Promise<Result>;
let long: Promise<Result>;
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
  const clips = takes.then((r) => summaryOf(r).outputs.map((o) => o.video));
  extended = clips.then(([a]) => dailies([...common, '--extend', a!, '--seed', '9', '--out', dir('extended')]));
  backward = clips.then(([a]) => dailies([...common, '--extend', a!, '--direction', 'backward', '--frames', '3', '--seed', '9', '--out', dir('backward')]));
  bridged = clips.then(([a, b]) => dailies([...common, '--bridge', a!, b!, '--seed', '9', '--out', dir('bridged')]));
  long = dailies([...common, '--duration', '1.5', '--overlap', '1', '--variations', '2', '--seed', '5', '--out', dir('long')]);
  for (const [name, p] of Object.entries({ takes, again, fromImage, latent, extended, backward, bridged, long })) p.then((r) => (timings[name] = r.ms), () => {});
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

  it('extends a clip forward: the output is the clip, then one window of new frames after the overlap', async () => {
    const input = summaryOf(await takes).outputs[0]!.video;
    const [output] = summaryOf(await extended).outputs;
    await expectH264(output!.video);
    const [source, whole] = [await decodeFrames(input), await decodeFrames(output!.video)];
    // tiny-pixel renders 4-frame windows; the default overlap of 3 leaves room for 1 new frame.
    expect(whole).toHaveLength(DEFAULT_FRAMES + 1);
    expectSameFrames(whole.slice(0, DEFAULT_FRAMES), source);
  });

  it('extends a clip backward: the output is the new frames, then the clip', async () => {
    const input = summaryOf(await takes).outputs[0]!.video;
    const whole = await decodeFrames(summaryOf(await backward).outputs[0]!.video);
    expect(whole).toHaveLength(3 + DEFAULT_FRAMES);
    expectSameFrames(whole.slice(3), await decodeFrames(input));
  });

  it('bridges two clips: the output is the first, a transition, then the second', async () => {
    const [a, b] = summaryOf(await takes).outputs.map((o) => o.video);
    const whole = await decodeFrames(summaryOf(await bridged).outputs[0]!.video);
    // Default transition: one 4-frame window minus an overlap of 1 at each end.
    expect(whole).toHaveLength(DEFAULT_FRAMES + 2 + DEFAULT_FRAMES);
    expectSameFrames(whole.slice(0, DEFAULT_FRAMES), await decodeFrames(a!));
    expectSameFrames(whole.slice(-DEFAULT_FRAMES), await decodeFrames(b!));
  });

  it('renders --duration past one model window as a chain, one video per take', async () => {
    const summary = summaryOf(await long);
    expect(summary.outputs.map((o) => o.seed)).toEqual([5, 6]);
    // 1.5 s at 8 fps: 12 frames from 4-frame windows.
    for (const o of summary.outputs) expect(await decodeFrames(o.video)).toHaveLength(12);
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
    expect(r.stdout).toContain('--bridge A B');
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
  ['--overlap that fills a bridge window', () => ['--prompt', 'x', '--bridge', still, still, '--overlap', '2'], /^Option --overlap 2 leaves no new frame between the known ends of the model's 4-frame window; use at most 1\.$/],
];

// Refused while reading the options, before anything is loaded: checked in-process, no spawn.
describe('dailies generate option checks', () => {
  it.each([
    [['--extend', 'a.mp4', '--bridge', 'a.mp4', 'b.mp4'], /^Options --extend and --bridge cannot be combined; extend one clip or bridge two, not both\.$/],
    [['--image', 'a.png', '--bridge', 'a.mp4', 'b.mp4'], /^Options --image and --bridge cannot be combined; /],
    [['--bridge', 'a.mp4'], /^Option --bridge needs two clips, the one to leave and the one to arrive at; write --bridge FROM\.mp4 TO\.mp4\.$/],
    [['--bridge', 'a.mp4', '--seed', '1'], /^Option --bridge needs two clips/],
    [['--bridge', 'a.mp4', 'b.mp4', '--bridge=c.mp4', 'd.mp4'], /^Option --bridge is given more than once; /],
    [['--direction', 'backward'], /^Option --direction only applies to --extend; add --extend CLIP or drop --direction\.$/],
    [['--extend', 'a.mp4', '--direction', 'sideways'], /^Option --direction must be forward or backward \(got "sideways"\); /],
    [['--frames', '4', '--duration', '2'], /^Options --frames and --duration cannot be combined; give the length once, in frames or in seconds\.$/],
    [['--duration', '0'], /^Option --duration must be more than 0 seconds \(got 0\); /],
    [['--overlap', '2'], /^Option --overlap only applies to renders that join windows \(--extend, --bridge or --duration\); add one of them or drop --overlap\.$/],
    [['--continuity-strength', '0.8'], /^Option --continuity-strength only applies to renders that join windows \(--extend, --bridge or --duration\); add one of them or drop --continuity-strength\.$/],
    [['--duration', '4', '--continuity-strength', '0'], /^Option --continuity-strength must be above 0 and at most 1 \(got 0\); /],
  ])('refuses %j', (args, message) => {
    expect(() => parseGenerateArgs(['--prompt', 'x', ...args])).toThrow(message);
  });

  it('reads --bridge with its two clips anywhere on the line', () => {
    expect(parseGenerateArgs(['--bridge', 'a.mp4', 'b.mp4', '--prompt', 'x', '--duration', '1.5'])).toMatchObject({ bridge: ['a.mp4', 'b.mp4'], duration: 1.5, prompt: 'x' });
    expect(parseGenerateArgs(['--prompt', 'x', '--bridge=a.mp4', 'b.mp4'])).toMatchObject({ bridge: ['a.mp4', 'b.mp4'] });
    expect(parseGenerateArgs(['--bridge', 'a.mp4', '--help'])).toBeNull();
  });

  it("leaves where the new frames of joins start to the model's chains unless told otherwise", () => {
    expect(parseGenerateArgs(['--prompt', 'x', '--duration', '4'])).not.toHaveProperty('continuityStrength');
    expect(parseGenerateArgs(['--prompt', 'x', '--extend', 'a.mp4', '--continuity-strength', '1'])).toMatchObject({ continuityStrength: 1 });
  });
});

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
