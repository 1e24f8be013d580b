import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { DailiesError } from '../../src/errors.ts';
import { PromptVocabulary } from '../../src/core/prompt-vocabulary.ts';
import { ModelDefaults, SchedulerConfig, TensorDtype, type ModelManifest, type ModelManifestInput, type TokenizerSpec } from './manifest.ts';
import { describeIssues, parseManifest } from './manifest-checks.ts';
import type { GraphInfo, GraphValue } from './ort.ts';

/*
 * Opens a diffusers/optimum ONNX export folder as it is (no conversion step) and describes it with
 * the same ModelManifest a model.json package has. Tensor dtypes and fixed sizes come from the
 * graphs' own metadata, because exports disagree (timestep int64 vs float32, [1] vs [B], fp16).
 * Defaults are ModelScope text-to-video's; an optional `dailies.json` in the folder overrides them
 * and maps tensor names for exports that use other ones (e.g. Wan: latent_input -> noise_prediction),
 * and may declare the model's prompt words for the reply grammar (`promptVocabulary`, as in model.json).
 */

const Range = z.object({ min: z.number(), max: z.number() });
const names = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.string().min(1).optional()])) as Record<K, z.ZodOptional<z.ZodString>>).strict();

/** `dailies.json`: everything optional; unknown keys are rejected so typos do not pass silently. */
export const DailiesOverrides = z
  .object({
    name: z.string().min(1).max(100).optional(),
    description: z.string().optional(),
    names: z
      .object({
        textEncoder: names(['inputIds', 'attentionMask', 'hiddenStates'] as const).optional(),
        denoiser: names(['sample', 'timestep', 'encoderHiddenStates', 'prediction'] as const).optional(),
        vaeDecoder: names(['latent', 'sample'] as const).optional(),
        vaeEncoder: names(['image', 'latent'] as const).optional(),
      })
      .strict()
      .optional(),
    layout: z.enum(['BCFHW', 'BFCHW']).optional(),
    scalingFactor: z.number().positive().optional(),
    downsample: z.number().int().positive().optional(),
    previewRgbFactors: z.array(z.array(z.number()).length(3)).optional(),
    vaeDecoder: z.object({ mode: z.enum(['per-frame', 'video']).optional(), frameBatch: z.number().int().positive().optional() }).strict().optional(),
    scheduler: SchedulerConfig.partial().optional(),
    defaults: ModelDefaults.partial().strict().optional(),
    limits: z.object({ frames: Range, steps: Range, guidance: Range, variations: Range }).partial().strict().optional(),
    /** As in model.json (manifest.ts): the model's words for the reply grammar's clause classes. */
    promptVocabulary: PromptVocabulary.optional(),
  })
  .strict();
export type DailiesOverrides = z.infer<typeof DailiesOverrides>;

/** ModelScope text-to-video-ms-1.7b's usual settings (diffusers' TextToVideoSDPipeline defaults). */
export const MODELSCOPE_DEFAULTS = { frames: 16, size: 256, steps: 25, guidance: 9, fps: 8, scalingFactor: 0.18215, downsample: 8, channels: 4 } as const;
const DEFAULT_LIMITS = { frames: { min: 1, max: 64 }, steps: { min: 1, max: 100 }, guidance: { min: 0, max: 30 }, variations: { min: 1, max: 4 } };

type Tok =
  | { kind: 'tokenizer-json'; file: string; config?: string; padId: number }
  | { kind: 'clip-bpe'; vocab: string; merges: string; padToken: string };

/** What the folder says about itself before any graph is opened. */
export interface DiffusersFolder {
  dir: string;
  overrides: DailiesOverrides;
  /** Graph files relative to `dir`; load these with OnnxSession.open to get their GraphInfo. */
  files: { textEncoder: string; denoiser: string; vaeDecoder?: string; vaeEncoder?: string };
  externalData: Partial<Record<'textEncoder' | 'denoiser' | 'vaeDecoder' | 'vaeEncoder', string[]>>;
  scheduler: SchedulerConfig;
  tokenizer: Tok;
  modelMaxLength?: number;
  vae: { latentChannels?: number; downsample?: number; scalingFactor?: number };
  unetSampleSize?: number;
}

