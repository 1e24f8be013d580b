import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import type { Clip, GenerateRequest } from '../../models/engine/types.ts';
import { DailiesError, describeZodIssues } from '../errors.ts';
import { decodeClip, decodeImage, encodePreview, encodeVideo, resizeClip } from '../media/index.ts';

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
  --strength X         how far --image may change, 0-1 (default 0.7)
  --extend CLIP        continue this video from its last frames
  --overlap N          frames of --extend kept as known frames (default 4)
  --model DIR          model folder: model.json package or diffusers ONNX export (default: built-in)
  --provider NAME      cpu | cuda (default cpu);  --device N  GPU id for cuda
  --out DIR            where to write files (default ./out)
  --json               print one JSON object as the last line of stdout`;

const Args = z.object({
  prompt: z.string({ error: 'is required (--prompt "a red circle moving left")' }),
  negative: z.string().optional(),
  seed: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
  steps: z.coerce.number().optional(),
  guidance: z.coerce.number().optional(),
  frames: z.coerce.number().optional(),
  variations: z.coerce.number().default(1),
  scheduler: z.enum(['ddim', 'dpmpp-2m']).optional(),
  image: z.string().optional(),
  strength: z.coerce.number().min(0.01).max(1).default(0.7),
  extend: z.string().optional(),
  overlap: z.coerce.number().int().min(1).max(64).default(4),
  model: z.string().optional(),
  provider: z.enum(['cpu', 'cuda']).default('cpu'),
  device: z.coerce.number().int().min(0).default(0),
  out: z.string().default('out'),
  json: z.boolean().default(false),
});

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      prompt: { type: 'string' }, negative: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' },
      guidance: { type: 'string' }, frames: { type: 'string' }, variations: { type: 'string' }, scheduler: { type: 'string' },
      image: { type: 'string' }, strength: { type: 'string' }, extend: { type: 'string' }, overlap: { type: 'string' },
      model: { type: 'string' }, provider: { type: 'string' }, device: { type: 'string' }, out: { type: 'string' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const parsed = Args.safeParse(values);
  if (!parsed.success) throw new DailiesError('bad_input', `${describeZodIssues('Option', parsed.error.issues).replace(/^Option: (\w)/, 'Option --$1')} Run \`dailies generate --help\` for the options.`);
  return parsed.data;
}

function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'clip';
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (e instanceof TypeError) throw new DailiesError('bad_input', `${e.message.split('\n')[0]}; run \`dailies generate --help\` for the options.`);
    throw e;
  }
  if (!args) {
    console.log(HELP);
    return 0;
  }
  const started = performance.now();
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DailiesError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // 1. Load the model (verifies files and tensor names before anything is rendered).
  const model = await loadModel(args.model ?? builtinModelDir(), { provider: args.provider, deviceId: args.device });
  const outDir = resolve(args.out);
  let staging: string | undefined;
  try {
    // 2. Read inputs: an image to animate or a clip to extend, at the model's size.
    const { width, height } = model.defaults;
    let extendClip: Clip | undefined;
    const request: GenerateRequest = {
      prompt: args.prompt,
      seed: args.seed ?? Math.floor(Math.random() * 2 ** 31),
      variations: args.variations,
      ...(args.negative !== undefined && { negativePrompt: args.negative }),
      ...(args.steps !== undefined && { steps: args.steps }),
      ...(args.guidance !== undefined && { guidance: args.guidance }),
      ...(args.frames !== undefined && { frames: args.frames }),
      ...(args.scheduler && { scheduler: args.scheduler }),
    };
    if (args.image) {
      const still = await resizeClip(await decodeImage(args.image), width, height);
      request.image = { frame: still, strength: args.strength };
    }
    if (args.extend) {
      extendClip = await resizeClip(await decodeClip(args.extend), width, height);
      request.extend = { clip: extendClip, overlap: Math.min(args.overlap, extendClip.frames.length) };
    }

    // 3. Render every take in one batched run.
    const result = await model.generate(request, { signal: controller.signal });

    // 4. Encode into a staging folder inside --out, so a rename publishes finished files only.
    await mkdir(outDir, { recursive: true });
    staging = await mkdtemp(join(outDir, '.dailies-'));
    const encodeStarted = performance.now();
    const name = slug(args.prompt);
    const encoded = await Promise.all(
      result.takes.map(async ({ seed, clip }) => {
        const full = extendClip ? appendExtension(extendClip, clip, request.extend!.overlap) : clip;
        const [video, preview] = await Promise.all([
          encodeVideo(full, { path: join(staging!, `${name}-${seed}.mp4`), size: model.defaults.outputSize, signal: controller.signal }),
          encodePreview(full, { path: join(staging!, `${name}-${seed}.preview`), size: model.defaults.outputSize, signal: controller.signal }),
        ]);
        return { seed, video, preview };
      }),
    );
    const encodeMs = performance.now() - encodeStarted;

    // 5. Publish: move the finished files into --out.
    const outputs = [];
    for (const { seed, video, preview } of encoded) {
      const ext = preview.contentType === 'image/gif' ? 'gif' : 'webp';
      const videoPath = join(outDir, basename(video.path));
      const previewPath = join(outDir, `${name}-${seed}.${ext}`);
      await rename(video.path, videoPath);
      await rename(preview.path, previewPath);
      outputs.push({ video: videoPath, preview: previewPath, seed });
    }
    const summary = {
      model: model.name,
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
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (staging) await rm(staging, { recursive: true, force: true });
    await model.dispose();
  }
}

/** The extended video: the given clip, then the new frames after the ones it shares with it. */
function appendExtension(original: Clip, continuation: Clip, overlap: number): Clip {
  return { ...continuation, frames: [...original.frames, ...continuation.frames.slice(overlap)] };
}
