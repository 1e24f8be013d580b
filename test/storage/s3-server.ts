import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { loadConfig } from '../../src/config.ts';
import { artifactStoreFromConfig } from '../../src/storage/artifact-store-from-config.ts';

/**
 * An S3 API server (s3rver, objects on a temporary disk) for tests and benches, with one bucket.
 * The stores built here are the production S3 store with the AWS SDK's own client, configured
 * the way an operator configures MinIO: endpoint, path-style addressing, keys in AWS_* variables.
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Environment for a process that should use this server (a fresh prefix unless given). */
  env(prefix?: string): Record<string, string>;
  /** A store on a fresh key prefix with its own cache folder. */
  store(prefix?: string): Promise<{ store: ArtifactStore; prefix: string; cleanup(): Promise<void> }>;
  close(): Promise<void>;
}

// s3rver accepts this fixed key pair.
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export async function startS3Server(): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'dailies-s3rver-'));
  const bucket = 'dailies-test';
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const env = (prefix = `t${randomBytes(6).toString('hex')}`) => ({
    ARTIFACTS_URL: `s3://${bucket}/${prefix}`,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    ...CREDENTIALS,
  });
  // The SDK reads credentials from the environment, as it does in production.
  Object.assign(process.env, CREDENTIALS);
  return {
    endpoint,
    bucket,
    env,
    async store(prefix = `t${randomBytes(6).toString('hex')}`) {
      const cacheDir = await mkdtemp(join(tmpdir(), 'dailies-s3-cache-'));
      // Through the settings' own validation, as a process reads them.
      const store = await artifactStoreFromConfig(loadConfig(env(prefix)), { cacheDir });
      return { store, prefix, cleanup: () => rm(cacheDir, { recursive: true, force: true }) };
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
