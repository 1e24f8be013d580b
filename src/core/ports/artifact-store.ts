/**
 * Where rendered videos, previews and input images live. Workers write; bots read and serve.
 * The filesystem store is in src/storage; an S3-compatible store must pass the same contract
 * suite (test/conformance/artifact-store.conformance.ts).
 */

/** A stored file (video, preview, input image) in the ArtifactStore. */
export interface ArtifactRef {
  key: string;
  bytes: number;
  contentType: string;
}

export interface ArtifactStore {
  putFile(key: string, sourcePath: string, contentType: string): Promise<ArtifactRef>;
  putBuffer(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef>;
  /** A local file path for reading (downloads to a cache first for remote stores). */
  localPath(ref: ArtifactRef): Promise<string>;
  /** An address a browser can load (the local web chat serves the store's directory). */
  publicUrl(ref: ArtifactRef): string;
  delete(key: string): Promise<void>;
  /**
   * The stored artifact under `key`, or null when there is none (one metadata read: a stat, an
   * S3 HeadObject). Writes are whole-or-nothing, so a ref here is a complete artifact: workers
   * use it to find work a crashed attempt already finished. Stores that keep no content type
   * (the filesystem) derive it from the key's extension.
   */
  stat(key: string): Promise<ArtifactRef | null>;
}
