import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { startS3Server, type TestS3 } from '../storage/s3-server.ts';
import { runArtifactStoreConformance } from './artifact-store.conformance.ts';

// One fixture per store, the same suite for both.
runArtifactStoreConformance('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-fs-store-'));
  return {
    store: new FsArtifactStore({ root: join(dir, 'store') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// The S3 store with the real SDK client against an S3 API server started here; each case gets a
// bucket prefix and a cache folder of its own.
let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
});

runArtifactStoreConformance('S3', async () => {
  const { store, cleanup } = await s3.store();
  return { store, cleanup };
});
