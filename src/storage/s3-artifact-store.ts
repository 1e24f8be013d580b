import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DailiesError } from '../errors.ts';
import type { ArtifactRef, ArtifactStore, ByteRange } from '../core/ports/artifact-store.ts';
import { artifactKeySegments, artifactPrefixSegments, artifactPublicUrl } from './artifact-key.ts';

export interface S3ArtifactStoreOptions {
  /** A client for S3, MinIO or R2 (endpoint, region, path style and credentials are its own settings). */
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket ("" or ending in "/"), so several installations share a bucket. */
  prefix?: string;
  /** This process's own folder for `localPath` copies; never shared with other processes. */
  cacheDir: string;
  /** URL path the web chat serves artifacts under; default '/artifacts'. */
  publicPrefix?: string;
  /** Parts of a multipart upload, in bytes (S3's minimum is 5 MiB); default 8 MiB. */
  partSize?: number;
}

/**
 * Artifacts as objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2), so the bot and
 * every worker can run on machines that share no disk: workers upload, the bot reads back by key.
 *
 * - Puts go through lib-storage's Upload: one PutObject for small files, a multipart upload (parts
 *   sent in parallel, aborted on failure) for large ones. An object appears whole when its PUT or
 *   its CompleteMultipartUpload succeeds, never in part, which `stat` relies on.
 * - The content type is stored with the object, so `stat` returns what the put was given.
 * - `open` is a ranged GET streamed as it is read (the web chat's Range requests, chat uploads).
 * - `localPath` downloads into `cacheDir`, one file per key and ETag: a key put again gets a new
 *   ETag and so a fresh copy, and the old copy is removed. Only ffmpeg and the signer need paths.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly cacheDir: string;
  private readonly publicPrefix: string;
  private readonly partSize: number;

  constructor(options: S3ArtifactStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.cacheDir = path.resolve(options.cacheDir);
    this.publicPrefix = options.publicPrefix ?? '/artifacts';
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
  }

  async putFile(key: string, sourcePath: string, contentType: string): Promise<ArtifactRef> {
    const objectKey = this.objectKey(key);
    const { size } = await stat(sourcePath);
    const body = createReadStream(sourcePath);
    try {
      await this.upload(objectKey, key, body, contentType);
    } finally {
      // A failed upload may leave the file open.
      body.destroy();
    }
    return { key, bytes: size, contentType };
  }

  async putBuffer(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef> {
    await this.upload(this.objectKey(key), key, data, contentType);
    return { key, bytes: data.byteLength, contentType };
  }

  async localPath(ref: ArtifactRef): Promise<string> {
    const objectKey = this.objectKey(ref.key);
    const head = await this.head(objectKey, ref.key);
    if (!head) throw this.missing(ref.key);
    const folder = this.cacheFolder(objectKey);
    const file = path.join(folder, `${head.etag}-${path.basename(ref.key)}`);
    if (await stat(file).then((s) => s.size === head.bytes, () => false)) return file;
    await mkdir(folder, { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const body = await this.get(objectKey, ref.key);
      await pipeline(body, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    // Older copies of this key (it was put again) are stale now.
    for (const name of await readdir(folder)) {
      if (name !== path.basename(file) && !name.includes('.tmp-')) await rm(path.join(folder, name), { force: true });
    }
    return file;
  }

  publicUrl(ref: ArtifactRef): string {
    return artifactPublicUrl(this.publicPrefix, ref.key);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    // S3 answers 204 for a key that is not there, so a retried cleanup never fails.
    await this.send(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey })), key);
    await rm(this.cacheFolder(objectKey), { recursive: true, force: true });
  }

  async deletePrefix(prefix: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    artifactPrefixSegments(prefix);
    const objectPrefix = this.prefix + prefix;
    const sendOptions = options.signal ? { abortSignal: options.signal } : {};
    let deleted = 0;
    // One listing page (up to 1000 keys) and one DeleteObjects per batch; what is deleted drops
    // out of the next listing, so the loop ends when the folder is empty.
    for (;;) {
      options.signal?.throwIfAborted();
      const page = await this.send(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: objectPrefix, MaxKeys: 1000 }), sendOptions), prefix);
      const keys = (page?.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      if (keys.length === 0) return deleted;
      const out = await this.send(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }), sendOptions), prefix);
      const failed = out?.Errors ?? [];
      if (failed.length > 0) {
        throw new DailiesError('unavailable', `The artifact store (bucket "${this.bucket}") kept ${failed.length} files under "${prefix}" (${failed[0]?.Code ?? 'no reason given'}); the next sweep tries again.`, { retryable: true });
      }
      deleted += keys.length;
      for (const key of keys) await rm(this.cacheFolder(key), { recursive: true, force: true });
    }
  }

  async stat(key: string): Promise<ArtifactRef | null> {
    const head = await this.head(this.objectKey(key), key);
    return head && { key, bytes: head.bytes, contentType: head.contentType };
  }

  async open(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<AsyncIterable<Uint8Array>> {
    const objectKey = this.objectKey(key);
    return this.get(objectKey, key, options.range, options.signal);
  }

  private async get(objectKey: string, key: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const out = await this.send(
      () =>
        this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, ...(range && { Range: `bytes=${range.start}-${range.end}` }) }),
          signal ? { abortSignal: signal } : {},
        ),
      key,
    );
    if (!out) throw this.missing(key);
    // In Node the SDK's body is an http IncomingMessage, a Readable.
    return out.Body as Readable;
  }

  private async head(objectKey: string, key: string): Promise<{ bytes: number; contentType: string; etag: string } | null> {
    const out = await this.send(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey })), key);
    if (!out) return null;
    return {
      bytes: out.ContentLength ?? 0,
      contentType: out.ContentType ?? 'application/octet-stream',
      etag: (out.ETag ?? 'none').replace(/[^A-Za-z0-9-]/g, ''),
    };
  }

  private async upload(objectKey: string, key: string, body: Uint8Array | Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: contentType },
      partSize: this.partSize,
      queueSize: 4,
      // A failed multipart upload is aborted, so no half-written parts linger (and bill) in the bucket.
      leavePartsOnError: false,
    });
    await this.send(() => upload.done(), key);
  }

  /** Runs an S3 call; a missing object or key is null, anything else one clear sentence. */
  private async send<T>(call: () => Promise<T>, key: string): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      // Only a missing object is an answer: a missing bucket (NoSuchBucket, also a 404) is a setup error.
      if (error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return null;
      if (error instanceof DailiesError || (error as Error).name === 'AbortError') throw error;
      const reason = error instanceof S3ServiceException ? `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})` : (error as Error).message;
      throw new DailiesError(
        'unavailable',
        `The artifact store (bucket "${this.bucket}") did not answer for "${key}": ${reason}; check S3_ENDPOINT, the bucket and the credentials.`,
        { cause: error, retryable: true },
      );
    }
  }

  private objectKey(key: string): string {
    artifactKeySegments(key);
    return this.prefix + key;
  }

  private cacheFolder(objectKey: string): string {
    return path.join(this.cacheDir, createHash('sha256').update(`${this.bucket}/${objectKey}`).digest('hex').slice(0, 32));
  }

  private missing(key: string): DailiesError {
    return new DailiesError('not_found', `The file "${key}" is no longer stored; render it again.`);
  }
}
