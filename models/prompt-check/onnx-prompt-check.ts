import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { DailiesError } from '../../src/errors.ts';
import { classifierRefusal, type CheckedPrompt, type PromptCheck, type PromptRefusal } from '../../src/core/ports/prompt-check.ts';
import { OnnxSession, type GraphValue, type SessionConfig } from '../engine/ort.ts';
import { Tokenizer } from '../engine/tokenizer.ts';
import { worstFinding } from '../frame-check/onnx-frame-check.ts';
import { readJsonFile, readPromptClassifierConfig, type PromptClassifierConfig } from './classifier-config.ts';

/**
 * A prompt check from a text classifier folder (DAILIES_PROMPT_CHECK=DIR): DIR/tokenizer.json
 * (Hugging Face tokenizers format) turns a prompt into token ids, DIR/model.onnx takes int64 ids
 * [N, L] (and, when it declares one, an int64 attention_mask [N, L]) and returns float32
 * probabilities [N, labels], and DIR/classifier.json names the labels, L and which labels refuse
 * a prompt at which score. It runs in the bot, before a prompt is stored, through the engine's
 * onnxruntime module; every prompt of an event and its negative prompt go in one batch.
 */

export interface LoadedPromptCheck extends PromptCheck {
  close(): Promise<void>;
}

export async function loadPromptCheck(dir: string, session: SessionConfig = {}): Promise<LoadedPromptCheck> {
  const found = await stat(dir).catch(() => null);
  if (!found?.isDirectory()) throw new DailiesError('model_invalid', `The prompt check folder ${dir} does not exist; point DAILIES_PROMPT_CHECK at a folder with model.onnx, tokenizer.json and classifier.json, or set it to off.`);
  const config = await readPromptClassifierConfig(dir);
  const tokenizer = await readTokenizer(dir, config);
  const modelFile = path.join(dir, 'model.onnx');
  await access(modelFile).catch(() => {
    throw new DailiesError('model_invalid', `The prompt check folder ${dir} has no model.onnx; add the exported classifier or set DAILIES_PROMPT_CHECK=off.`);
  });
  const graph = await OnnxSession.open(modelFile, 'prompt check', session, dir);
  const io = checkGraph(graph, config, dir);
  const name = path.basename(path.resolve(dir));

  /** One probability row per text. */
  async function classify(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    const encoded = texts.map((t) => tokenizer.encode(t));
    // A graph with a free sequence axis reads only as many columns as the longest prompt needs.
    // (The mask is ones, then the padding's zeros.)
    const used = (mask: BigInt64Array) => (mask.indexOf(0n) < 0 ? mask.length : mask.indexOf(0n));
    const width = io.fixedLength ? config.maxLength : Math.max(1, ...encoded.map((e) => used(e.attentionMask as BigInt64Array)));
    const ids = new BigInt64Array(texts.length * width);
    const mask = new BigInt64Array(texts.length * width);
    encoded.forEach((e, row) => {
      ids.set((e.ids as BigInt64Array).subarray(0, width), row * width);
      mask.set((e.attentionMask as BigInt64Array).subarray(0, width), row * width);
    });
    const dims = [texts.length, width];
    const feeds = { [io.ids]: { type: 'int64' as const, data: ids, dims }, ...(io.mask ? { [io.mask]: { type: 'int64' as const, data: mask, dims } } : {}) };
    const out = (await untilAborted(graph.run(feeds, [io.output]), signal))[io.output]!;
    const labels = config.labels.length;
    if (out.dims.length !== 2 || out.dims[0] !== texts.length || out.dims[1] !== labels) {
      throw new DailiesError('model_invalid', `The prompt check model in ${dir} returned shape [${out.dims.join(',')}] for ${texts.length} prompts, not [${texts.length},${labels}]; make classifier.json's labels match the model's output.`);
    }
    const probs = out.data as Float32Array;
    return texts.map((_, row) => probs.subarray(row * labels, (row + 1) * labels));
  }

  // Checked once at load, so a folder whose labels do not match its model's output never starts.
  await classify(['a red ball']);

  return {
    name,
    async review(prompts: readonly CheckedPrompt[], signal?: AbortSignal): Promise<PromptRefusal | null> {
      const texts = prompts.flatMap((p) => [{ text: p.prompt, negative: false }, ...(p.negativePrompt ? [{ text: p.negativePrompt, negative: true }] : [])]);
      if (texts.length === 0) return null;
      const rows = await classify(texts.map((t) => t.text), signal);
      for (let i = 0; i < texts.length; i++) {
        const scores = Object.fromEntries(config.labels.map((label, j) => [label, rows[i]![j]!]));
        const finding = worstFinding(scores, config.block);
        if (finding) return classifierRefusal(finding, texts[i]!.negative);
      }
      return null;
    },
    close: () => graph.dispose(),
  };
}

