import { randomBytes } from 'node:crypto';
import type { Platform } from './ports/chat-adapter.ts';
import type { ArtifactStore } from './ports/artifact-store.ts';
import { DEFAULT_ATTACHMENT_RULES, fetchAttachment, type AttachmentRules } from '../safety/attachment-check.ts';
import type { ImageIntake } from './command-context.ts';

/**
 * The default ImageIntake: fetch the attachment under the platform's rules (own hosts only,
 * type and byte caps, same-host redirects) and keep it in the artifact store for the worker.
 */
export function createImageIntake(options: {
  artifacts: Pick<ArtifactStore, 'putBuffer'>;
  rules?: Partial<Record<Platform, AttachmentRules>>;
  /** Per-platform request headers (Slack's private file URLs need the bot token). */
  headers?: (platform: Platform) => Record<string, string> | undefined;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}): ImageIntake {
  return async (attachment, platform, signal) => {
    const rules = options.rules?.[platform] ?? DEFAULT_ATTACHMENT_RULES[platform];
    const headers = options.headers?.(platform);
    const fetched = await fetchAttachment(attachment, rules, {
      ...(signal ? { signal } : {}),
      ...(headers ? { headers } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    const safeName = fetched.filename.replace(/[^A-Za-z0-9._-]/g, '_').slice(-80) || 'image';
    return options.artifacts.putBuffer(`inputs/${randomBytes(8).toString('hex')}/${safeName}`, fetched.data, fetched.contentType);
  };
}
