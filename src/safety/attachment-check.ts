import { DailiesError } from '../errors.ts';
import type { IncomingAttachment, Platform } from '../core/chat-adapter.ts';

/**
 * Attachment checks for "animate this image". The URL comes from a chat message, so it is
 * untrusted: only the adapter's own file hosts, only HTTPS (plain HTTP only where a rule says so,
 * i.e. the local web chat), a byte cap enforced while streaming (a lying Content-Length cannot
 * exhaust memory), and redirects followed only when they stay on the same host.
 */

export interface AttachmentRules {
  /** Exact host names, or "*.example.com" for its subdomains. */
  allowedHosts: readonly string[];
  allowedContentTypes: readonly string[];
  maxBytes: number;
  allowHttp?: boolean;
}

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
const MIB = 1024 * 1024;

export const DEFAULT_ATTACHMENT_RULES: Readonly<Record<Platform, AttachmentRules>> = {
  discord: { allowedHosts: ['cdn.discordapp.com', 'media.discordapp.net'], allowedContentTypes: IMAGE_TYPES, maxBytes: 10 * MIB },
  slack: { allowedHosts: ['files.slack.com'], allowedContentTypes: IMAGE_TYPES, maxBytes: 10 * MIB },
  local: { allowedHosts: ['127.0.0.1', 'localhost', '[::1]'], allowedContentTypes: IMAGE_TYPES, maxBytes: 10 * MIB, allowHttp: true },
};

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e;
  });
}

function baseType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? '';
}

function megabytes(bytes: number): string {
  if (bytes < MIB) return `${Math.ceil(bytes / 1024)} KB`;
  return `${Math.round((bytes / MIB) * 10) / 10} MB`;
}

function parseUrl(raw: string, rules: AttachmentRules): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DailiesError('bad_input', 'The attachment link is not a valid URL; attach the image again.');
  }
  const httpOk = url.protocol === 'https:' || (rules.allowHttp === true && url.protocol === 'http:');
  if (!httpOk) throw new DailiesError('bad_input', `The attachment link uses ${url.protocol.replace(':', '')}, not https; attach the image directly in the chat.`);
  if (url.username || url.password) throw new DailiesError('bad_input', 'The attachment link carries credentials; attach the image directly in the chat.');
  if (!hostAllowed(url.host, rules.allowedHosts) && !hostAllowed(url.hostname, rules.allowedHosts)) {
    throw new DailiesError('bad_input', `Attachments from ${url.hostname} are not accepted; attach the image directly in the chat.`);
  }
  return url;
}

function checkType(contentType: string | undefined, rules: AttachmentRules): void {
  if (contentType === undefined) return;
  const type = baseType(contentType);
  if (!rules.allowedContentTypes.includes(type)) {
    throw new DailiesError('bad_input', `Attachments of type ${type || 'unknown'} are not accepted; attach a ${rules.allowedContentTypes.join(', ')} file.`);
  }
}

function checkSize(bytes: number | undefined, rules: AttachmentRules): void {
  if (bytes !== undefined && bytes > rules.maxBytes) {
    throw new DailiesError('bad_input', `The attachment is ${megabytes(bytes)}, over the ${megabytes(rules.maxBytes)} limit; attach a smaller image.`);
  }
}

/** Checks what the platform told us about the file before anything is downloaded. */
export function checkAttachment(attachment: IncomingAttachment, rules: AttachmentRules): void {
  parseUrl(attachment.url, rules);
  checkType(attachment.contentType, rules);
  checkSize(attachment.bytes, rules);
}

export interface FetchAttachmentOptions {
  signal?: AbortSignal;
  /** Stops a slow host from holding the command; default 15 s. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Extra request headers (Slack's private file URLs need the bot token). */
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
}

export interface FetchedAttachment {
  data: Uint8Array;
  contentType: string;
  filename: string;
}

export async function fetchAttachment(attachment: IncomingAttachment, rules: AttachmentRules, options: FetchAttachmentOptions = {}): Promise<FetchedAttachment> {
  checkAttachment(attachment, rules);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let url = parseUrl(attachment.url, rules);
  const maxRedirects = options.maxRedirects ?? 3;

  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await doFetch(url, { redirect: 'manual', signal, headers: options.headers });
    } catch (cause) {
      if (signal.aborted) throw new DailiesError('cancelled', 'Downloading the attachment took too long or was cancelled; try a smaller image.', { cause });
      throw new DailiesError('unavailable', 'The attachment could not be downloaded; attach it again in a moment.', { cause, retryable: true });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location || hop >= maxRedirects) throw new DailiesError('bad_input', 'The attachment link redirects too often; attach the image directly in the chat.');
      const next = new URL(location, url);
      if (next.host !== url.host || next.protocol !== url.protocol) {
        throw new DailiesError('bad_input', `The attachment link redirects to ${next.hostname}, another host; attach the image directly in the chat.`);
      }
      url = next;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DailiesError('bad_input', `The attachment could not be downloaded (HTTP ${response.status}); attach it again.`);
    }
    const contentType = response.headers.get('content-type') ?? attachment.contentType ?? '';
    checkType(contentType, rules);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > 0) checkSize(declared, rules);
    const data = await readCapped(response, rules.maxBytes);
    return { data, contentType: baseType(contentType), filename: attachment.filename };
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new DailiesError('bad_input', `The attachment is over the ${megabytes(maxBytes)} limit; attach a smaller image.`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
