import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';

/** A filesystem artifact store in a fresh temporary folder: what chat adapters under test read attachments from. */
export async function tempArtifactStore(): Promise<{ store: FsArtifactStore; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-store-'));
  return { store: new FsArtifactStore({ root: dir }), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
