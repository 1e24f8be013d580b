import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { DailiesError } from '../../src/errors.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';

describe('FsArtifactStore', () => {
  let dir: string;
  let store: FsArtifactStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-store-'));
    store = new FsArtifactStore({ root: path.join(dir, 'store') });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores buffers and files under their keys and reads them back', async () => {
    const ref = await store.putBuffer('renders/j1/take-0.mp4', new Uint8Array([1, 2, 3]), 'video/mp4');
    expect(ref).toEqual({ key: 'renders/j1/take-0.mp4', bytes: 3, contentType: 'video/mp4' });
    expect([...(await readFile(await store.localPath(ref)))]).toEqual([1, 2, 3]);

    const source = path.join(dir, 'src.bin');
    await writeFile(source, 'hello');
    const fileRef = await store.putFile('inputs/a.png', source, 'image/png');
    expect(fileRef.bytes).toBe(5);
    expect(await readFile(await store.localPath(fileRef), 'utf8')).toBe('hello');
  });

  it('replaces atomically and leaves no temporary files behind', async () => {
    await store.putBuffer('renders/j2/x.bin', new Uint8Array(10), 'application/octet-stream');
    await store.putBuffer('renders/j2/x.bin', new Uint8Array(4), 'application/octet-stream');
    expect(await readdir(path.join(store.root, 'renders/j2'))).toEqual(['x.bin']);
    const failing = store.putFile('renders/j2/y.bin', path.join(dir, 'missing'), 'x/y');
    await expect(failing).rejects.toThrow();
    expect(await readdir(path.join(store.root, 'renders/j2'))).toEqual(['x.bin']);
  });

  it.each(['../escape', 'a/../../b', '/abs', 'a//b', '.hidden', 'a/.tmp', '', 'a\\b', 'a b'])('refuses the key %j', async (key) => {
    await expect(store.putBuffer(key, new Uint8Array(1), 'x/y')).rejects.toBeInstanceOf(DailiesError);
    expect(() => store.pathOf(key)).toThrow(/not allowed/);
  });

  it('gives the URL the local web chat serves', () => {
    expect(store.publicUrl({ key: 'renders/j1/take-0.mp4', bytes: 1, contentType: 'video/mp4' })).toBe('/artifacts/renders/j1/take-0.mp4');
  });

  it('reports a missing artifact as not_found and deletes idempotently', async () => {
    const ref = await store.putBuffer('tmp/gone.bin', new Uint8Array(1), 'x/y');
    await store.delete(ref.key);
    await store.delete(ref.key);
    const error = await store.localPath(ref).catch((e: unknown) => e);
    expect((error as DailiesError).code).toBe('not_found');
  });

  it('is rooted at $ARTIFACTS_DIR, else .artifacts under the working directory (the root comes from src/config.ts)', () => {
    const root = (env: NodeJS.ProcessEnv) => new FsArtifactStore({ root: loadConfig(env).ARTIFACTS_DIR }).root;
    expect(root({ ARTIFACTS_DIR: path.join(dir, 'env') })).toBe(path.join(dir, 'env'));
    expect(root({})).toBe(path.resolve('.artifacts'));
  });
});