export async function readDiffusersFolder(dir: string): Promise<DiffusersFolder> {
  const abs = resolve(dir);
  const where = (file: string) => `${file} in ${abs}`;
  await readJson(abs, 'model_index.json', true);
  const overrides = await readOverrides(abs);

  const graph = async (folders: string[], required: boolean, role: string): Promise<string | undefined> => {
    for (const folder of folders) {
      if (await exists(join(abs, folder, 'model.onnx'))) return `${folder}/model.onnx`;
    }
    if (required) {
      throw new DailiesError('model_invalid', `The ${role} graph ${folders[0]}/model.onnx is missing from ${abs}; export the ${role} to ONNX or re-download the model.`);
    }
    return undefined;
  };
  const textEncoder = (await graph(['text_encoder'], true, 'text encoder'))!;
  const denoiser = (await graph(['unet', 'transformer'], true, 'denoiser'))!;
  const vaeDecoder = await graph(['vae_decoder'], false, 'VAE decoder');
  const vaeEncoder = await graph(['vae_encoder'], false, 'VAE encoder');
  const files = { textEncoder, denoiser, ...(vaeDecoder ? { vaeDecoder } : {}), ...(vaeEncoder ? { vaeEncoder } : {}) };
  const externalData: DiffusersFolder['externalData'] = {};
  for (const [role, file] of Object.entries(files) as [keyof typeof files, string][]) {
    externalData[role] = await externalDataFiles(abs, file);
  }

  const sched = (await readJson(abs, 'scheduler/scheduler_config.json', false)) ?? {};
  const scheduler = mapScheduler(sched, overrides.scheduler ?? {}, where('scheduler/scheduler_config.json'));

  const vaeCfg = (await readJson(abs, 'vae_decoder/config.json', false)) ?? (await readJson(abs, 'vae/config.json', false)) ?? {};
  const blocks = Array.isArray(vaeCfg['block_out_channels']) ? vaeCfg['block_out_channels'].length : undefined;
  const unetCfg = (await readJson(abs, denoiser.replace(/model\.onnx$/, 'config.json'), false)) ?? {};

  const { tokenizer, modelMaxLength } = await readTokenizer(abs);
  return {
    dir: abs,
    overrides,
    files,
    externalData,
    scheduler,
    tokenizer,
    ...(modelMaxLength !== undefined ? { modelMaxLength } : {}),
    vae: {
      ...(typeof vaeCfg['latent_channels'] === 'number' ? { latentChannels: vaeCfg['latent_channels'] } : {}),
      ...(blocks ? { downsample: 2 ** (blocks - 1) } : {}),
      ...(typeof vaeCfg['scaling_factor'] === 'number' ? { scalingFactor: vaeCfg['scaling_factor'] } : {}),
    },
    ...(typeof unetCfg['sample_size'] === 'number' ? { unetSampleSize: unetCfg['sample_size'] } : {}),
  };
}

