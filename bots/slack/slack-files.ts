import type { IncomingAttachment } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { DEFAULT_ATTACHMENT_RULES, checkAttachment, type AttachmentRules } from '../../src/safety/attachment-check.ts';

/**
 * Images people share with a command or reply. The core's image intake downloads them under the
 * Slack rules (files.slack.com only, image types, byte cap, same-host redirects) with the bot
 * token from `SlackAdapter.attachmentHeaders()`; the adapter applies the same rules to what Slack
 * says about each file first, so a wrong file is refused at once, before the core sees the event.
 */

export const SLACK_ATTACHMENT_RULES: AttachmentRules = DEFAULT_ATTACHMENT_RULES.slack;

/** The fields of a Slack file object (message `files[]`) this adapter reads. */
export interface SlackFileLike {
  id?: string;
  name?: string | null;
  title?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
  /** "check_file_info" for files from other organisations: the URL fields are missing then. */
  file_access?: string;
}

export function slackFileAttachment(file: SlackFileLike, rules: AttachmentRules = SLACK_ATTACHMENT_RULES): IncomingAttachment {
  const filename = (file.name || file.title || file.id || 'image').slice(0, 200);
  // url_private serves the file inline with its own content type, which the intake checks.
  const url = file.url_private ?? file.url_private_download;
  if (!url) {
    throw new DailiesError('forbidden', `"${filename}" cannot be read by the app (files shared from other organisations are not); upload the image here instead.`);
  }
  const attachment: IncomingAttachment = {
    url,
    filename,
    ...(file.mimetype && { contentType: file.mimetype }),
    ...(typeof file.size === 'number' && { bytes: file.size }),
  };
  checkAttachment(attachment, rules);
  return attachment;
}
