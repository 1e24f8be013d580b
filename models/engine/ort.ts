import * as ort from 'onnxruntime-node';
import { relative } from 'node:path';
import { DailiesError } from '../../src/errors.ts';
import { logSettings, type LogLevel } from '../../src/config.ts';
import type { TensorDtype } from './manifest.ts';

/*
 * The only module that touches onnxruntime-node. Everything else sees `OnnxSession` and plain
 * typed-array tensors, so the runtime can be swapped or faked without touching the pipeline.
 */

/**
 * onnxruntime's own log for a LOG_LEVEL. It prints in colour on stderr, and every error it prints
 * (a missing CUDA library, a kernel failing on a broken graph) also comes back as the exception
 * that OnnxSession turns into one sentence; so it is silenced but for fatal lines, and shown at
 * debug (info and up) and trace (everything) to look inside onnxruntime.
 */
export function nativeLogLevel(level: LogLevel): { env: 'verbose' | 'info' | 'fatal'; severity: 0 | 1 | 4 } {
  if (level === 'trace') return { env: 'verbose', severity: 0 };
  if (level === 'debug') return { env: 'info', severity: 1 };
  return { env: 'fatal', severity: 4 };
}

const NATIVE_LOG = nativeLogLevel(logSettings().level);
// The process-wide logger (read once, at first use) covers what happens outside a session, such
// as loading an execution provider's library; each session's own level is set in its options.
ort.env.logLevel = NATIVE_LOG.env;

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array;

/** A tensor as the engine passes it around; float16 data travels as raw IEEE half bits. */
export interface EngineTensor {
  readonly type: TensorDtype;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

/** One graph input or output as the graph declares it; string dims are symbolic (dynamic). */
export interface GraphValue {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}

export interface GraphInfo {
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
}

export interface SessionConfig {
  /** 'cpu' (default) or 'cuda'; CUDA needs the GPU build of onnxruntime-node's native libraries. */
  provider?: 'cpu' | 'cuda';
  deviceId?: number;
  /** Intra-op threads on CPU; default: onnxruntime's choice (all cores). */
  threads?: number;
}

/** A declared tensor, for `expect`: `role` is the manifest key, used to say where to fix a name. */
export interface ExpectedTensor {
  role: string;
  name: string;
  dtype: TensorDtype;
}

export class OnnxSession implements GraphInfo {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Path shown in errors, relative to the model folder. */
    readonly file: string,
    /** Component name shown in errors, e.g. "denoiser". */
    readonly label: string,
    readonly inputs: readonly GraphValue[],
    readonly outputs: readonly GraphValue[],
  ) {}