/** The manifest for a diffusers folder, given the metadata of its opened graphs. */
export function diffusersManifest(
  folder: DiffusersFolder,
  graphs: { textEncoder: GraphInfo; denoiser: GraphInfo; vaeDecoder?: GraphInfo; vaeEncoder?: GraphInfo },
): ModelManifest {
  const o = folder.overrides;
  const n = o.names ?? {};

  const te = graphs.textEncoder;
  const teFile = folder.files.textEncoder;
  const inputIds = pick(te, 'input', 'text encoder', teFile, 'names.textEncoder.inputIds', n.textEncoder?.inputIds, ['input_ids']);
  const mask = n.textEncoder?.attentionMask ?? (te.inputs.some((v) => v.name === 'attention_mask') ? 'attention_mask' : undefined);
  const attentionMask = mask ? pick(te, 'input', 'text encoder', teFile, 'names.textEncoder.attentionMask', mask, []) : undefined;
  const hidden = pick(te, 'output', 'text encoder', teFile, 'names.textEncoder.hiddenStates', n.textEncoder?.hiddenStates, ['last_hidden_state']);

  const un = graphs.denoiser;
  const unFile = folder.files.denoiser;
  const sample = pick(un, 'input', 'denoiser', unFile, 'names.denoiser.sample', n.denoiser?.sample, ['sample']);
  const timestep = pick(un, 'input', 'denoiser', unFile, 'names.denoiser.timestep', n.denoiser?.timestep, ['timestep', 'timesteps', 't']);
  const context = pick(un, 'input', 'denoiser', unFile, 'names.denoiser.encoderHiddenStates', n.denoiser?.encoderHiddenStates, ['encoder_hidden_states']);
  const prediction = pick(un, 'output', 'denoiser', unFile, 'names.denoiser.prediction', n.denoiser?.prediction, ['out_sample', 'noise_pred', 'sample']);

  const channels = folder.vae.latentChannels ?? numeric(sample.shape[1]) ?? MODELSCOPE_DEFAULTS.channels;
  const layout = o.layout ?? (sample.shape[1] === channels || numeric(sample.shape[2]) !== channels ? 'BCFHW' : 'BFCHW');
  const frameAxis = layout === 'BCFHW' ? 2 : 1;
  const downsample = o.downsample ?? folder.vae.downsample ?? MODELSCOPE_DEFAULTS.downsample;
  const latentH = numeric(sample.shape[3]);
  const latentW = numeric(sample.shape[4]);
  const size = (latent: number | undefined) => (latent ? latent * downsample : folder.unetSampleSize ? folder.unetSampleSize * downsample : MODELSCOPE_DEFAULTS.size);
  const width = o.defaults?.width ?? size(latentW);
  const height = o.defaults?.height ?? size(latentH);
  const timestepShape = timestep.shape.length === 1 && timestep.shape[0] === 1 ? 'scalar' : timestep.shape.length === 0 ? 'scalar' : 'batch';

  const components: ModelManifestInput['components'] = {
    textEncoder: {
      file: teFile,
      externalData: refs(folder.externalData.textEncoder),
      inputs: { inputIds: spec(inputIds, 'text encoder'), ...(attentionMask ? { attentionMask: spec(attentionMask, 'text encoder') } : {}) },
      outputs: { hiddenStates: spec(hidden, 'text encoder') },
    },
    denoiser: {
      file: unFile,
      externalData: refs(folder.externalData.denoiser),
      inputs: {
        sample: spec(sample, 'denoiser'),
        timestep: { ...spec(timestep, 'denoiser'), shape: timestepShape },
        encoderHiddenStates: spec(context, 'denoiser'),
      },
      outputs: { prediction: spec(prediction, 'denoiser') },
      layout,
    },
  };
  if (graphs.vaeDecoder && folder.files.vaeDecoder) {
    const g = graphs.vaeDecoder;
    const f = folder.files.vaeDecoder;
    const latent = pick(g, 'input', 'VAE decoder', f, 'names.vaeDecoder.latent', n.vaeDecoder?.latent, ['latent_sample', 'latent']);
    components.vaeDecoder = {
      file: f,
      externalData: refs(folder.externalData.vaeDecoder),
      inputs: { latent: spec(latent, 'VAE decoder') },
      outputs: { sample: spec(pick(g, 'output', 'VAE decoder', f, 'names.vaeDecoder.sample', n.vaeDecoder?.sample, ['sample']), 'VAE decoder') },
      mode: o.vaeDecoder?.mode ?? (latent.shape.length === 5 ? 'video' : 'per-frame'),
      frameBatch: o.vaeDecoder?.frameBatch ?? 8,
    };
  }
  if (graphs.vaeEncoder && folder.files.vaeEncoder) {
    const g = graphs.vaeEncoder;
    const f = folder.files.vaeEncoder;
    components.vaeEncoder = {
      file: f,
      externalData: refs(folder.externalData.vaeEncoder),
      inputs: { image: spec(pick(g, 'input', 'VAE encoder', f, 'names.vaeEncoder.image', n.vaeEncoder?.image, ['sample']), 'VAE encoder') },
      outputs: { latent: spec(pick(g, 'output', 'VAE encoder', f, 'names.vaeEncoder.latent', n.vaeEncoder?.latent, ['latent_sample', 'latent_parameters']), 'VAE encoder') },
    };
  }

  // The encoder's fixed sequence length, when it has one, is the only length it accepts.
  const maxLength = numeric(inputIds.shape[1]) ?? folder.modelMaxLength ?? 77;
  const t = folder.tokenizer;
  const tokenizer: TokenizerSpec =
    t.kind === 'clip-bpe'
      ? { kind: 'clip-bpe', vocab: { file: t.vocab }, merges: { file: t.merges }, maxLength, padToken: t.padToken }
      : { kind: 'tokenizer-json', file: { file: t.file }, ...(t.config ? { config: { file: t.config } } : {}), maxLength, padId: t.padId };

  const frames = o.defaults?.frames ?? numeric(sample.shape[frameAxis]) ?? MODELSCOPE_DEFAULTS.frames;
  const raw: ModelManifestInput = {
    format: 'dailies-model/1',
    name: o.name ?? basename(folder.dir),
    description: o.description ?? '',
    space: {
      kind: 'latent',
      channels,
      scalingFactor: o.scalingFactor ?? folder.vae.scalingFactor ?? MODELSCOPE_DEFAULTS.scalingFactor,
      downsample,
      ...(o.previewRgbFactors ? { previewRgbFactors: o.previewRgbFactors } : {}),
    },
    components,
    tokenizer,
    scheduler: folder.scheduler,
    defaults: {
      frames,
      width,
      height,
      fps: o.defaults?.fps ?? MODELSCOPE_DEFAULTS.fps,
      steps: o.defaults?.steps ?? MODELSCOPE_DEFAULTS.steps,
      guidance: o.defaults?.guidance ?? MODELSCOPE_DEFAULTS.guidance,
      outputSize: o.defaults?.outputSize ?? Math.min(width, height),
      negativePrompt: o.defaults?.negativePrompt ?? '',
    },
    limits: { ...DEFAULT_LIMITS, ...(o.limits ?? {}) },
    ...(o.promptVocabulary ? { promptVocabulary: o.promptVocabulary } : {}),
  };
  return parseManifest(raw, `The diffusers folder ${folder.dir}`);
}

