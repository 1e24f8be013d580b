import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DailiesError } from '../errors.ts';
import type { ArtifactRef, ArtifactStore, ByteRange } from '../core/ports/artifact-store.ts';
import { artifactKeySegments, artifactPrefixSegments, artifactPublicUrl } from './artifact-key.ts';

export interface FsArtifactStoreOptions {
  /** Directory of the store, resolved against the working directory (processes pass ARTIFACTS_DIR from src/config.ts, default `.artifacts`). */
  root: string;
  /** URL path the local web chat serves the directory under; default '/artifacts'. */
  publicPrefix?: string;
}

// The filesystem keeps no content type, so `stat` reads it from the key's extension (every key the
// workers write has one). Anything else is plain bytes.
const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  webp: 'image/webp',
  gif: 'image/gif',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  json: 'application/json',
};

/**
 * Artifacts (videos, previews, input images) as files in one directory, shared by the bot and
 * every worker on the same machine or network filesystem.
 *
 * Writes go to a temporary sibling and are renamed into place, so a reader (a chat upload, the
 * web chat) sees a whole file or none. Nothing is fsynced: every artifact can be rendered again,
 * and a power loss costs at worst that.
 *
 * Workers on other machines use the S3-compatible store instead (s3-artifact-store.ts), which
 * answers the same calls; keys are valid object names in both.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly publicPrefix: string;

  constructor(options: FsArtifactStoreOptions) {
    this.root = path.resolve(options.root);
    this.publicPrefix = (options.publicPrefix ?? '/artifacts').replace(/\/+$/, '');
  }

  async putFile(key: string, sourcePath: string, contentType: string): Promise<ArtifactRef> {
    const target = this.pathOf(key);
    await this.atomically(target, (tmp) => copyFile(sourcePath, tmp));
    return { key, bytes: (await stat(target)).size, contentType };
  }

  async putBuffer(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef> {
    await this.atomically(this.pathOf(key), (tmp) => writeFile(tmp, data));
    return { key, bytes: data.byteLength, contentType };
  }

  async localPath(ref: ArtifactRef): Promise<string> {
    const file = this.pathOf(ref.key);
    try {
      await stat(file);
    } catch (cause) {
      throw new DailiesError('not_found', `The file "${ref.key}" is no longer stored; attach it again.`, { cause });
    }
    return file;
  }

  publicUrl(ref: ArtifactRef): string {
    return artifactPublicUrl(this.publicPrefix, ref.key);
  }

  async open(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<AsyncIterable<Uint8Array>> {
    const file = this.pathOf(key);
    // lstat: a symlink someone placed in the folder is not an artifact (this store never makes
    // one), so what it points at outside the store is never read.
    const info = await lstat(file).catch(() => null);
    if (!info?.isFile()) throw new DailiesError('not_found', `The file "${key}" is no longer stored; render it again.`);
    const { range, signal } = options;
    return readOnDemand(file, range, signal);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    const folder = path.join(this.root, ...artifactPrefixSegments(prefix));
    options.signal?.throwIfAborted();
    // Counted first (temporary files of a write in progress, which start with '.', are not artifacts), then removed whole.
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (!entries) return 0;
    const count = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).length;
    await rm(folder, { recursive: true, force: true });
    return count;
  }

  async stat(key: string): Promise<ArtifactRef | null> {
    const file = this.pathOf(key);
    const info = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (!info?.isFile()) return null;
    const ext = path.extname(key).slice(1).toLowerCase();
    return { key, bytes: info.size, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream' };
  }

  /** The absolute path of `key`; throws DailiesError('bad_input') for keys that could escape the root. */
  pathOf(key: string): string {
    return path.join(this.root, ...this.segments(key));
  }

  private segments(key: string): string[] {
    return artifactKeySegments(key);
  }

  private async atomically(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    // A sibling, so the rename stays on one filesystem and is atomic.
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await write(tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }
}

/**
 * The file's bytes, opened at the first read. Not createReadStream's own `signal`: an abort emits
 * 'error' on the stream, and when nobody is reading yet (a browser that went away between the
 * answer's headers and its body) nothing listens, and the error ends the process. Here the
 * reader going away stops the read and ends the bytes quietly.
 */
async function* readOnDemand(file: string, range: ByteRange | undefined, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  if (signal?.aborted) return;
  const stream = createReadStream(file, range ? { start: range.start, end: range.end } : {});
  const stop = () => stream.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    stream.destroy();
  }
}
