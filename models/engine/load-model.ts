import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DailiesError } from '../../src/errors.ts';
import { diffusersManifest, readDiffusersFolder } from './diffusers-layout.ts';
import type { ModelManifest } from './manifest.ts';
import { detectModelFormat, openModelPackage, readModelJson } from './package.ts';
import { OnnxSession, type ExpectedTensor, type SessionConfig } from './ort.ts';
import { DiffusionPipeline, type SchedulerFactory } from './pipeline.ts';
import { Tokenizer } from './tokenizer.ts';
import type { VideoModel } from '../../src/core/ports/video-model.ts';

export interface LoadOptions extends SessionConfig {
  /** Replaces the engine's schedulers (tests). */
  createScheduler?: SchedulerFactory;
}

/**
 * The built-in model package shipped in the repository: models/shapes-v2, which reads at least
 * as well as shapes-v1 on every axis `npm run eval` measures (its model card has both).
 */
export function builtinModelDir(): string {
  return fileURLToPath(new URL('../shapes-v2', import.meta.url));
}

/**
 * The name a model folder's model goes by, read without opening a graph: a worker serves the
 * queue named for it (src/queue/model-queue-name.ts), and `dailies start` makes it the default.
 * Errors are the ones loading would give (no model there, a bad model.json).
 */
export async function readModelName(dir: string): Promise<string> {
  const abs = resolve(dir);
  if ((await detectModelFormat(abs)) === 'model.json') return (await readModelJson(abs)).name;
  return (await readDiffusersFolder(abs)).overrides.name ?? basename(abs);
}

/**
 * Opens a model folder: a package with model.json (files verified against their sha256), or a
 * diffusers/optimum ONNX export as it is. Every declared tensor is checked against its graph here,
 * so a mismatched manifest fails at load, not during a job.
 */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<VideoModel> {
  const abs = resolve(dir);
  const format = await detectModelFormat(abs);
  const opened: OnnxSession[] = [];
  const open = async (file: string, label: string): Promise<OnnxSession> => {
    const session = await OnnxSession.open(join(abs, file), label, opts, abs);
    opened.push(session);
    return session;
  };
  try {
    let manifest: ModelManifest;
    let sessions: { textEncoder: OnnxSession; denoiser: OnnxSession; vaeDecoder?: OnnxSession; vaeEncoder?: OnnxSession };
    let fixWhere: string;
    if (format === 'model.json') {
      manifest = await openModelPackage(abs);
      const c = manifest.components;
      sessions = {
        textEncoder: await open(c.textEncoder.file, 'text encoder'),
        denoiser: await open(c.denoiser.file, 'denoiser'),
        ...(c.vaeDecoder ? { vaeDecoder: await open(c.vaeDecoder.file, 'VAE decoder') } : {}),
        ...(c.vaeEncoder ? { vaeEncoder: await open(c.vaeEncoder.file, 'VAE encoder') } : {}),
      };
      fixWhere = 'model.json';
    } else {
      const folder = await readDiffusersFolder(abs);
      const f = folder.files;
      sessions = {
        textEncoder: await open(f.textEncoder, 'text encoder'),
        denoiser: await open(f.denoiser, 'denoiser'),
        ...(f.vaeDecoder ? { vaeDecoder: await open(f.vaeDecoder, 'VAE decoder') } : {}),
        ...(f.vaeEncoder ? { vaeEncoder: await open(f.vaeEncoder, 'VAE encoder') } : {}),
      };
      manifest = diffusersManifest(folder, sessions);
      fixWhere = 'dailies.json';
    }
    checkGraphs(manifest, sessions, fixWhere);
    checkSizes(manifest, sessions, fixWhere);
    const ids = manifest.components.textEncoder.inputs.inputIds;
    if (ids.dtype !== 'int64' && ids.dtype !== 'int32') {
      throw new DailiesError('model_invalid', `The text encoder input "${ids.name}" is ${ids.dtype}; token ids must be int64 or int32, so re-export the text encoder.`);
    }
    const tokenizer = await Tokenizer.load(abs, manifest.tokenizer, ids.dtype);
    return new DiffusionPipeline({ manifest, tokenizer, ...sessions, ...(opts.createScheduler ? { createScheduler: opts.createScheduler } : {}) });
  } catch (e) {
    await Promise.allSettled(opened.map((s) => s.dispose()));
    throw e;
  }
}

function checkGraphs(m: ModelManifest, s: { textEncoder: OnnxSession; denoiser: OnnxSession; vaeDecoder?: OnnxSession; vaeEncoder?: OnnxSession }, fixWhere: string): void {
  const list = (prefix: string, tensors: Record<string, { name: string; dtype: ExpectedTensor['dtype'] } | undefined>): ExpectedTensor[] =>
    Object.entries(tensors).flatMap(([key, t]) => (t ? [{ role: `${prefix}.${key}`, name: t.name, dtype: t.dtype }] : []));
  const c = m.components;
  s.textEncoder.expect(list('components.textEncoder.inputs', c.textEncoder.inputs), list('components.textEncoder.outputs', c.textEncoder.outputs), fixWhere);
  s.denoiser.expect(list('components.denoiser.inputs', c.denoiser.inputs), list('components.denoiser.outputs', c.denoiser.outputs), fixWhere);
  if (c.vaeDecoder && s.vaeDecoder) s.vaeDecoder.expect(list('components.vaeDecoder.inputs', c.vaeDecoder.inputs), list('components.vaeDecoder.outputs', c.vaeDecoder.outputs), fixWhere);
  if (c.vaeEncoder && s.vaeEncoder) s.vaeEncoder.expect(list('components.vaeEncoder.inputs', c.vaeEncoder.inputs), list('components.vaeEncoder.outputs', c.vaeEncoder.outputs), fixWhere);
}

/** Fixed graph dims that contradict the manifest would only fail mid-job; say so at load. */
function checkSizes(m: ModelManifest, s: { textEncoder: OnnxSession; denoiser: OnnxSession }, fixWhere: string): void {
  const fail = (text: string): never => {
    throw new DailiesError('model_invalid', text);
  };
  const ids = m.components.textEncoder.inputs.inputIds;
  const length = s.textEncoder.input(ids.name)?.shape[1];
  if (typeof length === 'number' && length > 0 && length !== m.tokenizer.maxLength) {
    fail(`The text encoder input "${ids.name}" takes ${length} tokens but tokenizer.maxLength is ${m.tokenizer.maxLength}; set tokenizer.maxLength to ${length} in ${fixWhere}.`);
  }
  const den = m.components.denoiser;
  const shape = s.denoiser.input(den.inputs.sample.name)?.shape ?? [];
  const channelAxis = den.layout === 'BCFHW' ? 1 : 2;
  const channels = shape[channelAxis];
  if (typeof channels === 'number' && channels > 0 && channels !== m.space.channels) {
    fail(`The denoiser input "${den.inputs.sample.name}" has ${channels} channels on axis ${channelAxis} of its ${den.layout} layout but space.channels is ${m.space.channels}; fix space.channels or the layout in ${fixWhere}.`);
  }
  const down = m.space.kind === 'latent' ? m.space.downsample : 1;
  const [h, w] = [shape[3], shape[4]];
  const want = [m.defaults.height / down, m.defaults.width / down];
  if ((typeof h === 'number' && h > 0 && h !== want[0]) || (typeof w === 'number' && w > 0 && w !== want[1])) {
    fail(`The denoiser input "${den.inputs.sample.name}" is fixed at ${h}x${w} but defaults.height x defaults.width gives ${want[0]}x${want[1]}; fix the defaults in ${fixWhere}.`);
  }
}
