/**
 * Where rendered videos, previews and input images live. Workers write; bots read and serve.
 * Two stores pass the same contract suite (test/conformance/artifact-store.conformance.ts): the
 * filesystem (src/storage/fs-artifact-store.ts, one machine or a shared volume) and S3-compatible
 * object storage (src/storage/s3-artifact-store.ts: S3, MinIO, R2), which lets the bot and the
 * workers run on machines that share no disk. Processes hand each other keys, never paths.
 */

/** A stored file (video, preview, input image) in the ArtifactStore. */
export interface ArtifactRef {
  key: string;
  bytes: number;
  contentType: string;
}

/** Bytes `start` to `end` of an artifact, both included (HTTP's Range form). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What the chat adapters need from the store: the size and type of a key, and its bytes. Adapters
 * read attachments through this rather than from a local path, so a bot on another machine than
 * the workers uploads and serves what they stored.
 */
export interface ArtifactReader {
  stat(key: string): Promise<ArtifactRef | null>;
  /**
   * The bytes under `key`, whole or `range` (within the artifact), as a stream read from the store
   * as it is consumed (an S3 GET, a file read): nothing is copied to disk first. Throws
   * DailiesError('not_found') when there is no such artifact. `signal` stops the read, whenever it
   * aborts (even before `open` is called): the stream ends or throws to its reader, or `open`
   * rejects, and nothing is raised where no one is listening.
   */
  open(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>>;
}

export interface ArtifactStore extends ArtifactReader {
  putFile(key: string, sourcePath: string, contentType: string): Promise<ArtifactRef>;
  putBuffer(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef>;
  /** A local file path for tools that need one (ffmpeg, the signer); remote stores download to this process's own cache first. */
  localPath(ref: ArtifactRef): Promise<string>;
  /** An address a browser can load: `/artifacts/<key>`, which the web chat serves from the store. */
  publicUrl(ref: ArtifactRef): string;
  delete(key: string): Promise<void>;
  /**
   * Deletes every artifact whose key starts with `prefix`, a folder ending in "/" (`renders/<jobId>/`),
   * and answers how many there were: retention's way to take a job's files, including those no
   * record names (fitted copies, chain segments). Nothing there is not an error, so a retried
   * sweep never fails; `signal` stops it between batches.
   */
  deletePrefix(prefix: string, options?: { signal?: AbortSignal }): Promise<number>;
  /**
   * The stored artifact under `key`, or null when there is none (one metadata read: a stat, an
   * S3 HeadObject). Writes are whole-or-nothing, so a ref here is a complete artifact: workers
   * use it to find work a crashed attempt already finished. Stores that keep no content type
   * (the filesystem) derive it from the key's extension.
   */
  stat(key: string): Promise<ArtifactRef | null>;
}
