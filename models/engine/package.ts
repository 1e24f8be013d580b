import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DailiesError } from '../../src/errors.ts';
import type { ModelManifest } from './manifest.ts';
import { manifestFiles, parseManifest } from './manifest-checks.ts';

/*
 * Opening a model package: a folder with `model.json` whose files carry sha256 sums. Hashing a
 * multi-gigabyte graph takes seconds to minutes, so results are remembered per (path, size, mtime)
 * for the life of the process: workers that reload a model for every job hash it once.
 */

export type ModelFormat = 'model.json' | 'diffusers';

/** Which kind of model folder `dir` is, or a not_found error that says what a model folder needs. */
export async function detectModelFormat(dir: string): Promise<ModelFormat> {
  const abs = resolve(dir);
  if (await isFile(join(abs, 'model.json'))) return 'model.json';
  if (await isFile(join(abs, 'model_index.json'))) return 'diffusers';
  throw new DailiesError('not_found', `No model at ${abs}: pass --model a folder with model.json or a diffusers model_index.json.`);
}

/** Reads and validates `<dir>/model.json` without touching the files it lists. */
export async function readModelJson(dir: string): Promise<ModelManifest> {
  const abs = resolve(dir);
  const where = `model.json in ${abs}`;
  let text: string;
  try {
    text = await readFile(join(abs, 'model.json'), 'utf8');
  } catch (cause) {
    throw new DailiesError('not_found', `No model at ${abs}: pass --model a folder with model.json or a diffusers model_index.json.`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.replace(/\.$/, '') : 'parse error';
    throw new DailiesError('model_invalid', `${where} is not valid JSON (${detail}); fix the file or re-export the model.`, { cause });
  }
  return parseManifest(raw, where);
}

/** Remembers verified sums by (path, size, mtime); a changed file is hashed again. */
export class VerificationCache {
  private readonly sums = new Map<string, { size: number; mtimeMs: number; sha256: string }>();
  /** Files actually read and hashed (not answered from the cache). */
  hashed = 0;

  async sha256(path: string): Promise<string> {
    const info = await stat(path);
    const known = this.sums.get(path);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.sha256;
    const sum = await sha256File(path);
    this.hashed++;
    this.sums.set(path, { size: info.size, mtimeMs: info.mtimeMs, sha256: sum });
    return sum;
  }
}

const processCache = new VerificationCache();

/** Checks that every file model.json lists exists and matches its sha256. */
export async function verifyFiles(dir: string, manifest: ModelManifest, cache: VerificationCache = processCache): Promise<void> {
  const abs = resolve(dir);
  for (const { role, ref } of manifestFiles(manifest)) {
    const path = join(abs, ref.file);
    if (!ref.sha256) {
      throw new DailiesError('model_invalid', `File ${ref.file} (${role}) has no sha256 in model.json in ${abs}; add its sha256 or re-export the model.`);
    }
    if (!(await isFile(path))) {
      throw new DailiesError('model_invalid', `File ${ref.file} listed in model.json is missing from ${abs}; re-download or re-export the model.`);
    }
    if ((await cache.sha256(path)) !== ref.sha256) {
      throw new DailiesError('model_invalid', `File ${ref.file} in ${abs} does not match its sha256 in model.json; re-download or re-export the model.`);
    }
  }
}

/** model.json read, validated and every listed file verified. */
export async function openModelPackage(dir: string, cache?: VerificationCache): Promise<ModelManifest> {
  const manifest = await readModelJson(dir);
  await verifyFiles(dir, manifest, cache);
  return manifest;
}

/** Streams the file through sha256 so gigabyte graphs never sit in memory. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
