import type { App } from '@slack/bolt';
import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import type { OutgoingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { attachmentArtifact, attachmentBytes } from '../../src/storage/attachment-bytes.ts';
import { DailiesError } from '../../src/errors.ts';
import { fromSlackError, slackErrorName } from './slack-errors.ts';

/** Clips going up to Slack: checked against the upload limit before anything is posted, then uploaded into the thread. */

export async function checkAttachments(attachments: readonly OutgoingAttachment[] | undefined, maxUploadBytes: number, artifacts: ArtifactReader | undefined): Promise<void> {
  for (const a of attachments ?? []) {
    const size = (await attachmentArtifact(artifacts, a)).bytes;
    if (size > maxUploadBytes) {
      const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
      throw new DailiesError('bad_input', `"${a.filename}" is ${mib(size)}; this Slack app uploads at most ${mib(maxUploadBytes)}.`);
    }
  }
}

/** Uploads the clips into the thread; returns their Slack file ids (what `files.delete` takes). */
export async function upload(client: App['client'], thread: ThreadRef, attachments: readonly OutgoingAttachment[], artifacts: ArtifactReader | undefined): Promise<string[]> {
  // Bytes from the artifact store, not a path: the bot may share no disk with the workers.
  const files = await Promise.all(attachments.map(async (a) => ({ file: await attachmentBytes(artifacts, a), filename: a.filename, title: a.filename })));
  try {
    // filesUploadV2: files.getUploadURLExternal, the upload, then files.completeUploadExternal into the thread.
    const res = (await client.filesUploadV2({ channel_id: thread.channelId, thread_ts: thread.threadId, file_uploads: files })) as { files?: Array<{ files?: Array<{ id?: string }> }> };
    return (res.files ?? []).flatMap((done) => (done.files ?? []).flatMap((f) => (f.id ? [f.id] : [])));
  } catch (error) {
    throw fromSlackError(error, 'upload the clip');
  }
}

/**
 * Deletes uploaded files (files.delete): Slack then shows them nowhere. One already deleted, or
 * unknown, counts as done, so a removal can be run again.
 */
export async function deleteFiles(client: App['client'], ids: readonly string[]): Promise<void> {
  for (const file of ids) {
    try {
      await client.files.delete({ file });
    } catch (error) {
      const name = slackErrorName(error);
      if (name === 'file_not_found' || name === 'file_deleted') continue;
      throw fromSlackError(error, 'delete the clip');
    }
  }
}

/** The files' names, for the message text that stands beside them. */
export function attachmentNames(attachments: readonly OutgoingAttachment[] | undefined): string {
  return (attachments ?? []).map((a) => a.filename).join(', ');
}
