import { mkdir, realpath, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { DailiesError } from '../../src/errors.ts';
import type { ArtifactReader, ArtifactRef } from '../../src/core/ports/artifact-store.ts';
import type { OutgoingAttachment } from '../../src/core/ports/chat-adapter.ts';
import { attachmentArtifact } from '../../src/storage/attachment-bytes.ts';

/**
 * Files shown in the local chat are artifacts in the ArtifactStore, served by key as
 * `/artifacts/<key>` (the address `ArtifactStore.publicUrl` gives), whichever store holds them:
 * the filesystem folder or an S3 bucket. Only keys the store accepts are ever read, so nothing
 * outside it (no traversal, hidden file or symlink out of the folder) is served.
 */

/** Where earlier versions copied attachments from outside the artifacts folder (still served, and removed with their message). */
export const UPLOADS_FOLDER = 'local-chat';

const MAX_KEY_LENGTH = 1024;

/** Types a browser may render inline; anything else is sent as a download so it cannot run as a page. */
const INLINE_TYPES = /^(?:video\/|audio\/|image\/(?!svg)|text\/plain\b|application\/json\b)/;

export function artifactUrl(key: string): string {
  return '/artifacts/' + key.split('/').map(encodeURIComponent).join('/');
}

/** Splits a key into safe path segments, or null: no empty, dot, hidden or NUL-carrying segment, no backslash. */
export function keySegments(key: string): string[] | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return null;
  const segments = key.split('/');
  for (const s of segments) {
    if (s.length === 0 || s.startsWith('.') || s.includes('\\') || s.includes('\0')) return null;
  }
  return segments;
}

export class ArtifactFiles {
  /** The filesystem store's folder, when the store is one: only copies older versions made live here. */
  readonly dir: string | null;
  private root: Promise<string> | null = null;

  constructor(
    readonly reader: ArtifactReader,
    dir?: string,
  ) {
    this.dir = dir === undefined ? null : resolve(dir);
  }

  /** The directory's real path (created on first use). */
  private realRoot(): Promise<string> {
    const dir = this.dir;
    if (dir === null) throw new DailiesError('internal', 'This local chat serves an object store and keeps no folder of its own.');
    this.root ??= mkdir(dir, { recursive: true }).then(() => realpath(dir));
    return this.root;
  }

  /**
   * Makes an outgoing attachment servable: its key in the artifact store, which /artifacts/<key>
   * serves. Refuses files over `maxBytes` as the platforms do, and keys with nothing stored.
   */
  async adopt(attachment: OutgoingAttachment, maxBytes: number): Promise<{ key: string; bytes: number }> {
    const { bytes } = await attachmentArtifact(this.reader, attachment);
    if (bytes > maxBytes) {
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      throw new DailiesError('bad_input', `The attachment ${attachment.filename} is ${mib(bytes)} MiB, over the local chat's ${mib(maxBytes)} MiB upload limit.`);
    }
    return { key: attachment.key, bytes };
  }

  /** Deletes the copies `adopt` made for one message (none: nothing to do). */
  async discardCopies(messageId: string): Promise<void> {
    // Copies were made by earlier versions, into the filesystem store's folder only.
    if (this.dir === null || !/^[A-Za-z0-9_-]{1,64}$/.test(messageId)) return;
    await rm(join(await this.realRoot(), UPLOADS_FOLDER, messageId), { recursive: true, force: true });
  }

  /** The stored artifact for a URL path's key (still percent-encoded), or null for a bad or unknown key. */
  async resolveEncoded(encodedKey: string): Promise<ArtifactRef | null> {
    let key: string;
    try {
      key = encodedKey.split('/').map((s) => decodeURIComponent(s)).join('/');
    } catch {
      return null;
    }
    // A decoded segment must not introduce new separators ("%2F", "%5C").
    const segments = keySegments(key);
    if (!segments || segments.length !== encodedKey.split('/').length) return null;
    try {
      return await this.reader.stat(key);
    } catch (error) {
      // A key the store refuses (bad_input) is, to a browser, no such file.
      if (error instanceof DailiesError && error.code === 'bad_input') return null;
      throw error;
    }
  }
}

/**
 * Reads a Range header the RFC 9110 way for one file size: a single satisfiable range comes back
 * with both ends explicit; 'unsatisfiable' answers 416; anything else (other units, several
 * ranges, garbage) is ignored, which the RFC allows, and the whole file is sent.
 */
export function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * GET/HEAD /artifacts/<key>, proxied from the artifact store (the filesystem's folder, or an S3
 * bucket through ranged GETs) rather than redirected to a presigned bucket URL: the page, its
 * videos and the Content Credentials stay on one origin behind one set of headers, the bucket
 * need not be reachable from people's browsers, and Range requests (which Chromium's media stack
 * needs to seek in MP4) get the same answers whichever store is behind it.
 */
export function artifactsRoute(files: ArtifactFiles) {
  return async (c: Context) => {
    const pathname = new URL(c.req.url).pathname;
    const ref = await files.resolveEncoded(pathname.replace(/^\/artifacts\//, ''));
    if (!ref) return c.json({ error: { code: 'not_found', message: 'There is no such file.' } }, 404);
    const size = ref.bytes;
    const header = c.req.header('range');
    const range = header === undefined ? null : parseRange(header, size);
    if (range === 'unsatisfiable') {
      // The size, as RFC 9110 asks, and the API's usual error body, as every other error has.
      c.header('Content-Range', `bytes */${size}`);
      return c.json({ error: { code: 'bad_input', message: `The requested byte range lies outside the file, which has ${size} bytes; ask for a range within it or for the whole file.` } }, 416);
    }
    const headers = new Headers({
      'Content-Type': ref.contentType,
      'Accept-Ranges': 'bytes',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=300',
      'Content-Length': String(range ? range.end - range.start + 1 : size),
    });
    if (!INLINE_TYPES.test(ref.contentType)) headers.set('Content-Disposition', 'attachment');
    if (range) headers.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    const status = range ? 206 : 200;
    if (c.req.method === 'HEAD' || size === 0) return new Response(null, { status, headers });
    let body: AsyncIterable<Uint8Array>;
    try {
      // The browser going away aborts the read from the store.
      body = await files.reader.open(ref.key, { ...(range && { range }), signal: c.req.raw.signal });
    } catch (error) {
      if (error instanceof DailiesError && error.code === 'not_found') return c.json({ error: { code: 'not_found', message: 'There is no such file.' } }, 404);
      throw error;
    }
    return new Response(Readable.toWeb(Readable.from(body)) as ReadableStream<Uint8Array>, { status, headers });
  };
}
