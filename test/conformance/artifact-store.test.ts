import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { runArtifactStoreConformance } from './artifact-store.conformance.ts';

// One fixture per store; an S3-compatible store joins with one more call (a bucket prefix of its own).
runArtifactStoreConformance('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-fs-store-'));
  return {
    store: new FsArtifactStore({ root: join(dir, 'store') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
