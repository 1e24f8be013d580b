import type { IncomingAttachment } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';

/**
 * The core fetches whatever URL it is handed, so only Discord's own file hosts may pass: a URL
 * elsewhere (or a look-alike such as cdn.discordapp.com.evil.net) could make the server fetch
 * internal addresses on a user's behalf.
 */
export const DISCORD_CDN_HOSTS: ReadonlySet<string> = new Set(['cdn.discordapp.com', 'media.discordapp.net']);

export const DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** The fields of a Discord attachment this check needs (discord.js `Attachment` has them all). */
export interface DiscordAttachmentLike {
  url: string;
  name: string;
  contentType?: string | null;
  size: number;
}

export function isDiscordCdnUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.port === '' && url.username === '' && url.password === '' && DISCORD_CDN_HOSTS.has(url.hostname);
}

/** Checks an image a user attached; throws a DailiesError the user can act on. */
export function checkImageAttachment(a: DiscordAttachmentLike, maxBytes = DEFAULT_MAX_IMAGE_BYTES): IncomingAttachment {
  if (!isDiscordCdnUrl(a.url)) {
    throw new DailiesError('forbidden', `"${a.name}" is not hosted on Discord's CDN; attach the image file itself instead of a link.`);
  }
  const type = (a.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!type.startsWith('image/')) {
    throw new DailiesError('bad_input', `"${a.name}" is ${type ? `a ${type} file` : 'not recognised as an image'}; attach a PNG, JPEG or WebP image.`);
  }
  if (!Number.isFinite(a.size) || a.size <= 0 || a.size > maxBytes) {
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
    throw new DailiesError('bad_input', `"${a.name}" is ${mib(a.size)}; images may be at most ${mib(maxBytes)}.`);
  }
  return { url: a.url, filename: a.name, contentType: type, bytes: a.size };
}
