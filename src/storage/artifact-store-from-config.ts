import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { ArtifactStore } from '../core/ports/artifact-store.ts';
import { FsArtifactStore } from './fs-artifact-store.ts';

export type ArtifactSettings = Pick<Config, 'ARTIFACTS_DIR' | 'ARTIFACTS_URL' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE'>;

/** Bucket and key prefix of an `s3://bucket[/prefix]` URL (already checked by src/config.ts). */
export function parseArtifactsUrl(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  return { bucket, prefix: prefix ? `${prefix}/` : '' };
}

/**
 * The artifact store every process of an installation uses: the bucket of ARTIFACTS_URL when set,
 * else the ARTIFACTS_DIR folder (the embedded default, one machine or a shared volume). The S3
 * module, and with it the AWS SDK, loads only when a bucket is configured.
 */
export async function artifactStoreFromConfig(config: ArtifactSettings, options: { cacheDir?: string } = {}): Promise<ArtifactStore> {
  if (!config.ARTIFACTS_URL) return new FsArtifactStore({ root: path.resolve(config.ARTIFACTS_DIR) });
  const [{ S3Client }, { S3ArtifactStore }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3-artifact-store.ts')]);
  const { bucket, prefix } = parseArtifactsUrl(config.ARTIFACTS_URL);
  const client = new S3Client({
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ENDPOINT && { endpoint: config.S3_ENDPOINT }),
    // Checksums only where S3 requires them: several S3-compatible stores reject the SDK's newer
    // default trailing checksums on PUT.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Copies for ffmpeg and the signer: this process's own disk, never shared with another process.
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), `dailies-artifact-cache-${os.userInfo().uid}`);
  return new S3ArtifactStore({ client, bucket, prefix, cacheDir });
}
