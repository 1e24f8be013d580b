import type { GenerateRequest, GenerateResult, PreviewEvent, VideoModel } from '../src/core/ports/video-model.ts';

/**
 * How to build the model inside an engine thread: the thread imports `module` and calls its
 * `exportName` with `args` (which must survive structured cloning). For the built-in engine
 * that is `loadModel(dir, { provider, deviceId, threads })` from models/engine/load-model.ts.
 */
export interface EngineSpec {
  /** Module URL (file:// href) or bare specifier. */
  module: string;
  exportName: string;
  args: unknown[];
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  stack?: string;
}

export type ToEngine =
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'abort'; id: number; reason: string }
  | { type: 'dispose' };

export type FromEngine =
  | { type: 'ready'; name: string; defaults: VideoModel['defaults']; promptVocabulary?: VideoModel['promptVocabulary'] }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'step'; id: number; step: number; totalSteps: number }
  | { type: 'preview'; id: number; event: PreviewEvent }
  | { type: 'result'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'disposed' };
