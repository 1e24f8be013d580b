import { parentPort, workerData } from 'node:worker_threads';
import type { Clip, GenerateRequest, VideoModel } from '../src/core/ports/video-model.ts';
import type { EngineSpec, FromEngine, ToEngine } from './engine-protocol.ts';
import { serializeError } from './thread-errors.ts';

/**
 * Runs inside a worker thread: loads one model and runs its renders, so the inference loop never
 * blocks the worker process's event loop, where BullMQ renews job locks.
 */

const port = parentPort;
if (!port) throw new Error('engine-thread.ts must run in a worker thread');
const { spec } = workerData as { spec: EngineSpec };

function send(message: FromEngine, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(message, transfer);
  } catch {
    // Frames that are views into memory the engine keeps (or share one buffer) cannot be
    // transferred; copying them is slower but always works.
    port!.postMessage(message);
  }
}

function buffersOf(clips: Clip[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const clip of clips) {
    for (const frame of clip.frames) if (frame.buffer instanceof ArrayBuffer) buffers.add(frame.buffer);
  }
  return [...buffers];
}

async function load(): Promise<VideoModel | undefined> {
  try {
    const mod = (await import(spec.module)) as Record<string, unknown>;
    const factory = mod[spec.exportName];
    if (typeof factory !== 'function') throw new Error(`${spec.module} has no function export "${spec.exportName}"`);
    const model = (await factory(...spec.args)) as VideoModel;
    send({ type: 'ready', name: model.name, defaults: model.defaults, promptVocabulary: model.promptVocabulary });
    return model;
  } catch (error) {
    send({ type: 'init-error', error: serializeError(error) });
    // The error travels in the message; closing the port ends the thread without an 'error' event.
    port!.close();
    return undefined;
  }
}

function serve(model: VideoModel): void {
  const running = new Map<number, AbortController>();

  const generate = async (id: number, request: GenerateRequest) => {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const result = await model.generate(request, {
        signal: controller.signal,
        onStep: (e) => send({ type: 'step', id, step: e.step, totalSteps: e.totalSteps }),
        // Posted, not awaited: the step loop goes on while the worker encodes the preview.
        onPreview: (e) => send({ type: 'preview', id, event: e }),
      });
      send({ type: 'result', id, result }, buffersOf(result.takes.map((t) => t.clip)));
    } catch (error) {
      send({ type: 'error', id, error: serializeError(error) });
    } finally {
      running.delete(id);
    }
  };

  port!.on('message', (message: ToEngine) => {
    switch (message.type) {
      case 'generate':
        void generate(message.id, message.request);
        break;
      case 'abort':
        running.get(message.id)?.abort(message.reason);
        break;
      case 'dispose':
        for (const controller of running.values()) controller.abort('dispose');
        void model.dispose().finally(() => {
          send({ type: 'disposed' });
          port!.close();
        });
        break;
    }
  });
}

const model = await load();
if (model) serve(model);
