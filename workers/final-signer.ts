import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RenderCredits } from '../src/core/credits.ts';
import { loadSigningIdentity, manifestHeadroom, signMp4, type Credits } from '../src/provenance/index.ts';
import { c2paWasm } from '../src/provenance/wasm.ts';
import { DEFAULT_VIDEO_MAX_BYTES } from '../src/media/index.ts';
import type { RenderRequest } from '../src/core/ports/job-queue.ts';

/**
 * Signs finals with Content Credentials, as the worker's last step before storing the file: the
 * core's credits (lineage, contributors) plus what only the worker knows (the software's version,
 * the model and the SHA-256 of its weights). Any re-encode after this drops the manifest, so the
 * encoder leaves `headroom` bytes of the budget free and nothing touches the file afterwards.
 */
export interface FinalSigner {
  /** Bytes the manifest may add to a video with these credits: keep them free in the budget. */
  headroom(credits: RenderCredits): number;
  sign(inputPath: string, outputPath: string, credits: RenderCredits, signal?: AbortSignal): Promise<{ manifestBytes: number; ms: number }>;
}

export interface FinalSignerOptions {
  /** The signing folder (DAILIES_SIGNING_DIR): key and certificates, created on first use. */
  dir: string;
  /** The model folder whose weights are hashed into every manifest. */
  modelDir: string;
  modelName: string;
}

export async function createFinalSigner(options: FinalSignerOptions): Promise<FinalSigner> {
  const [identity, weightsSha256, version] = await Promise.all([loadSigningIdentity(options.dir), weightsDigest(options.modelDir), packageVersion()]);
  // Compiling the C2PA module takes ~0.4 s of the event loop: pay it at start, not in a job.
  c2paWasm();
  const full = (credits: RenderCredits): Credits => ({ ...credits, software: { name: 'dailies', version }, model: { name: options.modelName, weightsSha256 } });
  return {
    headroom: (credits) => manifestHeadroom(full(credits), identity),
    async sign(inputPath, outputPath, credits, signal) {
      const { manifestBytes, ms } = await signMp4(inputPath, outputPath, full(credits), identity, signal);
      return { manifestBytes, ms };
    },
  };
}

/**
 * One SHA-256 over every ONNX file of the model folder (graphs and external weights), in path
 * order: the same weights give the same digest on every worker, whatever the folder is called.
 */
export async function weightsDigest(modelDir: string): Promise<string> {
  const files = (await readdir(modelDir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && /\.onnx(_data)?$|\.onnx\.data$/.test(e.name))
    .map((e) => path.relative(modelDir, path.join(e.parentPath, e.name)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    for await (const chunk of createReadStream(path.join(modelDir, file))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** The video's byte budget: the encoder's own, less what a final's manifest will add. */
export function videoBudget(signer: FinalSigner | null, request: RenderRequest): number | undefined {
  return signer && request.credits ? DEFAULT_VIDEO_MAX_BYTES - signer.headroom(request.credits) : undefined;
}

/** Signs an encoded final when its request carries credits; the file to store, and whether it is signed. */
export async function signIfCredited(signer: FinalSigner | null, request: RenderRequest, video: { path: string; contentType: string }, signal: AbortSignal): Promise<{ path: string; signed: boolean }> {
  if (!signer || !request.credits || video.contentType !== 'video/mp4') return { path: video.path, signed: false };
  const signedPath = video.path.replace(/\.mp4$/, '') + '.signed.mp4';
  await signer.sign(video.path, signedPath, request.credits, signal);
  return { path: signedPath, signed: true };
}
