import { copyFile, mkdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Context } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { getMimeType } from 'hono/utils/mime';
import { DailiesError } from '../../src/errors.ts';
import type { OutgoingAttachment } from '../../src/core/ports/chat-adapter.ts';

/**
 * Files shown in the local chat live under one artifacts directory (the ArtifactStore's, so its
 * `publicUrl` -> `/artifacts/<key>` addresses work here too). Attachments the core posts from
 * elsewhere are copied in, the way Discord keeps its own copy of an upload. Only regular files
 * whose real path is inside the directory are ever served.
 */

/** Where copies of attachments from outside the artifacts directory go. */
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

/** A filename safe on every filesystem and in a URL segment. */
export function safeFilename(name: string): string {
  const cleaned = basename(name.replace(/\\/g, '/'))
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-100);
  return cleaned || 'file';
}

export class ArtifactFiles {
  readonly dir: string;
  private root: Promise<string> | null = null;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The directory's real path (created on first use), so symlinks cannot fool the inside check. */
  private realRoot(): Promise<string> {
    this.root ??= mkdir(this.dir, { recursive: true }).then(() => realpath(this.dir));
    return this.root;
  }

  private async inside(realFile: string): Promise<string | null> {
    const root = await this.realRoot();
    if (!realFile.startsWith(root + sep)) return null;
    const key = relative(root, realFile).split(sep).join('/');
    return keySegments(key) ? key : null;
  }

  /**
   * Makes an outgoing attachment servable: returns its key under the artifacts directory, copying
   * the file in when it lives elsewhere. Refuses files over `maxBytes` as the platforms do.
   */
  async adopt(attachment: OutgoingAttachment, messageId: string, maxBytes: number): Promise<{ key: string; bytes: number }> {
    let real: string;
    let bytes: number;
    try {
      real = await realpath(attachment.path);
      const info = await stat(real);
      if (!info.isFile()) throw new Error('not a regular file');
      bytes = info.size;
    } catch (cause) {
      throw new DailiesError('not_found', `The attachment ${attachment.filename} could not be read from disk.`, { cause });
    }
    if (bytes > maxBytes) {
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      throw new DailiesError('bad_input', `The attachment ${attachment.filename} is ${mib(bytes)} MiB, over the local chat's ${mib(maxBytes)} MiB upload limit.`);
    }
    const key = await this.inside(real);
    if (key) return { key, bytes };
    const root = await this.realRoot();
    const copyKey = `${UPLOADS_FOLDER}/${messageId}/${safeFilename(attachment.filename)}`;
    const target = join(root, ...copyKey.split('/'));
    await mkdir(join(target, '..'), { recursive: true });
    await copyFile(real, target);
    return { key: copyKey, bytes };
  }

  /** The real path of a servable file for a URL path's key (still percent-encoded), or null. */
  async resolveEncoded(encodedKey: string): Promise<string | null> {
    let key: string;
    try {
      key = encodedKey.split('/').map((s) => decodeURIComponent(s)).join('/');
    } catch {
      return null;
    }
    // A decoded segment must not introduce new separators ("%2F", "%5C").
    const encodedSegments = encodedKey.split('/');
    const segments = keySegments(key);
    if (!segments || segments.length !== encodedSegments.length) return null;
    const root = await this.realRoot();
    try {
      const real = await realpath(join(root, ...segments));
      if (!(await stat(real)).isFile()) return null;
      return (await this.inside(real)) ? real : null;
    } catch {
      return null;
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
 * GET/HEAD /artifacts/<key>. Bodies and 206 partial responses (which Chromium's media stack needs
 * to seek in MP4) come from @hono/node-server's serveStatic. Its own Range parsing misreads
 * suffix, clamped and out-of-bounds ranges, so the header is normalised here first.
 */
export function artifactsRoute(files: ArtifactFiles) {
  return async (c: Context) => {
    const pathname = new URL(c.req.url).pathname;
    const file = await files.resolveEncoded(pathname.replace(/^\/artifacts\//, ''));
    if (!file) return c.json({ error: { code: 'not_found', message: 'There is no such file.' } }, 404);
    const size = (await stat(file)).size;
    const header = c.req.header('range');
    if (header !== undefined) {
      const range = parseRange(header, size);
      if (range === 'unsatisfiable') {
        // The size, as RFC 9110 asks, and the API's usual error body, as every other error has.
        c.header('Content-Range', `bytes */${size}`);
        return c.json({ error: { code: 'bad_input', message: `The requested byte range lies outside the file, which has ${size} bytes; ask for a range within it or for the whole file.` } }, 416);
      }
      // The request's headers are a mutable Headers object; serveStatic reads the range from there.
      if (range === null) c.req.raw.headers.delete('range');
      else c.req.raw.headers.set('range', `bytes=${range.start}-${range.end}`);
    }
    c.header('Accept-Ranges', 'bytes');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Content-Security-Policy', "default-src 'none'; sandbox");
    c.header('Cache-Control', 'private, max-age=300');
    // serveStatic picks the Content-Type from the extension the same way.
    if (!INLINE_TYPES.test(getMimeType(file) ?? '')) c.header('Content-Disposition', 'attachment');
    const response = await serveStatic({ path: file })(c, async () => {});
    return response ?? c.json({ error: { code: 'not_found', message: 'There is no such file.' } }, 404);
  };
}
