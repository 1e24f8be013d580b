import { Worker } from 'node:worker_threads';
import type { GenerateOptions, GenerateRequest, GenerateResult, VideoModel } from '../src/core/ports/video-model.ts';
import { DailiesError } from '../src/errors.ts';
import type { EngineSpec, FromEngine, ToEngine } from './engine-protocol.ts';
import { reviveError } from './thread-errors.ts';

export interface ThreadedVideoModelOptions {
  /**
   * After an abort, how long the engine gets to stop at its next step before its thread is
   * terminated (and the model loaded again for the next job). Default 10 s.
   */
  abortGraceMs?: number;
}

interface Pending {
  resolve: (result: GenerateResult) => void;
  reject: (error: Error) => void;
  options: GenerateOptions;
}

const BOOT = new URL('./thread-boot.mjs', import.meta.url);
const ENTRY = new URL('./engine-thread.ts', import.meta.url).href;

/**
 * A VideoModel whose renders run in a worker thread. Inference is CPU-bound (and on GPUs still
 * blocks on every step's copy back to the host); run on the worker's main thread it would starve
 * the timers that renew BullMQ's job locks, and a render longer than the lock would be taken for
 * stalled and run twice. The main thread only relays messages.
 */
export class ThreadedVideoModel implements VideoModel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;
  private disposed: Promise<void> | undefined;

  private constructor(
    private readonly thread: Worker,
    readonly name: string,
    readonly defaults: VideoModel['defaults'],
    readonly promptVocabulary: VideoModel['promptVocabulary'],
    private readonly abortGraceMs: number,
  ) {
    thread.on('message', (message: FromEngine) => this.onMessage(message));
    thread.on('error', (error) => this.fail(error));
    thread.on('exit', (code) => this.fail(new Error(`engine thread exited with code ${code}`)));
  }

  /** Starts a thread and loads the model in it; rejects with the loader's error. */
  static start(spec: EngineSpec, options: ThreadedVideoModelOptions = {}): Promise<ThreadedVideoModel> {
    const thread = new Worker(BOOT, { workerData: { entry: ENTRY, spec }, stdout: false, stderr: false });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new DailiesError('internal', `The engine thread exited (code ${code}) before the model was loaded.`));
      };
      const onMessage = (message: FromEngine) => {
        if (message.type === 'ready') {
          cleanup();
          resolve(new ThreadedVideoModel(thread, message.name, message.defaults, message.promptVocabulary, options.abortGraceMs ?? 10_000));
        } else if (message.type === 'init-error') {
          cleanup();
          thread.on('error', () => {});
          void thread.terminate();
          reject(reviveError(message.error));
        }
      };
      const cleanup = () => {
        thread.off('message', onMessage);
        thread.off('error', onError);
        thread.off('exit', onExit);
      };
      thread.on('message', onMessage);
      thread.on('error', onError);
      thread.on('exit', onExit);
    });
  }

  /** False once the thread has died or was terminated; the owner should start a new one. */
  get alive(): boolean {
    return !this.dead && !this.disposed;
  }

  generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.dead) return Promise.reject(this.unavailable());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = this.nextId++;
    return new Promise<GenerateResult>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        this.post({ type: 'abort', id, reason: String(signal?.reason ?? 'aborted') });
        killTimer = setTimeout(() => {
          // The engine did not reach a step boundary in time: stop it the hard way.
          const entry = this.pending.get(id);
          this.pending.delete(id);
          entry?.reject(cancelled());
          this.fail(new Error('engine thread terminated after ignoring an abort'));
          void this.thread.terminate();
        }, this.abortGraceMs);
      };
      const done = () => {
        clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        options,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.post({ type: 'generate', id, request });
    });
  }

  async dispose(): Promise<void> {
    this.disposed ??= (async () => {
      if (this.dead) return;
      const finished = new Promise<void>((resolve) => {
        this.thread.once('exit', () => resolve());
        this.thread.on('message', (m: FromEngine) => m.type === 'disposed' && resolve());
      });
      this.post({ type: 'dispose' });
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([finished, timeout]);
      await this.thread.terminate();
    })();
    return this.disposed;
  }

  private post(message: ToEngine): void {
    this.thread.postMessage(message);
  }

  private onMessage(message: FromEngine): void {
    if (!('id' in message)) return;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.type) {
      // A throwing callback must not take the message loop (and so every render) down with it.
      case 'step':
        try {
          entry.options.onStep?.({ step: message.step, totalSteps: message.totalSteps });
        } catch {}
        break;
      case 'preview':
        void (async () => entry.options.onPreview?.(message.event))().catch(() => {});
        break;
      case 'result':
        this.pending.delete(message.id);
        entry.resolve(message.result);
        break;
      case 'error':
        this.pending.delete(message.id);
        entry.reject(reviveError(message.error));
        break;
    }
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    for (const entry of this.pending.values()) entry.reject(this.unavailable());
    this.pending.clear();
  }

  private unavailable(): DailiesError {
    return new DailiesError('unavailable', 'The render engine stopped unexpectedly; the render will be tried again.', {
      retryable: true,
      cause: this.dead,
    });
  }
}

function cancelled(): DailiesError {
  return new DailiesError('cancelled', 'The render was cancelled.');
}

