import { Worker } from 'node:worker_threads';
import type { CheckedFrame, FrameCheck, FrameVerdict } from '../src/core/ports/frame-check.ts';
import { DailiesError } from '../src/errors.ts';
import type { FromFrameCheck, ToFrameCheck } from './frame-check-thread.ts';
import { reviveError } from './thread-errors.ts';

const BOOT = new URL('./thread-boot.mjs', import.meta.url);
const ENTRY = new URL('./frame-check-thread.ts', import.meta.url).href;

/**
 * The frame check in its own thread (frame-check-thread.ts), seen from the worker as a
 * FrameCheck. Loading fails with the loader's own sentence (a bad classifier.json, a model that
 * does not match it), so a bad folder still stops the worker at start.
 */
export function startThreadedFrameCheck(dir: string, options: { threads?: number } = {}): Promise<FrameCheck> {
  const thread = new Worker(BOOT, { workerData: { entry: ENTRY, dir, ...options }, stdout: false, stderr: false });
  const pending = new Map<number, { resolve: (v: FrameVerdict) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | null = null;
  const failAll = (error: Error) => {
    dead ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  return new Promise((resolve, reject) => {
    let ready = false;
    thread.on('error', (error) => (ready ? failAll(error) : reject(error)));
    thread.on('exit', (code) => {
      const error = new DailiesError('internal', `The frame check thread exited (code ${code}); restart the worker.`, { retryable: true });
      if (ready) failAll(error);
      else reject(error);
    });
    thread.on('message', (message: FromFrameCheck) => {
      switch (message.type) {
        case 'ready':
          ready = true;
          resolve({
            name: message.name,
            check(frames: readonly CheckedFrame[], signal?: AbortSignal): Promise<FrameVerdict> {
              if (dead) return Promise.reject(dead);
              signal?.throwIfAborted();
              const id = nextId++;
              return new Promise<FrameVerdict>((res, rej) => {
                const onAbort = () => {
                  pending.delete(id);
                  rej(signal!.reason);
                };
                signal?.addEventListener('abort', onAbort, { once: true });
                pending.set(id, {
                  resolve: (v) => (signal?.removeEventListener('abort', onAbort), res(v)),
                  reject: (e) => (signal?.removeEventListener('abort', onAbort), rej(e)),
                });
                thread.postMessage({ type: 'check', id, frames: [...frames] } satisfies ToFrameCheck);
              });
            },
            async close() {
              if (dead) return;
              dead = new DailiesError('internal', 'The frame check is closed.');
              thread.postMessage({ type: 'close' } satisfies ToFrameCheck);
              await new Promise((done) => thread.once('exit', done));
            },
          });
          break;
        case 'init-error':
          void thread.terminate();
          reject(reviveError(message.error));
          break;
        case 'verdict':
          pending.get(message.id)?.resolve(message.verdict);
          pending.delete(message.id);
          break;
        case 'error':
          pending.get(message.id)?.reject(reviveError(message.error));
          pending.delete(message.id);
          break;
        case 'closed':
          break;
      }
    });
  });
}