  /**
   * Loads a graph from a file path (not a buffer), so onnxruntime resolves external weight files
   * (`model.onnx_data`) relative to the graph's own folder.
   */
  static async open(path: string, label: string, config: SessionConfig = {}, modelDir?: string): Promise<OnnxSession> {
    const shown = modelDir ? relative(modelDir, path) : path;
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: config.provider === 'cuda' ? [{ name: 'cuda', deviceId: config.deviceId ?? 0 }] : ['cpu'],
      graphOptimizationLevel: 'all',
      // Covers the session's runs too: a kernel's failure would otherwise print before it is thrown.
      logSeverityLevel: NATIVE_LOG.severity,
      ...(config.threads ? { intraOpNumThreads: config.threads, interOpNumThreads: 1 } : {}),
    };
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, options);
    } catch (cause) {
      const text = errorText(cause);
      if (config.provider === 'cuda' && /cuda|provider|libcu/i.test(text)) {
        throw new DailiesError(
          'missing_dependency',
          `The CUDA execution provider could not start for the ${label} graph (${text}); install onnxruntime-node's CUDA libraries with a matching CUDA/cuDNN, or run with --provider cpu.`,
          { cause },
        );
      }
      throw new DailiesError('model_invalid', `Could not load the ${label} graph ${shown} (${text}); re-download or re-export the model.`, { cause });
    }
    const describe = (list: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] =>
      list.map((m) => (m.isTensor ? { name: m.name, dtype: m.type, shape: [...m.shape] } : { name: m.name, dtype: 'non-tensor', shape: [] }));
    return new OnnxSession(session, shown, label, describe(session.inputMetadata), describe(session.outputMetadata));
  }

  input(name: string): GraphValue | undefined {
    return this.inputs.find((v) => v.name === name);
  }

  output(name: string): GraphValue | undefined {
    return this.outputs.find((v) => v.name === name);
  }

  /**
   * Checks declared tensors against the graph before anything runs, so a wrong manifest fails at
   * load with the tensor named, not with an opaque runtime error halfway through a job.
   * `fixWhere` completes the sentence "fix ... in <fixWhere>", e.g. "model.json".
   */
  expect(inputs: readonly ExpectedTensor[], outputs: readonly ExpectedTensor[], fixWhere: string): void {
    const check = (kind: 'input' | 'output', want: ExpectedTensor, have: readonly GraphValue[]): void => {
      const found = have.find((v) => v.name === want.name);
      if (!found) {
        throw new DailiesError(
          'model_invalid',
          `The ${this.label} graph ${this.file} has no ${kind} "${want.name}" (declared as ${want.role}; its ${kind}s are ${names(have)}); fix the tensor name in ${fixWhere}.`,
        );
      }
      if (found.dtype !== want.dtype) {
        throw new DailiesError(
          'model_invalid',
          `The ${this.label} graph ${kind} "${want.name}" is ${found.dtype} but ${want.role} is declared ${want.dtype}; fix its dtype in ${fixWhere}.`,
        );
      }
    };
    for (const want of inputs) check('input', want, this.inputs);
    for (const want of outputs) check('output', want, this.outputs);
    const fed = new Set(inputs.map((t) => t.name));
    const unfed = this.inputs.filter((v) => !fed.has(v.name));
    if (unfed.length > 0) {
      throw new DailiesError(
        'model_invalid',
        `The ${this.label} graph ${this.file} also needs input${unfed.length > 1 ? 's' : ''} ${names(unfed)}, which ${fixWhere} does not map; map ${unfed.length > 1 ? 'them' : 'it'} or re-export the graph without ${unfed.length > 1 ? 'them' : 'it'}.`,
      );
    }
  }

  /** Runs the graph; feeds are checked against the declared names, dtypes and fixed dims first. */
  async run(feeds: Record<string, EngineTensor>, outputNames: readonly string[]): Promise<Record<string, EngineTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const declared of this.inputs) {
      const t = feeds[declared.name];
      if (!t) {
        throw new DailiesError('model_invalid', `The ${this.label} graph needs input "${declared.name}" but the engine fed ${Object.keys(feeds).join(', ')}; fix the tensor names in the model's manifest.`);
      }
      if (t.type !== declared.dtype) {
        throw new DailiesError('model_invalid', `The ${this.label} graph input "${declared.name}" is ${declared.dtype} but the engine fed ${t.type}; fix its dtype in the model's manifest.`);
      }
      if (!shapeFits(declared.shape, t.dims)) {
        throw new DailiesError(
          'model_invalid',
          `The ${this.label} graph input "${declared.name}" has shape ${showShape(declared.shape)} but the engine fed ${showShape(t.dims)}; the manifest's sizes do not match the graph.`,
        );
      }
      ortFeeds[declared.name] = new ort.Tensor(t.type, t.data, [...t.dims]);
    }
    const extra = Object.keys(feeds).filter((n) => !this.input(n));
    if (extra.length > 0) {
      throw new DailiesError('model_invalid', `The ${this.label} graph has no input ${extra.map((n) => `"${n}"`).join(', ')} (its inputs are ${names(this.inputs)}); fix the tensor names in the model's manifest.`);
    }
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, [...outputNames]);
    } catch (cause) {
      const shapes = Object.entries(feeds).map(([n, t]) => `${n}${showShape(t.dims)}`).join(', ');
      throw new DailiesError('internal', `The ${this.label} graph failed on inputs ${shapes} (${errorText(cause)}); check that the model matches its manifest.`, { cause });
    }
    const out: Record<string, EngineTensor> = {};
    for (const name of outputNames) {
      const value = result[name];
      if (!value) throw new DailiesError('model_invalid', `The ${this.label} graph returned no output "${name}"; fix the tensor names in the model's manifest.`);
      out[name] = { type: value.type as TensorDtype, data: value.data as TensorData, dims: [...value.dims] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function names(list: readonly GraphValue[]): string {
  return list.map((v) => `"${v.name}"`).join(', ') || 'none';
}

function showShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

function shapeFits(declared: readonly (number | string)[], actual: readonly number[]): boolean {
  // Graphs without shape information declare []; only a declared rank can be checked.
  if (declared.length === 0) return true;
  return declared.length === actual.length && declared.every((d, i) => typeof d !== 'number' || d < 0 || d === actual[i]);
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.trim().replace(/\.$/, '');
}

// ---- tensor helpers ------------------------------------------------------------------------

/** Wraps float32 values for a graph input of `type`, converting to half bits for float16 graphs. */
export function floatTensor(data: Float32Array, dims: readonly number[], type: TensorDtype = 'float32'): EngineTensor {
  if (type === 'float32') return { type, data, dims };
  if (type === 'float16') return { type, data: toFloat16(data), dims };
  throw new RangeError(`cannot feed float data as ${type}`);
}

/** Integer tensor of `type` (int64 as BigInt64Array, int32 as Int32Array). */
export function intTensor(values: ArrayLike<number>, dims: readonly number[], type: TensorDtype): EngineTensor {
  if (type === 'int64') return { type, data: BigInt64Array.from(Array.from(values, (v) => BigInt(Math.round(v)))), dims };
  if (type === 'int32') return { type, data: Int32Array.from(values), dims };
  throw new RangeError(`cannot feed integers as ${type}`);
}

/** Reads any float output as float32 (the engine computes in float32 throughout). */
export function toFloat32(t: EngineTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.type === 'float16' && t.data instanceof Uint16Array) return fromFloat16(t.data);
  throw new RangeError(`expected a float tensor, got ${t.type}`);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of each value, rounded to nearest even (Node 20 has no Float16Array). */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!);
  return out;
}

function halfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
