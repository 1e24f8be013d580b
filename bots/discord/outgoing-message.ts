import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponentWithCustomId } from 'discord.js';
import type { ArtifactReader } from '../../src/core/ports/artifact-store.ts';
import type { Button, OutgoingAttachment, OutgoingMessage } from '../../src/core/ports/chat-adapter.ts';
import { attachmentArtifact, attachmentBytes } from '../../src/storage/attachment-bytes.ts';
import { DailiesError } from '../../src/errors.ts';
import { replaceClockTimes } from '../../src/core/clock-text.ts';

/** Discord's documented caps (message content, components, uploads). */
export const LIMITS = {
  contentChars: 2000,
  buttonsPerRow: 5,
  rows: 5,
  customIdChars: 100,
  buttonLabelChars: 80,
  filesPerMessage: 10,
  /** Whole request, whatever the per-file limit (platform notes). */
  requestBytes: 25 * 1024 * 1024,
  /** Per-file default since 2025; interactions carry the server's actual `attachment_size_limit`. */
  defaultAttachmentBytes: 10 * 1024 * 1024,
} as const;

export interface MessageBody {
  content: string;
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  // Prompts are user text: an "@everyone" in one must never ping a server.
  allowed_mentions: { parse: [] };
  attachments?: { id: number; filename: string }[];
}

export interface UploadFile {
  name: string;
  data: Buffer;
  contentType: string;
}

const STYLES: Record<NonNullable<Button['style']>, APIButtonComponentWithCustomId['style']> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
};

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Rows longer than five are wrapped rather than refused, since the core lays buttons out by meaning,
 * not by Discord's grid; more than five rows (25 buttons) or a bad custom_id is a bug worth failing on.
 */
export function buttonRows(rows: readonly (readonly Button[])[] | undefined): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const wrapped: Button[][] = [];
  for (const row of rows ?? []) {
    for (let i = 0; i < row.length; i += LIMITS.buttonsPerRow) wrapped.push(row.slice(i, i + LIMITS.buttonsPerRow));
  }
  if (wrapped.length > LIMITS.rows) {
    throw new DailiesError('internal', `A Discord message holds at most ${LIMITS.rows} rows of ${LIMITS.buttonsPerRow} buttons; got ${wrapped.length} rows.`);
  }
  const seen = new Set<string>();
  return wrapped.map((row) => ({
    type: ComponentType.ActionRow,
    components: row.map((b) => {
      if (b.action.length < 1 || b.action.length > LIMITS.customIdChars) {
        throw new DailiesError('internal', `Button action "${truncate(b.action, 40)}" must be 1-${LIMITS.customIdChars} characters to fit Discord's custom_id.`);
      }
      if (seen.has(b.action)) throw new DailiesError('internal', `Button action "${b.action}" appears twice in one message; Discord needs unique custom_ids.`);
      seen.add(b.action);
      return {
        type: ComponentType.Button,
        custom_id: b.action,
        label: truncate(b.label, LIMITS.buttonLabelChars),
        style: STYLES[b.style ?? 'secondary'],
        ...(b.disabled && { disabled: true }),
      };
    }),
  }));
}

/**
 * The core's UTC times as Discord timestamps (`<t:…:t>`, `<t:…:f>` with the day), which every
 * reader's client shows in their own time zone.
 */
export function discordTimes(text: string, now = Date.now()): string {
  return replaceClockTimes(text, now, (time) => `<t:${Math.floor(time.at / 1000)}:${time.dated ? 'f' : 't'}>`);
}

export function messageBody(message: OutgoingMessage, files: readonly UploadFile[] = []): MessageBody {
  // Discord refuses a message with neither content, components nor files.
  const content = message.text.trim() === '' && files.length === 0 && !message.buttons?.some((r) => r.length) ? '\u200b' : discordTimes(message.text);
  return {
    content: truncate(content, LIMITS.contentChars),
    components: buttonRows(message.buttons),
    allowed_mentions: { parse: [] },
    ...(files.length > 0 && { attachments: files.map((f, id) => ({ id, filename: f.name })) }),
  };
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

/**
 * Reads the files to upload from the artifact store after checking them against the server's
 * per-file limit, so an oversized clip is refused here with a sentence instead of a 413 from
 * Discord. Sizes come from the store, not from `bytes`, which may describe an earlier encode.
 */
export async function readUploads(attachments: readonly OutgoingAttachment[] | undefined, limitBytes: number, artifacts: ArtifactReader | undefined): Promise<UploadFile[]> {
  const list = attachments ?? [];
  if (list.length > LIMITS.filesPerMessage) {
    throw new DailiesError('bad_input', `A Discord message takes at most ${LIMITS.filesPerMessage} files; got ${list.length}.`);
  }
  const sizes = await Promise.all(list.map(async (a) => (await attachmentArtifact(artifacts, a)).bytes));
  list.forEach((a, i) => {
    const size = sizes[i] ?? 0;
    if (size > limitBytes) {
      throw new DailiesError(
        'bad_input',
        `"${a.filename}" is ${mib(size)}, over this Discord server's ${mib(limitBytes)} upload limit; render it shorter or smaller.`,
      );
    }
  });
  const total = sizes.reduce((s, n) => s + n, 0);
  if (total > LIMITS.requestBytes) {
    throw new DailiesError('bad_input', `These files add up to ${mib(total)}; Discord takes at most ${mib(LIMITS.requestBytes)} per message, so post them separately.`);
  }
  return Promise.all(list.map(async (a) => ({ name: a.filename, data: await attachmentBytes(artifacts, a), contentType: a.contentType })));
}
