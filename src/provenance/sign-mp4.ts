import type { WasmBuilder } from '@contentauth/c2pa-wasm';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DailiesError } from '../errors.ts';
import { manifestBoxBytes } from './bmff.ts';
import { coseSign1, reserveSizeFor } from './cose-sign1.ts';
import { parseCredits, type Credits } from './credits.ts';
import { buildManifest } from './manifest.ts';
import type { SigningIdentity } from './signing-identity.ts';
import { asBlob, BytesBlob, c2paWasm } from './wasm.ts';

/**
 * Embeds Content Credentials in an MP4. Must be the last step before publishing: the hash in
 * the manifest covers every box but the manifest's own, so any later remux (even
 * `ffmpeg -c copy`) drops or breaks it.
 *
 * The whole file is held in memory (the wasm signer returns the signed file as one buffer), and
 * the work runs synchronously inside wasm, blocking this thread's event loop: the first call in
 * a process compiles the 9 MB module (about 0.4 s on the design machine), later ones take
 * 25-100 ms for 0.1-2 MB. So sign in the worker, not in a chat bot's process. `signal` is
 * checked before and after that work, never during.
 *
 * The output appears complete or not at all: it is written to a temporary name next to it and
 * renamed, so signing in place (input = output) is safe too. A manifest already in the input is
 * replaced, not kept as an ingredient: what we sign is our own render, and a retried job may
 * find it signed by its first attempt.
 */
export async function signMp4(
  inputPath: string,
  outputPath: string,
  credits: Credits,
  identity: SigningIdentity,
  signal?: AbortSignal,
): Promise<{ bytes: number; manifestBytes: number; ms: number }> {
  const started = performance.now();
  const checked = parseCredits(credits);
  throwIfCancelled(signal);
  const input = await readMp4(inputPath);
  throwIfCancelled(signal);

  const reserveSize = reserveSizeFor(identity);
  let builder: WasmBuilder | undefined;
  let signed: Uint8Array;
  try {
    builder = c2paWasm().WasmBuilder.fromJson(JSON.stringify(buildManifest(checked, new Date())));
    signed = await builder.sign(
      { alg: identity.alg, reserveSize, sign: async (claim) => coseSign1(claim, identity, reserveSize) as Uint8Array<ArrayBuffer> },
      [], // no CAWG identity assertions
      'video/mp4',
      asBlob(new BytesBlob(input, 'video/mp4')),
    );
  } catch (e) {
    throw signingError(inputPath, e);
  } finally {
    builder?.free();
  }
  throwIfCancelled(signal);

  await writeAtomically(outputPath, signed);
  // The manifest box is what signing adds to an unsigned file, byte for byte: the number callers
  // leave room for under a size limit. (Measured from the output rather than as growth, because
  // re-signing replaces a manifest already there.)
  return { bytes: signed.length, manifestBytes: manifestBoxBytes(signed), ms: Math.round(performance.now() - started) };
}

/**
 * An upper bound on `manifestBytes` for these credits and this identity, known before the video
 * is encoded: leave this much room under a size limit (an upload cap) and the signed file fits.
 * The manifest is the credits (CBOR is no larger than their JSON), the signature with its
 * certificate chain, and about 1.5 KB of C2PA structure and standard assertions; 4 KB covers
 * that with room to spare.
 */
export function manifestHeadroom(credits: Credits, identity: Pick<SigningIdentity, 'alg' | 'chain'>): number {
  const manifest = buildManifest(parseCredits(credits), new Date());
  return Buffer.byteLength(JSON.stringify(manifest)) + reserveSizeFor(identity) + 4096;
}

async function readMp4(path: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DailiesError('not_found', `There is no file at ${path}; pass the path of the encoded .mp4 to sign.`, { cause: e });
    throw new DailiesError('unavailable', `Cannot read ${path} (${code ?? (e as Error).message}); check its permissions.`, { cause: e });
  }
  // ISO BMFF files open with an ftyp box; checking here gives a clearer error than the wasm's.
  if (bytes.length < 12 || bytes.toString('latin1', 4, 8) !== 'ftyp') {
    throw new DailiesError('bad_input', `${path} is not an MP4 file (it does not start with an ftyp box); sign the encoded .mp4.`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new DailiesError('unavailable', `Cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check that its folder exists and is writable.`, { cause: e });
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DailiesError('cancelled', 'Signing was cancelled; the output file was not written.', { cause: signal.reason });
}

/** The wasm throws strings such as `C2pa(InvalidAsset("…"))`. */
function signingError(path: string, e: unknown): DailiesError {
  const detail = e instanceof Error ? e.message : String(e);
  if (/InvalidAsset|UnsupportedType/.test(detail)) {
    return new DailiesError('bad_input', `${path} is not an MP4 the signer can read (${detail}); re-encode it with ffmpeg and sign again.`, { cause: e });
  }
  return new DailiesError('internal', `Embedding Content Credentials in ${path} failed (${detail}).`, { cause: e });
}
