import { mkdir, mkdtemp, rename, rm, rmdir, stat } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';
import type { Clip, GenerateRequest, VideoModel } from '../src/core/ports/video-model.ts';
import { DailiesError, isDailiesError } from '../src/errors.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';

/**
 * `dailies generate`: one prompt to video files, no queue, no chat. Files appear in --out only
 * when every take has been rendered and encoded; a failure leaves --out as it was.
 */

const HELP = `Usage: dailies generate --prompt "a red circle moving left on a black background" [options]

  --prompt TEXT        what to render (1-1000 characters)
  --negative TEXT      what to steer away from
  --seed N             seed of the first take (default: random); take i uses seed+i
  --steps N            sampler steps (model default)
  --guidance X         classifier-free guidance scale (model default)
  --frames N           frames to render (model default)
  --variations N       takes rendered together in one batch (default 1)
  --scheduler NAME     ddim | dpmpp-2m (model default)
  --image FILE         animate this still image (PNG, JPEG, WebP)
  --strength X         how far --image may change, above 0 and at most 1 (default 0.7)
  --extend CLIP        continue this video from its last frames
  --overlap N          frames of --extend kept as known frames (default 4, at most frames-1)
  --model DIR          model folder: model.json package or diffusers ONNX export (default: built-in)
  --provider NAME      cpu | cuda (default cpu);  --device N  GPU id for cuda
  --out DIR            where to write files (default ./out)
  --json               print one JSON object as the last line of stdout

A value that starts with a dash goes after an equals sign: --prompt="-_- a face".`;

const OPTIONS = {
  prompt: { type: 'string' }, negative: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' },
  guidance: { type: 'string' }, frames: { type: 'string' }, variations: { type: 'string' }, scheduler: { type: 'string' },
  image: { type: 'string' }, strength: { type: 'string' }, extend: { type: 'string' }, overlap: { type: 'string' },
  model: { type: 'string' }, provider: { type: 'string' }, device: { type: 'string' }, out: { type: 'string' },
  json: { type: 'boolean' },
} as const;
type OptionName = keyof typeof OPTIONS;

export interface GenerateArgs {
  prompt: string;
  negative?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  frames?: number;
  variations?: number;
  scheduler?: 'ddim' | 'dpmpp-2m';
  image?: string;
  strength: number;
  extend?: string;
  overlap?: number;
  model?: string;
  provider: 'cpu' | 'cuda';
  device?: number;
  out: string;
  json: boolean;
}

const MORE = 'run `dailies generate --help` for the options';
const DEFAULT_OVERLAP = 4;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `text` says what is wrong; the fix is in the help, unless `fix` names it. */
function usageError(text: string, fix = MORE): DailiesError {
  return new DailiesError('bad_input', `${text}; ${fix}.`);
}

const quoted = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Options from argv, or null for --help. */
export function parseGenerateArgs(argv: string[]): GenerateArgs | null {
  const raw = parseCliArgs(argv, OPTIONS, {
    command: 'dailies generate',
    positional: 'options start with --, and a prompt with spaces needs quotes: --prompt "a red circle"',
  });
  if (raw.help) return null;

  const text = (name: OptionName): string | undefined => (typeof raw[name] === 'string' ? raw[name] : undefined);
  const number = (name: OptionName, whole = false): number | undefined => {
    const s = text(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!DECIMAL.test(s.trim()) || !Number.isFinite(n)) throw usageError(`Option --${name} must be a number (got ${quoted(s)})`);
    if (whole && !Number.isInteger(n)) throw usageError(`Option --${name} must be a whole number (got ${quoted(s)})`);
    return n;
  };
  const oneOf = <T extends string>(name: OptionName, allowed: readonly T[]): T | undefined => {
    const s = text(name);
    if (s === undefined || (allowed as readonly string[]).includes(s)) return s as T | undefined;
    throw usageError(`Option --${name} must be ${allowed.join(' or ')} (got ${quoted(s)})`);
  };

  const prompt = text('prompt');
  if (prompt === undefined) throw usageError('Option --prompt is missing', 'describe the video, e.g. --prompt "a red circle moving left"');
  // Range checks that depend on the model (steps, frames, guidance, variations, seed, prompt
  // length) are the engine's; the ones here are the CLI's own options.
  const strength = number('strength');
  if (strength !== undefined && !(strength > 0 && strength <= 1)) throw usageError(`Option --strength must be above 0 and at most 1 (got ${strength})`);
  const overlap = number('overlap', true);
  if (overlap !== undefined && overlap < 1) throw usageError(`Option --overlap must be at least 1 frame (got ${overlap})`);
  const device = number('device', true);
  if (device !== undefined && device < 0) throw usageError(`Option --device must be a GPU id from 0 (got ${device})`);
  const provider = oneOf('provider', ['cpu', 'cuda'] as const) ?? 'cpu';
  const image = text('image');
  const extend = text('extend');

  // Options that would be silently ignored are refused: the user expects them to do something.
  if (image !== undefined && extend !== undefined) throw usageError('Options --image and --extend cannot be combined', 'start from an image or continue a clip, not both');
  if (strength !== undefined && image === undefined) throw usageError('Option --strength only applies to --image', 'add --image FILE or drop --strength');
  if (overlap !== undefined && extend === undefined) throw usageError('Option --overlap only applies to --extend', 'add --extend CLIP or drop --overlap');
  if (device !== undefined && provider !== 'cuda') throw usageError('Option --device picks a GPU for --provider cuda', 'add --provider cuda or drop --device');

  const args: GenerateArgs = { prompt, strength: strength ?? 0.7, provider, out: text('out') ?? 'out', json: raw.json === true };
  const optional = {
    negative: text('negative'), seed: number('seed'), steps: number('steps'), guidance: number('guidance'), frames: number('frames'),
    variations: number('variations'), scheduler: oneOf('scheduler', ['ddim', 'dpmpp-2m'] as const), image, extend, overlap,
    model: text('model'), device,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(args, { [key]: value });
  if (args.out.trim() === '') throw usageError('Option --out is empty', 'pass the folder to write the files into');
  return args;
}

function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'clip';
}

