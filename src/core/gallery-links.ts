import { createHmac, timingSafeEqual } from 'node:crypto';
import { galleryPath } from './gallery.ts';

/**
 * Links to a Discord or Slack channel's gallery carry a key. The web chat can be public
 * (DAILIES_PUBLIC_URL), and those platforms' channel ids are no secret (anyone in a server sees
 * them), while the prompts and names of a private channel are: only the link /gallery answers
 * in the channel opens its page. The key is an HMAC of the channel under a secret every bot
 * process shares (kept in Redis); the web chat's own channels need none (anyone who reaches the
 * web chat reads them anyway).
 */
export class GalleryLinks {
  constructor(private readonly secret: string) {}

  /** The page of `channel` (a path), with its key when it needs one. */
  path(channel: string): string {
    return isLocal(channel) ? galleryPath(channel) : `${galleryPath(channel)}&key=${this.key(channel)}`;
  }

  /** Whether `key` opens `channel`'s gallery. */
  allows(channel: string, key: string | undefined): boolean {
    if (isLocal(channel)) return true;
    if (key === undefined) return false;
    const want = Buffer.from(this.key(channel));
    const given = Buffer.from(key);
    return want.length === given.length && timingSafeEqual(want, given);
  }

  private key(channel: string): string {
    return createHmac('sha256', this.secret).update(channel).digest('base64url').slice(0, 22);
  }
}

function isLocal(channel: string): boolean {
  return channel.startsWith('local:');
}
