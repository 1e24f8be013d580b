import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactRef, ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { DailiesError } from '../../src/errors.ts';
import { refusal } from './refusal.ts';

/**
 * The contract of the artifact seam, for every ArtifactStore: the filesystem store today, an
 * S3-compatible store later (it joins with one fixture and no change here).
 *
 * Decisions this suite pins down:
 * - putFile/putBuffer return `{ key, bytes, contentType }` for exactly what was stored; a second
 *   put under the same key replaces the first.
 * - localPath gives a readable local file with the stored bytes (for remote stores: a cached copy).
 * - publicUrl is a pure function of the key: the same ref gives the same URL, and the URL
 *   contains the key (keys are already URL-safe).
 * - delete removes the artifact (localPath then fails with 'not_found'); deleting a key that is
 *   not there is not an error, so a retried cleanup never fails.
 * - stat(key) answers with the same ref a put returned (key, bytes, content type) for a stored
 *   artifact, and null, not an error, for a key never stored or deleted: workers use it to find
 *   work a crashed attempt finished (chain segments), so "absent" is an answer, not a failure.
 * - deletePrefix("folder/") deletes every artifact whose key starts with it (not a neighbour whose
 *   name merely starts the same), answers how many, and treats an empty folder as done.
 * - open(key) streams the stored bytes, whole or a byte range (both ends included), straight
 *   from the store: chat adapters and the web chat read attachments this way, never by path. A
 *   key with no artifact is 'not_found'.
 * - Keys are relative, "/"-separated plain segments: '..', absolute paths, empty or hidden
 *   segments are refused with DailiesError('bad_input') naming the key, by every call.
 */