export async function run(argv: string[]): Promise<number> {
  const args = parseGenerateArgs(argv);
  if (!args) {
    console.log(HELP);
    return 0;
  }
  const started = performance.now();
  const outDir = resolve(args.out);
  // Checked before the render so a typo in --out does not cost a whole render.
  const outInfo = await stat(outDir).catch(() => undefined);
  if (outInfo && !outInfo.isDirectory()) throw new DailiesError('bad_input', `Option --out ${quoted(args.out)} is a file, not a folder; pass a folder (it is created if missing).`);

  // Imported only now: onnxruntime and the media modules take about half a second to load,
  // which --help and a mistyped option should not pay.
  const [{ builtinModelDir, loadModel }, { decodeClip, decodeImage, encodePreview, encodeVideo, resizeClip }] = await Promise.all([
    import('../models/engine/load-model.ts'),
    import('../src/media/index.ts'),
  ]);

  const controller = new AbortController();
  const onSignal = () => controller.abort(new DailiesError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const signal = controller.signal;

  let model: VideoModel | undefined;
  let staging: string | undefined;
  let createdOut: string | undefined;
  let finished = false;
  try {
    // 1. Load the model (verifies files and tensor names before anything is rendered).
    model = await loadModel(args.model ?? builtinModelDir(), { provider: args.provider, deviceId: args.device ?? 0 });
    const m = model;

    // 2. Read inputs: an image to animate or a clip to extend, at the model's size.
    const { width, height, outputSize } = m.defaults;
    let extend: { clip: Clip; overlap: number } | undefined;
    const request: GenerateRequest = {
      prompt: args.prompt,
      seed: args.seed ?? Math.floor(Math.random() * 2 ** 31),
      ...(args.variations !== undefined && { variations: args.variations }),
      ...(args.negative !== undefined && { negativePrompt: args.negative }),
      ...(args.steps !== undefined && { steps: args.steps }),
      ...(args.guidance !== undefined && { guidance: args.guidance }),
      ...(args.frames !== undefined && { frames: args.frames }),
      ...(args.scheduler && { scheduler: args.scheduler }),
    };
    if (args.image) {
      const still = await resizeClip(await decodeImage(args.image, { signal }), width, height, { signal });
      request.image = { frame: still, strength: args.strength };
    }
    if (args.extend) {
      const clip = await resizeClip(await decodeClip(args.extend, { signal }), width, height, { signal });
      // The default must leave room for new frames, or models rendering few frames could never extend.
      const frames = Math.floor(args.frames ?? m.defaults.frames);
      const overlap = args.overlap ?? Math.max(1, Math.min(DEFAULT_OVERLAP, clip.frames.length, frames - 1));
      extend = { clip, overlap };
      request.extend = extend;
    }

    // 3. Render every take in one batched run.
    const result = await m.generate(request, { signal }).catch((e: unknown) => {
      throw isDailiesError(e) ? inCliTerms(e) : e;
    });

    // 4. Encode into a staging folder inside --out, so a rename publishes finished files only.
    const encodeStarted = performance.now();
    const name = slug(args.prompt);
    let encoded;
    try {
      createdOut = await mkdir(outDir, { recursive: true });
      staging = await mkdtemp(join(outDir, '.dailies-'));
      const dir = staging;
      encoded = await allOrNothing(
        result.takes.map(({ seed, clip }) => async (encodeSignal: AbortSignal) => {
          const full = extend ? appendExtension(extend.clip, clip, extend.overlap) : clip;
          const [video, preview] = await allOrNothing(
            [
              (s: AbortSignal) => encodeVideo(full, { path: join(dir, `${name}-${seed}.mp4`), size: outputSize, signal: s }),
              (s: AbortSignal) => encodePreview(full, { path: join(dir, `${name}-${seed}.preview`), size: outputSize, signal: s }),
            ],
            encodeSignal,
          );
          return { seed, video: video!, preview: preview! };
        }),
        signal,
      );
    } catch (e) {
      throw asWriteError(e, 'Encoding the clips', outDir);
    }
    const encodeMs = performance.now() - encodeStarted;

    // 5. Publish: move the finished files into --out; a failure part-way takes back what moved.
    const outputs: { video: string; preview: string; seed: number }[] = [];
    const published: string[] = [];
    try {
      for (const { seed, video, preview } of encoded) {
        const ext = preview.contentType === 'image/gif' ? 'gif' : 'webp';
        const videoPath = join(outDir, basename(video.path));
        const previewPath = join(outDir, `${name}-${seed}.${ext}`);
        await rename(video.path, videoPath);
        published.push(videoPath);
        await rename(preview.path, previewPath);
        published.push(previewPath);
        outputs.push({ video: videoPath, preview: previewPath, seed });
      }
    } catch (e) {
      await Promise.allSettled(published.map((p) => rm(p, { force: true })));
      throw asWriteError(e, 'Moving the finished files', outDir);
    }
    finished = true;
    const summary = {
      model: m.name,
      outputs,
      timings_ms: {
        total: Math.round(performance.now() - started),
        denoise: Math.round(result.timingsMs.denoise),
        encode: Math.round(encodeMs),
      },
    };
    if (args.json) console.log(JSON.stringify(summary));
    else for (const o of outputs) console.log(`seed ${o.seed}: ${o.video}  (preview ${o.preview})`);
    return 0;
  } catch (e) {
    // The engine and ffmpeg each word cancellation for chat users; here the user pressed Ctrl-C.
    if (signal.aborted && isDailiesError(e) && e.code === 'cancelled') {
      throw new DailiesError('cancelled', `Interrupted, so nothing was added to ${outDir}; run the command again to render.`, { cause: e });
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (staging) await rm(staging, { recursive: true, force: true, maxRetries: 2 });
    if (!finished && createdOut) await removeEmptyFolders(outDir, createdOut);
    await model?.dispose();
  }
}

/**
 * Runs every task; on the first failure the others are aborted and awaited before it is
 * rethrown, so no encode is still writing into the staging folder while it is removed.
 */
async function allOrNothing<T>(tasks: ((signal: AbortSignal) => Promise<T>)[], parent: AbortSignal): Promise<T[]> {
  const stop = new AbortController();
  const signal = AbortSignal.any([parent, stop.signal]);
  // Every running ffmpeg listens on it; many takes would otherwise trip Node's leak warning.
  setMaxListeners(Math.max(10, 2 * tasks.length + 2), signal);
  let failure: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    tasks.map((task) =>
      task(signal).catch((error: unknown) => {
        if (!failure) {
          failure = { error };
          stop.abort();
        }
        throw error;
      }),
    ),
  );
  if (failure) throw failure.error;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

// The engine names request fields; the person at the terminal typed options.
const OPTION_OF_FIELD: Record<string, string> = {
  prompt: '--prompt', negativePrompt: '--negative', seed: '--seed', steps: '--steps', guidance: '--guidance', frames: '--frames',
  variations: '--variations', scheduler: '--scheduler', image: '--image', 'image.strength': '--strength', extend: '--extend', 'extend.overlap': '--overlap',
};

function inCliTerms(e: DailiesError): DailiesError {
  const field = e.code === 'bad_input' ? /^([\w.]+) /.exec(e.message)?.[1] : undefined;
  const option = field && OPTION_OF_FIELD[field];
  if (!field || !option) return e;
  return new DailiesError(e.code, `${option}${e.message.slice(field.length)}`, { ...e.options, cause: e });
}

/** File-system and ffmpeg failures as one sentence; their stack traces help no one at a terminal. */
function asWriteError(e: unknown, doing: string, outDir: string): DailiesError {
  if (isDailiesError(e)) return e;
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
  return new DailiesError('internal', `${doing} into ${outDir} failed (${detail}); check that the folder is writable with free space and that \`ffmpeg -version\` works, then try again.`, { cause: e });
}

/** Undoes `mkdir -p` of --out after a failure, keeping any folder something else wrote into. */
async function removeEmptyFolders(deepest: string, topmostCreated: string): Promise<void> {
  for (let dir = deepest; ; dir = dirname(dir)) {
    const removed = await rmdir(dir).then(() => true, () => false);
    if (!removed || dir === topmostCreated || dirname(dir) === dir) return;
  }
}

/** The extended video: the given clip, then the new frames after the ones it shares with it. */
function appendExtension(original: Clip, continuation: Clip, overlap: number): Clip {
  return { ...continuation, frames: [...original.frames, ...continuation.frames.slice(overlap)] };
}
