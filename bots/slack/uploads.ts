import { readFile, stat } from 'node:fs/promises';
import type { App } from '@slack/bolt';
import type { OutgoingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { fromSlackError } from './slack-errors.ts';

/** Clips going up to Slack: checked against the upload limit before anything is posted, then uploaded into the thread. */

export async function checkAttachments(attachments: readonly OutgoingAttachment[] | undefined, maxUploadBytes: number): Promise<void> {
  for (const a of attachments ?? []) {
    let size: number;
    try {
      size = (await stat(a.path)).size;
    } catch (error) {
      throw new DailiesError('not_found', `The clip "${a.filename}" to upload is missing on disk.`, { cause: error });
    }
    if (size > maxUploadBytes) {
      const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
      throw new DailiesError('bad_input', `"${a.filename}" is ${mib(size)}; this Slack app uploads at most ${mib(maxUploadBytes)}.`);
    }
  }
}

export async function upload(client: App['client'], thread: ThreadRef, attachments: readonly OutgoingAttachment[]): Promise<void> {
  const files = await Promise.all(attachments.map(async (a) => ({ file: await readFile(a.path), filename: a.filename, title: a.filename })));
  try {
    // filesUploadV2: files.getUploadURLExternal, the upload, then files.completeUploadExternal into the thread.
    await client.filesUploadV2({ channel_id: thread.channelId, thread_ts: thread.threadId, file_uploads: files });
  } catch (error) {
    throw fromSlackError(error, 'upload the clip');
  }
}

/** The files' names, for the message text that stands beside them. */
export function attachmentNames(attachments: readonly OutgoingAttachment[] | undefined): string {
  return (attachments ?? []).map((a) => a.filename).join(', ');
}
