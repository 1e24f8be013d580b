import type { types } from '@slack/bolt';
import type { Button, EventOutcome, OutgoingMessage, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { chunkText, markdownToMrkdwn, slackTimes, truncate } from './slack-text.ts';

/** Block Kit's documented caps (messages, buttons, modals). */
export const BLOCK_LIMITS = {
  blocksPerMessage: 50,
  sectionChars: 3000,
  /** `text` is only the notification fallback once blocks are present; keep it short. */
  fallbackChars: 3000,
  elementsPerActions: 25,
  actionIdChars: 255,
  buttonValueChars: 2000,
  buttonTextChars: 75,
  modalTitleChars: 24,
  modalLabelChars: 2000,
  modalBlocks: 100,
  inputChars: 3000,
  privateMetadataChars: 3000,
} as const;

export const FORM_CALLBACK_ID = 'dailies_form';

export interface SlackMessageBody {
  text: string;
  blocks: types.KnownBlock[];
}

/** Marks a button's value when the core disabled it: Slack cannot grey a button out, so the adapter refuses its clicks. */
export const DISABLED_VALUE_PREFIX = 'disabled:';

function buttonElement(b: Button): types.Button {
  if (b.action.length < 1 || b.action.length > BLOCK_LIMITS.actionIdChars) {
    throw new DailiesError('internal', `Button action "${truncate(b.action, 40)}" must be 1-${BLOCK_LIMITS.actionIdChars} characters to fit Slack's action_id.`);
  }
  // Slack has two button styles; "success" reads as the main choice, "secondary" as the default.
  const style = b.disabled ? undefined : b.style === 'primary' || b.style === 'success' ? 'primary' : b.style === 'danger' ? 'danger' : undefined;
  return {
    type: 'button',
    action_id: b.action,
    // The value repeats the key, so the click carries it even where action_ids are rewritten.
    value: `${b.disabled ? DISABLED_VALUE_PREFIX : ''}${b.action}`.slice(0, BLOCK_LIMITS.buttonValueChars),
    text: { type: 'plain_text', text: truncate(b.label, BLOCK_LIMITS.buttonTextChars) || ' ', emoji: true },
    ...(style && { style }),
  };
}

/**
 * Rows become actions blocks (wrapped at 25 buttons). A disabled button keeps its place, plain
 * and unstyled, so layouts match the other platforms (a closed vote still shows its tally); its
 * value marks it, and the adapter answers a click on it instead of passing it on.
 */
export function buttonBlocks(rows: readonly (readonly Button[])[] | undefined): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  const seen = new Set<string>();
  (rows ?? []).forEach((row, r) => {
    for (const b of row) {
      if (seen.has(b.action)) throw new DailiesError('internal', `Button action "${b.action}" appears twice in one message; Slack needs unique action_ids.`);
      seen.add(b.action);
    }
    for (let i = 0; i < row.length; i += BLOCK_LIMITS.elementsPerActions) {
      const part = row.slice(i, i + BLOCK_LIMITS.elementsPerActions);
      blocks.push({ type: 'actions', block_id: i === 0 ? `row-${r}` : `row-${r}-${i}`, elements: part.map(buttonElement) });
    }
  });
  return blocks;
}

export function messageBody(message: OutgoingMessage, fallbackText?: string): SlackMessageBody {
  const mrkdwn = slackTimes(markdownToMrkdwn(message.text.trim() === '' ? (fallbackText ?? '') : message.text));
  const sections: types.KnownBlock[] =
    mrkdwn.trim() === '' ? [] : chunkText(mrkdwn, BLOCK_LIMITS.sectionChars).map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  const blocks = [...sections, ...buttonBlocks(message.buttons)];
  if (blocks.length > BLOCK_LIMITS.blocksPerMessage) {
    throw new DailiesError('internal', `A Slack message holds at most ${BLOCK_LIMITS.blocksPerMessage} blocks; this one needs ${blocks.length}.`);
  }
  // Slack refuses a message with neither text nor blocks; a zero-width space keeps it valid.
  const text = truncate(mrkdwn, BLOCK_LIMITS.fallbackChars) || '\u200b';
  return { text, blocks };
}

export type Form = NonNullable<EventOutcome['openForm']>;

interface FormMetadata {
  a: string;
  t: ThreadRef;
}

/** A modal pre-filled with the form's values; the action and thread ride in private_metadata. */
export function formView(form: Form, thread: ThreadRef): types.ModalView {
  if (form.fields.length < 1 || form.fields.length > BLOCK_LIMITS.modalBlocks) {
    throw new DailiesError('internal', `A Slack form holds 1-${BLOCK_LIMITS.modalBlocks} fields; got ${form.fields.length}.`);
  }
  const metadata = JSON.stringify({ a: form.action, t: thread } satisfies FormMetadata);
  if (metadata.length > BLOCK_LIMITS.privateMetadataChars) {
    throw new DailiesError('internal', `Form action "${truncate(form.action, 40)}" is too long for a Slack modal's private_metadata.`);
  }
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK_ID,
    private_metadata: metadata,
    title: { type: 'plain_text', text: truncate(form.title, BLOCK_LIMITS.modalTitleChars) || 'Edit', emoji: true },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: form.fields.map((f) => ({
      type: 'input',
      block_id: f.id,
      label: { type: 'plain_text', text: truncate(f.label, BLOCK_LIMITS.modalLabelChars) || f.id, emoji: true },
      element: {
        type: 'plain_text_input',
        action_id: f.id,
        multiline: f.multiline ?? false,
        initial_value: f.value.slice(0, BLOCK_LIMITS.inputChars),
        max_length: BLOCK_LIMITS.inputChars,
      },
    })),
  };
}

/** The form's action, thread and values from a view_submission; undefined when it is not ours. */
export function submittedForm(view: {
  callback_id?: string;
  private_metadata?: string;
  state?: { values?: Record<string, Record<string, { value?: string | null }>> };
}): { action: string; thread: ThreadRef; values: Record<string, string> } | undefined {
  if (view.callback_id !== FORM_CALLBACK_ID || !view.private_metadata) return undefined;
  let meta: FormMetadata;
  try {
    meta = JSON.parse(view.private_metadata) as FormMetadata;
  } catch {
    return undefined;
  }
  if (typeof meta?.a !== 'string' || typeof meta.t?.channelId !== 'string' || typeof meta.t?.threadId !== 'string') return undefined;
  const values: Record<string, string> = {};
  for (const [blockId, inputs] of Object.entries(view.state?.values ?? {})) {
    for (const input of Object.values(inputs)) values[blockId] = input.value ?? '';
  }
  return { action: meta.a, thread: { platform: 'slack', channelId: meta.t.channelId, threadId: meta.t.threadId }, values };
}
