import { createHash } from 'node:crypto';
import { DailiesError } from '../../src/errors.ts';
import { formatReport, readCredentials, type CredentialsReport } from '../../src/provenance/index.ts';
import { certificatesIn } from '../../src/provenance/pem.ts';
import { artifactUrl, keySegments, type ArtifactFiles } from './artifact-files.ts';

/**
 * Content Credentials of the files the local chat serves: GET /api/credentials/<key> (JSON) and
 * GET /credentials/<key> (a page people open from Discord or Slack) read them through one
 * `CredentialsChecker`. The key is the one `/artifacts/<key>` serves the file under, checked the
 * same way, and read from the artifact store, so nothing outside it is ever read.
 *
 * Validating runs c2pa's wasm on the whole file and blocks the event loop while it does, so a
 * file over the size cap is refused unread, files are read one at a time, and a report is kept
 * for as long as the file's bytes are unchanged (a digest is cheap next to validating).
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

/** One version of one file: a report is kept under its bytes' digest, so a file put again is read again. */
const versionOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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
    const ref = await this.files.resolveEncoded(encodedKey);
    if (!ref) return NOT_FOUND;
    const segments = keySegments(ref.key)!;
    const found = { key: ref.key, url: artifactUrl(ref.key), filename: segments.at(-1)! };

    const tooLarge = (size: number) =>
      ({ ok: false, status: 413, code: 'bad_input', message: `${found.filename} is ${mib(size)} MiB, over the ${mib(this.maxBytes)} MiB this server reads Content Credentials from.` }) as const;
    if (ref.bytes > this.maxBytes) return tooLarge(ref.bytes);

    const outcome = await this.oneAtATime(async () => {
      let bytes: Uint8Array;
      try {
        // Read from the store (the folder or a bucket), counted as it comes: it may have been
        // replaced by a larger file since the size above was read.
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of await this.files.reader.open(ref.key)) {
          total += chunk.byteLength;
          if (total > this.maxBytes) return tooLarge(total);
          chunks.push(Buffer.from(chunk));
        }
        bytes = new Uint8Array(Buffer.concat(chunks));
      } catch {
        return NOT_FOUND;
      }
      const version = versionOf(bytes);
      const cached = this.cache.get(version);
      if (cached) return cached;
      if (!isMp4(bytes)) {
        return { ok: false, status: 415, code: 'bad_input', message: `${found.filename} is not an MP4 video, the only kind of file whose Content Credentials this server reads.` } as const;
      }
      const fresh = await readCredentials(bytes, this.trustAnchorsPem !== undefined ? { trustAnchorsPem: this.trustAnchorsPem } : {});
      this.remember(version, fresh);
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
