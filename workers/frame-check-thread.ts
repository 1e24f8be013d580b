import { parentPort, workerData } from 'node:worker_threads';
import { loadFrameCheck } from '../models/frame-check/onnx-frame-check.ts';
import type { CheckedFrame, FrameVerdict } from '../src/core/ports/frame-check.ts';
import type { SerializedError } from './engine-protocol.ts';
import { serializeError } from './thread-errors.ts';

/**
 * Runs inside a worker thread: the frame check's classifier. onnxruntime-node runs a graph on the
 * calling thread, and a batch of 224-pixel frames takes 50-300 ms, so on the worker's main thread
 * it would stall BullMQ's lock renewals; here it only takes a core.
 */

export type ToFrameCheck = { type: 'check'; id: number; frames: CheckedFrame[] } | { type: 'close' };
export type FromFrameCheck =
  | { type: 'ready'; name: string }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'verdict'; id: number; verdict: FrameVerdict }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('frame-check-thread.ts must run in a worker thread');
const { dir, threads } = workerData as { dir: string; threads?: number };
const send = (message: FromFrameCheck) => port.postMessage(message);

try {
  const check = await loadFrameCheck(dir, threads ? { threads } : {});
  // One check at a time, in order: the classifier's own threads are the parallelism.
  let queue = Promise.resolve();
  port.on('message', (message: ToFrameCheck) => {
    queue = queue.then(async () => {
      if (message.type === 'close') {
        await check.close().catch(() => {});
        send({ type: 'closed' });
        port.close();
        return;
      }
      try {
        send({ type: 'verdict', id: message.id, verdict: await check.check(message.frames) });
      } catch (error) {
        send({ type: 'error', id: message.id, error: serializeError(error) });
      }
    });
  });
  send({ type: 'ready', name: check.name });
} catch (error) {
  send({ type: 'init-error', error: serializeError(error) });
}