export interface ArtifactStoreFixture {
  /** A fresh, empty store (its own directory, bucket prefix, ...). */
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

const UNSAFE_KEYS = ['../escape', 'a/../../b', '/etc/passwd', 'a//b', '.hidden', 'renders/.tmp', '', 'a\\b'];

export function runArtifactStoreConformance(name: string, factory: () => Promise<ArtifactStoreFixture>): void {
  describe(`ArtifactStore conformance: ${name}`, () => {
    let fixture: ArtifactStoreFixture;
    let store: ArtifactStore;
    let scratch: string;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      scratch = await mkdtemp(join(tmpdir(), 'dailies-artifact-conformance-'));
    });
    afterEach(async () => {
      await fixture.cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    async function readBack(ref: ArtifactRef): Promise<Buffer> {
      return readFile(await store.localPath(ref));
    }

    it('stores a buffer and returns its ref with bytes and content type', async () => {
      const data = randomBytes(3000);
      const ref = await store.putBuffer('renders/j1/take-0.mp4', data, 'video/mp4');
      expect(ref).toEqual({ key: 'renders/j1/take-0.mp4', bytes: 3000, contentType: 'video/mp4' });
      expect((await readBack(ref)).equals(data)).toBe(true);
    });

    it('stores a file and returns its ref with bytes and content type', async () => {
      const data = randomBytes(5000);
      const source = join(scratch, 'source.png');
      await writeFile(source, data);
      const ref = await store.putFile('inputs/s1/image.png', source, 'image/png');
      expect(ref).toEqual({ key: 'inputs/s1/image.png', bytes: 5000, contentType: 'image/png' });
      expect((await readBack(ref)).equals(data)).toBe(true);
      // The store holds its own copy: the source may go away.
      await rm(source);
      expect((await readBack(ref)).equals(data)).toBe(true);
    });

    it('stores an empty artifact', async () => {
      const ref = await store.putBuffer('renders/j1/empty.bin', new Uint8Array(0), 'application/octet-stream');
      expect(ref.bytes).toBe(0);
      expect((await readBack(ref)).length).toBe(0);
    });

    it('replaces an artifact put again under the same key', async () => {
      await store.putBuffer('renders/j2/preview.gif', randomBytes(100), 'image/gif');
      const second = randomBytes(40);
      const ref = await store.putBuffer('renders/j2/preview.gif', second, 'image/gif');
      expect(ref.bytes).toBe(40);
      expect((await readBack(ref)).equals(second)).toBe(true);
    });

    it('keeps artifacts under different keys apart', async () => {
      const a = randomBytes(64);
      const b = randomBytes(64);
      const refA = await store.putBuffer('renders/j3/take-0.mp4', a, 'video/mp4');
      const refB = await store.putBuffer('renders/j3/take-1.mp4', b, 'video/mp4');
      expect((await readBack(refA)).equals(a)).toBe(true);
      expect((await readBack(refB)).equals(b)).toBe(true);
      await store.delete(refA.key);
      expect((await readBack(refB)).equals(b)).toBe(true);
    });

    it('gives a stable public URL that contains the key', async () => {
      const ref = await store.putBuffer('renders/j4/take-0.mp4', randomBytes(10), 'video/mp4');
      const url = store.publicUrl(ref);
      expect(url).toContain('renders/j4/take-0.mp4');
      expect(store.publicUrl({ ...ref })).toBe(url);
      expect(store.publicUrl(JSON.parse(JSON.stringify(ref)) as ArtifactRef)).toBe(url);
      const other = await store.putBuffer('renders/j4/take-1.mp4', randomBytes(10), 'video/mp4');
      expect(store.publicUrl(other)).not.toBe(url);
    });

    it('accepts a ref after a JSON round trip (refs travel in job payloads)', async () => {
      const data = randomBytes(128);
      const ref = await store.putBuffer('renders/j5/take-0.mp4', data, 'video/mp4');
      const carried = JSON.parse(JSON.stringify(ref)) as ArtifactRef;
      expect((await readBack(carried)).equals(data)).toBe(true);
    });

    it('deletes an artifact: it is then not_found', async () => {
      const ref = await store.putBuffer('tmp/gone.bin', randomBytes(8), 'application/octet-stream');
      await store.delete(ref.key);
      const error = await refusal(store.localPath(ref));
      expect(error.code).toBe('not_found');
    });

    it('treats deleting a missing key as done, not as an error', async () => {
      await expect(store.delete('tmp/never-stored.bin')).resolves.toBeUndefined();
      const ref = await store.putBuffer('tmp/twice.bin', randomBytes(8), 'application/octet-stream');
      await store.delete(ref.key);
      await expect(store.delete(ref.key)).resolves.toBeUndefined();
    });

    it('reports an artifact that was never stored as not_found', async () => {
      const error = await refusal(store.localPath({ key: 'renders/nobody/take-0.mp4', bytes: 1, contentType: 'video/mp4' }));
      expect(error.code).toBe('not_found');
      expect(error.message.length).toBeGreaterThan(0);
    });

    it('stats a stored artifact: the ref its put returned', async () => {
      const video = await store.putBuffer('renders/j6/take-0.mp4', randomBytes(777), 'video/mp4');
      expect(await store.stat(video.key)).toEqual(video);
      const source = join(scratch, 'preview.webp');
      await writeFile(source, randomBytes(321));
      const preview = await store.putFile('renders/j6/take-0-preview.webp', source, 'image/webp');
      expect(await store.stat(preview.key)).toEqual(preview);
      const raw = await store.putBuffer('renders/j6/chain/seg-0-take-0.rgb', randomBytes(96), 'application/octet-stream');
      expect(await store.stat(raw.key)).toEqual(raw);
    });

    it('stats the latest version of an artifact put twice', async () => {
      await store.putBuffer('renders/j7/chain/seg-1-take-0.rgb', randomBytes(10), 'application/octet-stream');
      await store.putBuffer('renders/j7/chain/seg-1-take-0.rgb', randomBytes(30), 'application/octet-stream');
      expect((await store.stat('renders/j7/chain/seg-1-take-0.rgb'))?.bytes).toBe(30);
    });

    it('stats a key never stored, or deleted, as null rather than an error', async () => {
      expect(await store.stat('renders/nobody/chain/seg-0-take-0.rgb')).toBeNull();
      // A "directory" of other keys is not an artifact either.
      await store.putBuffer('renders/j8/chain/seg-0-take-0.rgb', randomBytes(8), 'application/octet-stream');
      expect(await store.stat('renders/j8/chain')).toBeNull();
      // Nor is a key under an artifact, as if it were a folder.
      expect(await store.stat('renders/j8/chain/seg-0-take-0.rgb/x')).toBeNull();
      await store.delete('renders/j8/chain/seg-0-take-0.rgb');
      expect(await store.stat('renders/j8/chain/seg-0-take-0.rgb')).toBeNull();
    });

    async function drain(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    }

    it('opens an artifact as a stream, whole or a byte range', async () => {
      const data = randomBytes(70_000);
      const ref = await store.putBuffer('renders/j9/take-0.mp4', data, 'video/mp4');
      expect((await drain(await store.open(ref.key))).equals(data)).toBe(true);
      expect((await drain(await store.open(ref.key, { range: { start: 100, end: 199 } }))).equals(data.subarray(100, 200))).toBe(true);
      expect((await drain(await store.open(ref.key, { range: { start: 69_999, end: 69_999 } }))).equals(data.subarray(69_999))).toBe(true);
    });

    it('stops a read when its signal aborts, before or during it, quietly: nothing is raised anywhere', async () => {
      const data = randomBytes(300_000);
      const ref = await store.putBuffer('renders/j9b/take-0.mp4', data, 'video/mp4');
      // The reader went away before the store was asked (a browser leaving while the answer was
      // being prepared): nothing is read, and no error surfaces later with no one to catch it.
      const gone = new AbortController();
      gone.abort();
      // (A store may refuse to open with the signal's error, which its caller catches.)
      const never: AsyncIterable<Uint8Array> = await store.open(ref.key, { signal: gone.signal }).catch(() => (async function* () {})());
      await new Promise((r) => setTimeout(r, 50));
      expect((await drain(never).catch(() => Buffer.alloc(0))).length).toBe(0);
      // Or after opening and before reading.
      const early = new AbortController();
      const unread = await store.open(ref.key, { signal: early.signal });
      early.abort();
      await new Promise((r) => setTimeout(r, 50));
      expect((await drain(unread).catch(() => Buffer.alloc(0))).length).toBeLessThan(data.length);
      // Or during the read: it ends short of the whole.
      const late = new AbortController();
      let read = 0;
      try {
        for await (const chunk of await store.open(ref.key, { signal: late.signal })) {
          read += chunk.byteLength;
          late.abort();
        }
      } catch {
        // A store may end an aborted read with an error its reader catches; none may escape.
      }
      expect(read).toBeLessThan(data.length);
      await new Promise((r) => setTimeout(r, 50));
    });

    it('opens a key never stored, or deleted, as not_found', async () => {
      expect((await refusal(store.open('renders/nobody/take-0.mp4'))).code).toBe('not_found');
      const ref = await store.putBuffer('renders/j10/take-0.mp4', randomBytes(10), 'video/mp4');
      await store.delete(ref.key);
      expect((await refusal(store.open(ref.key))).code).toBe('not_found');
    });

    it('deletes every artifact under a folder prefix, and only those, answering how many', async () => {
      const inside = ['renders/j11/take-0.mp4', 'renders/j11/take-0-preview.webp', 'renders/j11/take-0.fit8000000.mp4', 'renders/j11/chain/seg-0-take-0.rgb'];
      for (const key of inside) await store.putBuffer(key, randomBytes(16), 'application/octet-stream');
      // Neighbours sharing the start of the name, not the folder, stay.
      const outside = await store.putBuffer('renders/j110/take-0.mp4', randomBytes(16), 'video/mp4');
      const sibling = await store.putBuffer('renders/j12/take-0.mp4', randomBytes(16), 'video/mp4');
      expect(await store.deletePrefix('renders/j11/')).toBe(4);
      for (const key of inside) expect(await store.stat(key)).toBeNull();
      expect(await store.stat(outside.key)).toEqual(outside);
      expect(await store.stat(sibling.key)).toEqual(sibling);
      // Again, or a folder never written: nothing to do, not an error.
      expect(await store.deletePrefix('renders/j11/')).toBe(0);
      expect(await store.deletePrefix('renders/nobody/')).toBe(0);
    });

    it.each(['renders/j1', '../', 'renders/../', '/', '', 'renders/.tmp/'])('refuses the prefix %j, naming it', async (prefix) => {
      const error = await refusal(store.deletePrefix(prefix));
      expect(error.code).toBe('bad_input');
      expect(error.message).toContain(`"${prefix}"`);
    });

    it.each(UNSAFE_KEYS)('refuses the unsafe key %j in every call, naming it', async (key) => {
      const source = join(scratch, 'x.bin');
      await writeFile(source, 'x');
      const ref: ArtifactRef = { key, bytes: 1, contentType: 'application/octet-stream' };
      for (const attempt of [
        store.putBuffer(key, new Uint8Array(1), 'application/octet-stream'),
        store.putFile(key, source, 'application/octet-stream'),
        store.localPath(ref),
        store.delete(key),
        store.stat(key),
        store.open(key),
      ]) {
        const error = await refusal(attempt);
        expect(error.code).toBe('bad_input');
        expect(error.message).toContain(`"${key}"`);
      }
      expect(() => store.publicUrl(ref)).toThrow(DailiesError);
    });
  });
}
