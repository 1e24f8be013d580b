import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach } from 'vitest';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { join } from 'node:path';
import { commands } from '../../commands/index.ts';
import { createAdmission, type Admission } from '../../src/core/admission.ts';
import { createCore, type Core, type CoreDeps } from '../../src/core/app.ts';
import { createDelivery, type Delivery } from '../../src/core/delivery.ts';
import type { ChatAdapter, ChatEvent, OutgoingMessage } from '../../src/core/ports/chat-adapter.ts';
import type { RenderJob, TakeResult, WithheldTake } from '../../src/core/ports/job-queue.ts';
import type { CoreConfig, Logger } from '../../src/core/runtime.ts';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { MemoryPersonBlocks } from '../../src/storage/memory-person-blocks.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { FakeJobQueue } from '../core/fakes/fake-queue.ts';
import { fakeModels } from '../core/fakes/fake-models.ts';
import { MemorySettingsStore } from '../../src/storage/memory-settings-store.ts';

/**
 * The real core (commands, dispatcher, admission, delivery) around a real chat adapter, with an
 * in-memory session store and a fake queue whose worker events the test plays. The adapter side
 * is whatever the platform's stand-in harness built; this is what `dailies bot` wires in between.
 */
export interface CoreRig {
  core: Core;
  store: MemorySessionStore;
  queue: FakeJobQueue;
  delivery: Delivery;
  admission: Admission;
  /** Every event the adapter handed the core, in order. */
  events: ChatEvent[];
  /** What the core asked the adapter to do: thread starts and posts (edits are progress only). */
  calls: { method: 'startThread' | 'post'; message: OutgoingMessage }[];
  /** Artifact keys the core deleted (a moderator's removal), in order. */
  deleted: string[];
  /** Lets admission hand jobs to the queue and delivery post what follows. */
  settle(): Promise<void>;
  /**
   * Plays the worker finishing `job` with its takes (each a `frames`-frame clip), then settles;
   * the takes in `withheld` come back as the frame check's withheld takes instead.
   */
  finish(job: RenderJob, frames?: number, withheld?: readonly WithheldTake[], options?: { signed?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const quiet: Logger = { warn: () => {}, error: () => {} };

/** `artifacts` is the store the adapter reads attachments from (default: a folder in `dir`); finished takes are written there. */
export async function startCoreRig(adapter: ChatAdapter, dir: string, config: Partial<CoreConfig> = {}, artifacts: ArtifactStore = new FsArtifactStore({ root: join(dir, 'artifacts') }), deps: Pick<CoreDeps, 'audit' | 'promptCheck' | 'images'> = {}): Promise<CoreRig> {
  const store = new MemorySessionStore();
  const queue = new FakeJobQueue({ perPersonCap: 20 });
  const calls: CoreRig['calls'] = [];
  // The core's view of the adapter, counting what it is asked to show.
  const watched: ChatAdapter = Object.assign(Object.create(adapter) as ChatAdapter, {
    startThread: (origin: Parameters<ChatAdapter['startThread']>[0], message: OutgoingMessage) => {
      calls.push({ method: 'startThread', message });
      return adapter.startThread(origin, message);
    },
    post: (...args: Parameters<ChatAdapter['post']>) => {
      calls.push({ method: 'post', message: args[1] });
      return adapter.post(...args);
    },
    edit: (...args: Parameters<ChatAdapter['edit']>) => adapter.edit(...args),
    replace: (...args: Parameters<ChatAdapter['replace']>) => adapter.replace(...args),
    retitle: (...args: Parameters<ChatAdapter['retitle']>) => adapter.retitle(...args),
    maxUploadBytesFor: (...args: Parameters<ChatAdapter['maxUploadBytesFor']>) => adapter.maxUploadBytesFor(...args),
  });
  const delivery = createDelivery({
    store,
    queue,
    adapters: [watched],
    artifacts: { publicUrl: (ref) => `http://files.test/${ref.key}` },
    log: quiet,
    config,
  });
  const admission = createAdmission({ store, queue, delivery, log: quiet });
  const deleted: string[] = [];
  // A moderator's removal deletes from the store the adapter serves; the keys are kept for checks.
  const removals = {
    delete: async (key: string) => {
      deleted.push(key);
      await artifacts.delete(key);
    },
  };
  // Blocks (/block) are on, as in every bot.
  const core = createCore({ commands, store, queue, adapters: [watched], delivery, admission, blocks: new MemoryPersonBlocks(), artifacts: removals, models: fakeModels(), settings: new MemorySettingsStore(), log: quiet, config, ...deps });
  const events: ChatEvent[] = [];
  const rig: CoreRig = {
    core,
    store,
    queue,
    delivery,
    admission,
    events,
    calls,
    deleted,
    async settle() {
      await admission.idle();
      await delivery.idle();
    },
    async finish(job, frames = 16, withheld = [], options = {}) {
      const kept = Array.from({ length: job.request.takes }, (_, i) => i).filter((i) => !withheld.some((w) => w.index === i));
      const takes: TakeResult[] = kept.map((i) => ({
        index: i,
        seed: job.request.seed + i,
        video: { key: `${job.jobId}-take${i + 1}.mp4`, bytes: 2048, contentType: 'video/mp4' },
        preview: { key: `${job.jobId}-take${i + 1}.png`, bytes: 100, contentType: 'image/png' },
        frames,
        fps: 8,
        model: 'rig-model',
        ...(options.signed ? { signed: true } : {}),
      }));
      // Small stored files, as a worker leaves them, so every platform really uploads something.
      for (const take of takes) {
        for (const ref of [take.video, take.preview]) await artifacts.putBuffer(ref.key, Buffer.alloc(ref.bytes, 7), ref.contentType);
      }
      queue.emit({ type: 'completed', jobId: job.jobId, takes, ...(withheld.length ? { withheld: [...withheld] } : {}), timingsMs: {} });
      await rig.settle();
    },
    async close() {
      await adapter.stop();
      await admission.stop();
      await delivery.stop();
    },
  };
  delivery.start();
  await adapter.start(async (event) => {
    events.push(event);
    return core(event);
  });
  return rig;
}

/**
 * For a describe block run on one platform: a fresh stand-in harness and core rig for each test,
 * torn down after it; `deps` adds the audit log, prompt check or image intake a block needs. Read them through the returned getters inside the tests.
 */
export function coreRigPerTest(makeHarness: () => Promise<ChatAdapterHarness>, deps: () => Pick<CoreDeps, 'audit' | 'promptCheck' | 'images'> = () => ({})): { h: () => ChatAdapterHarness; rig: () => CoreRig } {
  let h: ChatAdapterHarness | undefined;
  let rig: CoreRig | undefined;
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dailies-rig-'));
    h = await makeHarness();
    rig = await startCoreRig(h.adapter, dir, {}, h.artifacts, deps());
  });
  afterEach(async () => {
    await rig?.close();
    await h?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return { h: () => h!, rig: () => rig! };
}
