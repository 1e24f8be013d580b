import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ArtifactReader, ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import type { ChatUser, IncomingAttachment } from '../../src/core/ports/chat-adapter.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import { DailiesError } from '../../src/errors.ts';
import { blockedError } from '../../src/core/person-block-check.ts';
import type { PersonBlock } from '../../src/core/ports/person-blocks.ts';
import { LuaScript } from '../../src/redis/lua-script.ts';
import { DEFAULT_MAX_PIXELS } from '../../src/media/decode.ts';
import { DEFAULT_ATTACHMENT_RULES } from '../../src/safety/attachment-check.ts';
import { artifactUrl } from './artifact-files.ts';
import { cleanImage, type UploadRefusal, type UploadType } from './upload-image.ts';

/**
 * Images people upload in the web chat to animate (`POST /api/uploads`), kept in the artifact store
 * under `uploads/<user id>/<random>.<ext>` for a day. A key is usable only by the person whose id
 * it carries, and only while the ledger (a Redis sorted set: key -> expiry) lists it: the core's
 * image intake copies a still to `inputs/` when a command uses it, so an upload is needed only
 * until then. Expired uploads are deleted from the store as later ones arrive.
 *
 * The limits are the local platform's attachment rules (the intake fetches the upload under them)
 * and the worker's pixel cap, so an image accepted here is never refused later.
 */

/** What a store needs to hold uploads; a read-only store (a bot that only serves) has none. */
export type UploadStore = ArtifactReader & Pick<ArtifactStore, 'putBuffer' | 'delete'>;

export interface UploadedImage {
  key: string;
  bytes: number;
  contentType: UploadType;
  width: number;
  height: number;
}

export const UPLOAD_TTL_MS = 24 * 3600 * 1000;
/** Uploads one person may keep at a time (each lasts UPLOAD_TTL_MS): a burst cannot fill the store. */
export const MAX_UPLOADS_PER_PERSON = 40;
/** How long a place stays held for an image being cleaned when the process dies before it is stored. */
const RESERVATION_MS = 10 * 60 * 1000;
const RESERVE_UPLOAD = LuaScript.fromFile(new URL('./lua/reserve-upload-1.lua', import.meta.url));
const UPLOAD_KEY = /^uploads\/(local-[0-9a-f]{16})\/[0-9a-f]{32}\.(?:png|jpg|webp)$/;

/** An upload's key as a request names it: the shape `save` makes, nothing else (no path to another artifact). */
const NOT_A_KEY = 'must be the key POST /api/uploads answered with (uploads/local-…/….png)';
export const UploadKey = z.string({ error: NOT_A_KEY }).regex(UPLOAD_KEY, { error: NOT_A_KEY });
const SWEEP_BATCH = 50;

export function canHoldUploads(store: ArtifactReader): store is UploadStore {
  const s = store as Partial<UploadStore>;
  return typeof s.putBuffer === 'function' && typeof s.delete === 'function';
}

export class LocalUploads {
  readonly maxBytes = DEFAULT_ATTACHMENT_RULES.local.maxBytes;
  readonly maxPixels = DEFAULT_MAX_PIXELS;
  private origin: string | null = null;
  // One image is decoded at a time: a burst of uploads queues instead of taking every core.
  private cleaning: Promise<unknown> = Promise.resolve();
  private readonly ledger: string;

  constructor(
    private readonly options: {
      redis: Redis;
      prefix: string;
      store: UploadStore | null;
      logger: Logger;
      now: () => number;
      maxPerPerson?: number;
      /** The person's running /block in the web chat, if any (the core's list); absent: nobody is blocked. */
      blocks?: (personId: string) => Promise<PersonBlock | null>;
    },
  ) {
    this.ledger = `${options.prefix}uploads`;
  }

  get enabled(): boolean {
    return this.options.store !== null;
  }

  /**
   * The chat's own address, which the local attachment rules accept: the core fetches an upload
   * from there. Set once the server listens, cleared when it stops.
   */
  serveFrom(origin: string | null): void {
    this.origin = origin;
  }

