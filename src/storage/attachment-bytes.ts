import type { ArtifactReader, ArtifactRef } from '../core/ports/artifact-store.ts';
import type { OutgoingAttachment } from '../core/ports/chat-adapter.ts';
import { DailiesError } from '../errors.ts';

/**
 * How chat adapters read an OutgoingAttachment: through the artifact store, by key, so the bot
 * needs no disk shared with the workers.
 */

/** The stored artifact an attachment names (its size as stored now, not as the message says); not_found when it is gone. */
export async function attachmentArtifact(reader: ArtifactReader | undefined, attachment: OutgoingAttachment): Promise<ArtifactRef> {
  if (!reader) throw new DailiesError('internal', `"${attachment.filename}" cannot be uploaded: this chat adapter was started without the artifact store.`);
  const ref = await reader.stat(attachment.key);
  if (!ref) throw new DailiesError('not_found', `The file for "${attachment.filename}" is no longer stored ("${attachment.key}"); render it again.`);
  return ref;
}

/**
 * The attachment's bytes, read from the store. Discord's and Slack's upload calls take a whole
 * buffer (they need the length before sending), and each file is capped by the platform's
 * upload limit, which callers check first with `attachmentArtifact`.
 */
export async function attachmentBytes(reader: ArtifactReader | undefined, attachment: OutgoingAttachment, signal?: AbortSignal): Promise<Buffer> {
  await attachmentArtifact(reader, attachment);
  const chunks: Buffer[] = [];
  for await (const chunk of await reader!.open(attachment.key, signal ? { signal } : {})) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
