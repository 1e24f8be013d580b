import { mkdir, mkdtemp, rename, rm, rmdir, stat } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';
import type { ChainContext } from '../models/engine/chain.ts';
import type { GenerateRequest, GenerateResult, VideoModel } from '../src/core/ports/video-model.ts';
import { CONTINUATION_STRENGTH } from '../src/core/segment-plan.ts';
import { SCHEDULER_NAMES, type SchedulerName } from '../models/engine/schedulers/names.ts';
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
  --frames N           frames to render (model default); with --extend or --bridge, the new frames
  --duration S         seconds of new video, round(S x fps) frames; past one model window the
                       render is a chain of windows joined by --overlap known frames
  --variations N       takes rendered together in one batch (default 1)
  --scheduler NAME     ddim | dpmpp-2m | ddpm (model default)
  --image FILE         animate this still image (PNG, JPEG, WebP)
  --strength X         how far --image may change, above 0 and at most 1 (default 0.7)
  --extend CLIP        extend this video; the output is the whole video, the clip and the new
                       frames (default length: one model window minus the overlap)
  --direction DIR      forward (default: new frames after the clip) | backward (before it)
  --bridge A B         a transition from clip A into clip B; the output is A, the transition, B
                       (default length: one model window minus twice the overlap)
  --overlap N          known frames carried across each join (default 4)
  --continuity-strength X
                       how far new frames may stray from the known frames they join, above 0
                       and at most 1: 1 starts them from noise (a visible step at each join),
                       lower from the known frames: smoother, but less motion (default: the
                       model's own, else ${CONTINUATION_STRENGTH})
  --model DIR          model folder: model.json package or diffusers ONNX export (default: built-in)
  --provider NAME      cpu | cuda (default cpu);  --device N  GPU id for cuda
  --out DIR            where to write files (default ./out)
  --json               print one JSON object as the last line of stdout

A value that starts with a dash goes after an equals sign: --prompt="-_- a face".`;

const OPTIONS = {
  prompt: { type: 'string' }, negative: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' },
  guidance: { type: 'string' }, frames: { type: 'string' }, variations: { type: 'string' }, scheduler: { type: 'string' },
  image: { type: 'string' }, strength: { type: 'string' }, extend: { type: 'string' }, overlap: { type: 'string' },
  duration: { type: 'string' }, direction: { type: 'string' }, 'continuity-strength': { type: 'string' },
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
  /** Seconds of new video. */
  duration?: number;
  variations?: number;
  scheduler?: SchedulerName;
  image?: string;
  strength: number;
  extend?: string;
  direction?: 'forward' | 'backward';
  /** The clip to leave and the clip to arrive at. */
  bridge?: [string, string];
  overlap?: number;
  /** Where the new frames of a chain start (GenerateRequest.known.strength); absent: the model's own (continuationStrength in src/core/segment-plan.ts). */
  continuityStrength?: number;
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

/**
 * `--bridge A B` is the one option with two values, which the shared parser (one value per
 * option) cannot read, so its values are taken out of argv first: the next two arguments (or the
 * one after `--bridge=A`) that do not start with a dash.
 */
function takeBridge(argv: string[]): { rest: string[]; bridges: string[][] } {
  const rest: string[] = [];
  const bridges: string[][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== '--bridge' && !arg.startsWith('--bridge=')) {
      rest.push(arg);
      continue;
    }
    const files = arg === '--bridge' ? [] : [arg.slice('--bridge='.length)];
    while (files.length < 2 && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) files.push(argv[++i]!);
    bridges.push(files);
  }
  return { rest, bridges };
}

/** Options from argv, or null for --help. */
export function parseGenerateArgs(argv: string[]): GenerateArgs | null {
  const { rest, bridges } = takeBridge(argv);
  const raw = parseCliArgs(rest, OPTIONS, {
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
  const continuity = number('continuity-strength');
  if (continuity !== undefined && !(continuity > 0 && continuity <= 1)) throw usageError(`Option --continuity-strength must be above 0 and at most 1 (got ${continuity})`);
  const device = number('device', true);
  if (device !== undefined && device < 0) throw usageError(`Option --device must be a GPU id from 0 (got ${device})`);
  const provider = oneOf('provider', ['cpu', 'cuda'] as const) ?? 'cpu';
  const duration = number('duration');
  if (duration !== undefined && !(duration > 0)) throw usageError(`Option --duration must be more than 0 seconds (got ${duration})`);
  const direction = oneOf('direction', ['forward', 'backward'] as const);
  const image = text('image');
  const extend = text('extend');
  if (bridges.length > 1) throw usageError('Option --bridge is given more than once', 'bridge one pair of clips per run');
  const bridge = bridges[0];
  if (bridge && bridge.length !== 2) throw usageError('Option --bridge needs two clips, the one to leave and the one to arrive at', 'write --bridge FROM.mp4 TO.mp4');

  // Options that would be silently ignored are refused: the user expects them to do something.
  if (image !== undefined && extend !== undefined) throw usageError('Options --image and --extend cannot be combined', 'start from an image or continue a clip, not both');
  if (image !== undefined && bridge) throw usageError('Options --image and --bridge cannot be combined', 'start from an image or bridge two clips, not both');
  if (extend !== undefined && bridge) throw usageError('Options --extend and --bridge cannot be combined', 'extend one clip or bridge two, not both');
  if (text('frames') !== undefined && duration !== undefined) throw usageError('Options --frames and --duration cannot be combined', 'give the length once, in frames or in seconds');
  if (strength !== undefined && image === undefined) throw usageError('Option --strength only applies to --image', 'add --image FILE or drop --strength');
  if (direction !== undefined && extend === undefined) throw usageError('Option --direction only applies to --extend', 'add --extend CLIP or drop --direction');
  for (const [name, value] of [['overlap', overlap], ['continuity-strength', continuity]] as const) {
    if (value !== undefined && extend === undefined && !bridge && duration === undefined) {
      throw usageError(`Option --${name} only applies to renders that join windows (--extend, --bridge or --duration)`, `add one of them or drop --${name}`);
    }
  }
  if (device !== undefined && provider !== 'cuda') throw usageError('Option --device picks a GPU for --provider cuda', 'add --provider cuda or drop --device');

  const args: GenerateArgs = {
    prompt,
    strength: strength ?? 0.7,
    ...(continuity !== undefined && { continuityStrength: continuity }),
    provider,
    out: text('out') ?? 'out',
    json: raw.json === true,
  };
  const optional = {
    negative: text('negative'), seed: number('seed'), steps: number('steps'), guidance: number('guidance'), frames: number('frames'),
    variations: number('variations'), scheduler: oneOf('scheduler', SCHEDULER_NAMES), image, extend, overlap,
    duration, direction, bridge: bridge as [string, string] | undefined, model: text('model'), device,
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
  const [{ builtinModelDir, loadModel }, { renderChain }, { decodeClip, decodeImage, encodeTake, resizeClip }] = await Promise.all([
    import('../models/engine/load-model.ts'),
    import('../models/engine/chain.ts'),
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

    // 2. Read inputs, at the model's size: an image to animate, the clips the new frames follow
    //    or lead into. The clips' frames are taken as they are, so a clip made at another frame
    //    rate plays at the model's.
    const { width, height, outputSize } = m.defaults;
    const chain = args.extend !== undefined || args.bridge !== undefined || args.duration !== undefined ? chainShape(args, m.defaults) : undefined;
    const readClip = async (file: string) => resizeClip(await decodeClip(file, { signal }), width, height, { signal });
    const context: ChainContext = {};
    if (args.extend) context[args.direction === 'backward' ? 'after' : 'before'] = await readClip(args.extend);
    if (args.bridge) {
      context.before = await readClip(args.bridge[0]);
      context.after = await readClip(args.bridge[1]);
    }
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

    // 3. Render every take in one batched run per model window.
    const rendering: Promise<GenerateResult> = chain
      ? renderChain(m, { ...request, frames: chain.frames }, context, { overlap: chain.overlap, window: chain.window, ...(args.continuityStrength !== undefined && { strength: args.continuityStrength }), signal })
      : m.generate(request, { signal });
    const result = await rendering.catch((e: unknown) => {
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
          // The whole video: what the new frames follow, the new frames, what they lead into.
          const full = { ...clip, frames: [...(context.before?.frames ?? []), ...clip.frames, ...(context.after?.frames ?? [])] };
          const { video, preview } = await encodeTake(full, {
            video: { path: join(dir, `${name}-${seed}.mp4`), size: outputSize },
            preview: { path: join(dir, `${name}-${seed}.preview`), size: outputSize },
            signal: encodeSignal,
          });
          return { seed, video, preview };
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
  variations: '--variations', scheduler: '--scheduler', image: '--image', 'image.strength': '--strength',
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

/**
 * New frames and join overlap of a render that may take more than one model window (--duration,
 * --extend, --bridge), checked against the model's window so a mistake costs no render.
 */
function chainShape(args: GenerateArgs, model: VideoModel['defaults']): { frames: number; overlap: number; window: number } {
  const window = model.frames;
  const ends = args.bridge ? 2 : args.extend ? 1 : 0;
  // Known frames at both ends of a bridge's window must leave at least one new frame between them.
  const most = ends === 2 ? Math.floor((window - 1) / 2) : window - 1;
  const overlap = args.overlap ?? Math.max(1, Math.min(DEFAULT_OVERLAP, most));
  if (overlap > most) {
    const what = ends === 2 ? `leaves no new frame between the known ends of the model's ${window}-frame window` : `leaves no new frame in the model's ${window}-frame window`;
    throw usageError(`Option --overlap ${overlap} ${what}`, `use at most ${most}`);
  }
  let frames = args.frames ?? Math.max(1, window - ends * overlap);
  if (args.duration !== undefined) {
    frames = Math.round(args.duration * model.fps);
    if (frames < 1) throw usageError(`Option --duration ${args.duration} is less than one frame at ${model.fps} fps`, `ask for at least ${1 / model.fps} seconds`);
  }
  if (!Number.isInteger(frames) || frames < 1) throw usageError(`Option --frames must be a whole number of new frames, at least 1 (got ${frames})`);
  return { frames, overlap, window };
}