  /** Cleans and stores `bytes` for `user`, or says why not; nothing is stored for a refusal. */
  async save(user: ChatUser, bytes: Buffer): Promise<UploadedImage | UploadRefusal> {
    const store = this.options.store;
    if (!store) throw new DailiesError('unavailable', 'Uploading images is not enabled on this server; send the prompt without an image.');
    // A blocked person's commands are refused, so their uploads would only fill the store.
    const block = await this.options.blocks?.(user.id);
    if (block) return { status: 403, message: blockedError(block, this.options.now()).message };
    // Each person's live uploads (key -> expiry) beside the ledger. A place is held before any
    // decoding, in one step with the count, so uploads sent together cannot pass the cap.
    const mine = `${this.ledger}:by:${user.id}`;
    const cap = this.options.maxPerPerson ?? MAX_UPLOADS_PER_PERSON;
    const place = `pending:${randomBytes(8).toString('hex')}`;
    const held = await RESERVE_UPLOAD.run(this.options.redis, [mine], [this.options.now(), cap, place, this.options.now() + RESERVATION_MS, UPLOAD_TTL_MS]);
    if (held !== 1) {
      return { status: 429, message: `You have ${cap} images uploaded in the last 24 hours, the most one person may keep; use one of them or try again later.` };
    }
    try {
      const run = this.cleaning.catch(() => undefined).then(() => cleanImage(bytes, { maxBytes: this.maxBytes, maxPixels: this.maxPixels }));
      this.cleaning = run;
      const image = await run;
      if ('status' in image) {
        await this.options.redis.zrem(mine, place);
        return image;
      }
      const key = `uploads/${user.id}/${randomBytes(16).toString('hex')}.${image.ext}`;
      // Listed before it is written: whatever a crash leaves behind, the sweep finds.
      const expires = this.options.now() + UPLOAD_TTL_MS;
      await this.options.redis.multi().zadd(this.ledger, expires, key).zrem(mine, place).zadd(mine, expires, key).pexpire(mine, UPLOAD_TTL_MS).exec();
      const ref = await store.putBuffer(key, image.data, image.contentType);
      this.sweep().catch((error: unknown) => this.options.logger.warn('local chat: could not delete expired uploads', error));
      return { key, bytes: ref.bytes, contentType: image.contentType, width: image.width, height: image.height };
    } catch (error) {
      // Give the place back; left held it would lapse only after RESERVATION_MS.
      await this.options.redis.zrem(mine, place).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The upload `key` as the attachment the core's image intake fetches, when `user` uploaded it
   * and it has not expired. Anything else is refused with one sentence, the same for a key that
   * never existed and one of someone else's, so keys cannot be probed.
   */
  async attachment(user: ChatUser, key: z.infer<typeof UploadKey>): Promise<IncomingAttachment> {
    const unknown = new DailiesError('not_found', 'You have no uploaded image with that key (an upload lasts 24 hours and only its uploader can use it); attach the image again.');
    if (UPLOAD_KEY.exec(key)?.[1] !== user.id || !this.options.store) throw unknown;
    const expires = await this.options.redis.zscore(this.ledger, key);
    if (expires === null || Number(expires) <= this.options.now()) throw unknown;
    const ref = await this.options.store.stat(key);
    if (!ref) throw unknown;
    if (!this.origin) throw new DailiesError('unavailable', 'The web chat is not listening yet; send the command again in a moment.');
    return { url: this.origin + artifactUrl(key), filename: key.slice(key.lastIndexOf('/') + 1), contentType: ref.contentType, bytes: ref.bytes };
  }

  /** Deletes a batch of expired uploads: the file first, then its ledger entry, so a failed delete is tried again. */
  private async sweep(): Promise<void> {
    const store = this.options.store;
    if (!store) return;
    const expired = await this.options.redis.zrangebyscore(this.ledger, '-inf', this.options.now(), 'LIMIT', 0, SWEEP_BATCH);
    for (const key of expired) {
      await store.delete(key);
      await this.options.redis.zrem(this.ledger, key);
    }
  }
}
