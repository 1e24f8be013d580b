import { DailiesError } from '../errors.ts';
import type { IncomingAttachment, Platform } from '../core/ports/chat-adapter.ts';

/**
 * Attachment checks for "animate this image". The URL comes from a chat message, so it is
 * untrusted: only the adapter's own file hosts, only HTTPS, a byte cap enforced while streaming
 * (a lying Content-Length cannot exhaust memory), and redirects followed only when they stay on
 * the same host. Hosts must be written the usual way: 2130706433, 0x7f.1, 0177.0.0.1, 127.1 and
 * [::ffff:127.0.0.1] all reach loopback and are refused as spelled, whatever the rules allow.
 *
 * The local web chat has no file host of its own, only its own origin (scheme, host and the port
 * it listens on): it registers that origin while it runs (`acceptLocalChatOrigin`, called by
 * bots/local/server.ts), and the local rules accept nothing else. Every other loopback port is
 * someone else's service (Redis on 6379 among them), so "any port on 127.0.0.1" is never allowed.
 */

export interface AttachmentRules {
  /** Exact host names, or "*.example.com" for its subdomains. */
  allowedHosts: readonly string[];
  /**
   * Exact origins ("http://127.0.0.1:8080"), accepted with their own scheme, host and port only,
   * written exactly so. Plain HTTP is allowed here because the origin says so.
   */
  allowedOrigins?: readonly string[];
  allowedContentTypes: readonly string[];
  maxBytes: number;
  /** Plain HTTP for `allowedHosts` too (tests with loopback stand-ins); production rules never set it. */
  allowHttp?: boolean;
}

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
const MIB = 1024 * 1024;

/** Origins of the local web chats listening in this process, with how many registered each. */
const localChatOrigins = new Map<string, number>();

/**
 * Lets the local platform's attachments come from the web chat at `chatUrl` (its origin only)
 * until the returned function is called, when the chat stops listening.
 */
export function acceptLocalChatOrigin(chatUrl: string): () => void {
  const origin = new URL(chatUrl).origin;
  localChatOrigins.set(origin, (localChatOrigins.get(origin) ?? 0) + 1);
  let withdrawn = false;
  return () => {
    if (withdrawn) return;
    withdrawn = true;
    const n = (localChatOrigins.get(origin) ?? 1) - 1;
    if (n > 0) localChatOrigins.set(origin, n);
    else localChatOrigins.delete(origin);
  };
}

export const DEFAULT_ATTACHMENT_RULES: Readonly<Record<Platform, AttachmentRules>> = {
  discord: { allowedHosts: ['cdn.discordapp.com', 'media.discordapp.net'], allowedContentTypes: IMAGE_TYPES, maxBytes: 10 * MIB },
  slack: { allowedHosts: ['files.slack.com'], allowedContentTypes: IMAGE_TYPES, maxBytes: 10 * MIB },
  local: {
    allowedHosts: [],
    get allowedOrigins() {
      return [...localChatOrigins.keys()];
    },
    allowedContentTypes: IMAGE_TYPES,
    maxBytes: 10 * MIB,
  },
};

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e;
  });
}

/**
 * The scheme and authority exactly as written (lower-cased, without user info), or null when the
 * link has no "scheme://" to read them from. URL parsing rewrites both (hosts to their canonical
 * form, ports without leading zeros), which is how odd spellings slip past a list of hosts.
 */
function writtenOrigin(raw: string): { origin: string; host: string } | null {
  const m = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#\\]*)/iu.exec(raw.trim());
  if (!m) return null;
  const authority = m[2]!.slice(m[2]!.lastIndexOf('@') + 1).toLowerCase();
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:[^:]*$/u, '');
  return { origin: `${m[1]!.toLowerCase()}//${authority}`, host };
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
  if (url.username || url.password) throw new DailiesError('bad_input', 'The attachment link carries credentials; attach the image directly in the chat.');
  const notHttps = `The attachment link uses ${url.protocol.replace(':', '')}, not https; attach the image directly in the chat.`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DailiesError('bad_input', notHttps);
  const written = writtenOrigin(raw);
  if (!written || written.host !== url.hostname) {
    throw new DailiesError('bad_input', `The attachment link writes its host (${written?.host.slice(0, 60) || 'none'}) in an unusual form; attach the image directly in the chat.`);
  }
  if (rules.allowedOrigins?.includes(url.origin) && written.origin === url.origin) return url;
  if (!hostAllowed(url.host, rules.allowedHosts) && !hostAllowed(url.hostname, rules.allowedHosts)) {
    throw new DailiesError('bad_input', `Attachments from ${url.host} are not accepted; attach the image directly in the chat.`);
  }
  if (url.protocol === 'http:' && rules.allowHttp !== true) throw new DailiesError('bad_input', notHttps);
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
