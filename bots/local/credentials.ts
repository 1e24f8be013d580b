import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { DailiesError } from '../../src/errors.ts';
import { formatReport, readCredentials, type CredentialsReport } from '../../src/provenance/index.ts';
import { certificatesIn } from '../../src/provenance/pem.ts';
import { artifactUrl, keySegments, type ArtifactFiles } from './artifact-files.ts';

/**
 * Content Credentials of the files the local chat serves: GET /api/credentials/<key> (JSON) and
 * GET /credentials/<key> (a page people open from Discord or Slack) read them through one
 * `CredentialsChecker`. The key is the one `/artifacts/<key>` serves the file under, checked the
 * same way, so nothing outside the artifacts directory is ever read.
 *
 * Validating runs c2pa's wasm on the whole file and blocks the event loop while it does, so a
 * file over the size cap is refused unread, files are read one at a time, and a report is kept
 * for as long as the file is unchanged.
 */

/** The JSON GET /api/credentials/<key> answers with: the report plus its plain-text form. */
export type CredentialsBody = CredentialsReport & { text: string };

export type CredentialsLookup =
  | { ok: true; key: string; url: string; filename: string; report: CredentialsReport }
  | { ok: false; status: 404 | 413 | 415; code: 'not_found' | 'bad_input'; message: string };

export interface CredentialsCheckerOptions {
  /** Larger files are refused with 413 unread: use the chat's upload limit (every attachment fits under it). */
  maxBytes: number;
  /** PEM certificate(s) to trust (the signing identity's ca.pem): files signed under them read as `trusted`. */
  trustAnchorsPem?: string;
  /** Reports kept for unchanged files. Default 64. */
  cacheSize?: number;
}

/**
 * Where the page showing the Content Credentials of the file served at /artifacts/<key> is (the
 * JSON is at the same key under /api/credentials/). Prefix the server's public URL to link it
 * from another platform.
 */
export function credentialsPageUrl(key: string): string {
  return '/credentials/' + key.split('/').map(encodeURIComponent).join('/');
}

export function credentialsBody(report: CredentialsReport): CredentialsBody {
  return {
    state: report.state,
    problems: report.problems,
    issuer: report.issuer,
    signedAt: report.signedAt,
    generator: report.generator,
    credits: report.credits,
    text: formatReport(report),
  };
}

const NOT_FOUND = { ok: false, status: 404, code: 'not_found', message: 'There is no such file.' } as const;

/** ISO BMFF (MP4) files open with an `ftyp` box: 4 bytes of size, then the type. */
function isMp4(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70;
}

/** One version of one file: a report is kept under it until the file changes. */
const versionOf = (info: Stats) => `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

export class CredentialsChecker {
  private readonly maxBytes: number;
  private readonly trustAnchorsPem: string | undefined;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CredentialsReport>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly files: ArtifactFiles,
    options: CredentialsCheckerOptions,
  ) {
    this.maxBytes = options.maxBytes;
    this.cacheSize = options.cacheSize ?? 64;
    if (options.trustAnchorsPem !== undefined && certificatesIn(options.trustAnchorsPem).length === 0) {
      // Found at start rather than as a 400 on every request later.
      throw new DailiesError('bad_input', "The local chat's trust anchors hold no PEM certificate; pass the signing identity's ca.pem.");
    }
    this.trustAnchorsPem = options.trustAnchorsPem;
  }

  /** The report for the file at `/artifacts/<encodedKey>` (the key as it appears in the URL path, still percent-encoded). */
  async check(encodedKey: string): Promise<CredentialsLookup> {
    const real = await this.files.resolveEncoded(encodedKey);
    if (!real) return NOT_FOUND;
    // resolveEncoded accepted it, so it decodes and its segments are safe.
    const key = encodedKey.split('/').map((s) => decodeURIComponent(s)).join('/');
    const segments = keySegments(key)!;
    const found = { key, url: artifactUrl(key), filename: segments.at(-1)! };

    const tooLarge = (size: number) =>
      ({ ok: false, status: 413, code: 'bad_input', message: `${found.filename} is ${mib(size)} MiB, over the ${mib(this.maxBytes)} MiB this server reads Content Credentials from.` }) as const;
    let info: Stats;
    try {
      info = await stat(real);
    } catch {
      return NOT_FOUND;
    }
    if (info.size > this.maxBytes) return tooLarge(info.size);
    const known = this.cache.get(versionOf(info));
    if (known) return { ok: true, ...found, report: known };

    const outcome = await this.oneAtATime(async () => {
      let bytes: Uint8Array;
      let openedKey: string;
      let handle: FileHandle | undefined;
      try {
        handle = await open(real, 'r');
        // Measured again on the open file: it may have been replaced while this waited its turn.
        const opened = await handle.stat();
        openedKey = versionOf(opened);
        const cached = this.cache.get(openedKey);
        if (cached) return cached;
        if (opened.size > this.maxBytes) return tooLarge(opened.size);
        bytes = new Uint8Array(await handle.readFile());
      } catch {
        return NOT_FOUND;
      } finally {
        await handle?.close();
      }
      if (bytes.length > this.maxBytes) return tooLarge(bytes.length);
      if (!isMp4(bytes)) {
        return { ok: false, status: 415, code: 'bad_input', message: `${found.filename} is not an MP4 video, the only kind of file whose Content Credentials this server reads.` } as const;
      }
      const fresh = await readCredentials(bytes, this.trustAnchorsPem !== undefined ? { trustAnchorsPem: this.trustAnchorsPem } : {});
      this.remember(openedKey, fresh);
      return fresh;
    });
    return 'ok' in outcome ? outcome : { ok: true, ...found, report: outcome };
  }

  /** Validation blocks the event loop and holds the whole file: never two at once. */
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.catch(() => undefined).then(work);
    this.tail = run;
    return run;
  }

  private remember(key: string, report: CredentialsReport): void {
    this.cache.delete(key);
    this.cache.set(key, report);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