/** The run's result, or the signal's reason as soon as it aborts (onnxruntime cannot stop a run; its result is then dropped). */
function untilAborted<T>(run: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return run;
  run.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function readTokenizer(dir: string, config: PromptClassifierConfig): Promise<Tokenizer> {
  const json = (await readJsonFile(dir, 'tokenizer.json')) as Record<string, unknown>;
  try {
    return Tokenizer.fromJson(json, {}, { maxLength: config.maxLength, padId: padIdOf(json), idType: 'int64' });
  } catch (cause) {
    if (cause instanceof DailiesError) throw new DailiesError('model_invalid', `${path.join(dir, 'tokenizer.json')}: ${cause.message}`, { cause });
    throw new DailiesError('model_invalid', `${path.join(dir, 'tokenizer.json')} is not a tokenizer the Hugging Face tokenizers library reads (${(cause as Error).message}); save it with the classifier's tokenizer.save_pretrained().`, { cause });
  }
}

/** The padding id the tokenizer declares, else its pad token's, else 0 (what padding then never reaches: the mask hides it). */
function padIdOf(json: Record<string, unknown>): number {
  const padding = json['padding'] as { pad_id?: unknown } | null | undefined;
  if (typeof padding?.pad_id === 'number') return padding.pad_id;
  const added = Array.isArray(json['added_tokens']) ? (json['added_tokens'] as { id?: unknown; content?: unknown }[]) : [];
  const pad = added.find((t) => typeof t.content === 'string' && /^(\[PAD\]|<pad>|<\|pad\|>)$/i.test(t.content));
  return typeof pad?.id === 'number' ? pad.id : 0;
}

interface GraphIo {
  ids: string;
  mask: string | null;
  output: string;
  /** The graph declares a fixed sequence length (it must be classifier.json's maxLength). */
  fixedLength: boolean;
}

/** Token ids in, and an attention mask when the graph declares one; checked at load so a mismatched folder fails before any prompt. */
function checkGraph(graph: OnnxSession, config: PromptClassifierConfig, dir: string): GraphIo {
  const fix = `fix classifier.json in ${dir} or re-export the model`;
  const listed = graph.inputs.map((v) => v.name).join(', ');
  const mask = graph.inputs.find((v) => /mask/i.test(v.name));
  const ids = graph.inputs.filter((v) => v !== mask);
  if (ids.length !== 1 || graph.outputs.length < 1) {
    throw new DailiesError('model_invalid', `The prompt check model in ${dir} takes ${graph.inputs.length} inputs (${listed}) and returns ${graph.outputs.length} outputs; it must take token ids [N, L] (and optionally attention_mask) and return one [N, labels] tensor.`);
  }
  const idsInput = ids[0]!;
  for (const input of [idsInput, mask].filter((v): v is GraphValue => v !== undefined)) {
    if (input.dtype !== 'int64') throw new DailiesError('model_invalid', `The prompt check model in ${dir} takes ${input.dtype} "${input.name}"; token ids and the attention mask must be int64 (re-export the model).`);
    if (input.shape.length !== 0 && input.shape.length !== 2) throw new DailiesError('model_invalid', `The prompt check model in ${dir} takes "${input.name}" as [${input.shape.join(',')}]; it must be [N, L] (re-export the model).`);
    const length = input.shape[1];
    if (typeof length === 'number' && length > 0 && length !== config.maxLength) {
      throw new DailiesError('model_invalid', `The prompt check model in ${dir} reads ${length} tokens but classifier.json's maxLength is ${config.maxLength}; ${fix}.`);
    }
  }
  const output = graph.outputs[0]!;
  if (output.dtype !== 'float32') throw new DailiesError('model_invalid', `The prompt check model in ${dir} returns ${output.dtype}; it must return float32 probabilities (${fix}).`);
  const last = output.shape.at(-1);
  if (typeof last === 'number' && last > 0 && last !== config.labels.length) {
    throw new DailiesError('model_invalid', `The prompt check model in ${dir} returns ${last} scores per prompt but classifier.json lists ${config.labels.length} labels; ${fix}.`);
  }
  return { ids: idsInput.name, mask: mask?.name ?? null, output: output.name, fixedLength: typeof idsInput.shape[1] === 'number' && idsInput.shape[1] > 0 };
}