function pick(
  graph: GraphInfo,
  kind: 'input' | 'output',
  component: string,
  file: string,
  overrideKey: string,
  override: string | undefined,
  candidates: string[],
): GraphValue {
  const list = kind === 'input' ? graph.inputs : graph.outputs;
  const listed = list.map((v) => `"${v.name}"`).join(', ');
  if (override !== undefined) {
    const found = list.find((v) => v.name === override);
    if (found) return found;
    throw new DailiesError('model_invalid', `dailies.json maps ${overrideKey} to "${override}" but the ${component} graph ${file} has no such ${kind} (its ${kind}s are ${listed}); fix the name in dailies.json.`);
  }
  const found = list.find((v) => candidates.includes(v.name)) ?? (kind === 'output' && list.length === 1 ? list[0] : undefined);
  if (found) return found;
  throw new DailiesError(
    'model_invalid',
    `The ${component} graph ${file} has no ${kind} "${candidates[0]}" (its ${kind}s are ${listed}); map the right one as ${overrideKey} in dailies.json.`,
  );
}

function spec(v: GraphValue, component: string): { name: string; dtype: TensorDtype } {
  const dtype = TensorDtype.safeParse(v.dtype);
  if (!dtype.success) {
    throw new DailiesError('model_invalid', `The ${component} graph's tensor "${v.name}" is ${v.dtype}, which the engine does not feed; re-export it as float32, float16, int64 or int32.`);
  }
  return { name: v.name, dtype: dtype.data };
}

function numeric(d: number | string | undefined): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function refs(files: string[] | undefined): { file: string }[] {
  return (files ?? []).map((file) => ({ file }));
}

function mapScheduler(cfg: Record<string, unknown>, override: Partial<SchedulerConfig>, where: string): SchedulerConfig {
  const raw = {
    numTrainTimesteps: cfg['num_train_timesteps'] ?? 1000,
    betaSchedule: cfg['beta_schedule'] ?? 'linear',
    betaStart: cfg['beta_start'] ?? 0.0001,
    betaEnd: cfg['beta_end'] ?? 0.02,
    predictionType: cfg['prediction_type'] ?? 'epsilon',
    timestepSpacing: cfg['timestep_spacing'] ?? 'leading',
    stepsOffset: cfg['steps_offset'] ?? 0,
    setAlphaToOne: cfg['set_alpha_to_one'] ?? true,
    default: cfg['_class_name'] === 'DPMSolverMultistepScheduler' ? 'dpmpp-2m' : 'ddim',
    ...override,
  };
  const parsed = SchedulerConfig.safeParse(raw);
  if (!parsed.success) {
    throw new DailiesError('model_invalid', describeIssues(where, parsed.error.issues, 'the engine supports linear, scaled_linear and squaredcos_cap_v2 betas with epsilon or v_prediction'));
  }
  return parsed.data;
}

async function readTokenizer(dir: string): Promise<{ tokenizer: Tok; modelMaxLength?: number }> {
  const config = (await readJson(dir, 'tokenizer/tokenizer_config.json', false)) ?? {};
  const specials = (await readJson(dir, 'tokenizer/special_tokens_map.json', false)) ?? {};
  const tokenText = (v: unknown): string | undefined => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const padToken = tokenText(config['pad_token']) ?? tokenText(specials['pad_token']) ?? '<|endoftext|>';
  const maxLen = config['model_max_length'];
  // Configs without a limit store a huge sentinel (1e30); only real lengths are useful.
  const modelMaxLength = typeof maxLen === 'number' && Number.isInteger(maxLen) && maxLen <= 4096 ? maxLen : undefined;
  const extra = modelMaxLength !== undefined ? { modelMaxLength } : {};

  if (await exists(join(dir, 'tokenizer/tokenizer.json'))) {
    const json = (await readJson(dir, 'tokenizer/tokenizer.json', true))!;
    const added = (Array.isArray(json['added_tokens']) ? json['added_tokens'] : []) as { id: number; content: string }[];
    const vocab = ((json['model'] as Record<string, unknown> | undefined)?.['vocab'] ?? {}) as Record<string, number> | [string, number][];
    const fromVocab = Array.isArray(vocab) ? vocab.findIndex(([t]) => t === padToken) : vocab[padToken];
    const padId = added.find((t) => t.content === padToken)?.id ?? (typeof fromVocab === 'number' && fromVocab >= 0 ? fromVocab : undefined);
    if (padId === undefined) {
      throw new DailiesError('model_invalid', `The pad token "${padToken}" is not in tokenizer/tokenizer.json in ${dir}; fix pad_token in tokenizer/tokenizer_config.json.`);
    }
    const hasConfig = await exists(join(dir, 'tokenizer/tokenizer_config.json'));
    return { tokenizer: { kind: 'tokenizer-json', file: 'tokenizer/tokenizer.json', ...(hasConfig ? { config: 'tokenizer/tokenizer_config.json' } : {}), padId }, ...extra };
  }
  if ((await exists(join(dir, 'tokenizer/vocab.json'))) && (await exists(join(dir, 'tokenizer/merges.txt')))) {
    return { tokenizer: { kind: 'clip-bpe', vocab: 'tokenizer/vocab.json', merges: 'tokenizer/merges.txt', padToken }, ...extra };
  }
  throw new DailiesError('model_invalid', `No tokenizer in ${dir}/tokenizer: expected tokenizer.json, or CLIP's vocab.json and merges.txt; re-download the model's tokenizer folder.`);
}

async function readOverrides(dir: string): Promise<DailiesOverrides> {
  const raw = await readJson(dir, 'dailies.json', false);
  if (!raw) return {};
  const parsed = DailiesOverrides.safeParse(raw);
  if (!parsed.success) {
    throw new DailiesError('model_invalid', describeIssues(`dailies.json in ${dir}`, parsed.error.issues, 'fix dailies.json'));
  }
  return parsed.data;
}

async function externalDataFiles(dir: string, graphFile: string): Promise<string[]> {
  const folder = graphFile.slice(0, graphFile.lastIndexOf('/'));
  const entries = await readdir(join(dir, folder));
  return entries.filter((e) => /\.onnx[._]data$|^weights\.pb$/.test(e)).sort().map((e) => `${folder}/${e}`);
}

async function readJson(dir: string, file: string, required: true): Promise<Record<string, unknown>>;
async function readJson(dir: string, file: string, required: boolean): Promise<Record<string, unknown> | undefined>;
async function readJson(dir: string, file: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    if (!required) return undefined;
    throw new DailiesError('model_invalid', `${file} is missing from ${dir}; re-download the model.`, { cause });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new DailiesError('model_invalid', `${file} in ${dir} is not a valid JSON object; fix it or re-download the model.`, { cause });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
