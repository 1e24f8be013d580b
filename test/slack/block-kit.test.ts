import { describe, expect, it } from 'vitest';
import { BLOCK_LIMITS, formView, messageBody, submittedForm } from '../../bots/slack/block-kit.ts';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';

const thread: ThreadRef = { platform: 'slack', channelId: 'C1', threadId: '1700000000.000100' };

describe('messageBody', () => {
  it('turns button rows into actions blocks, keeping disabled buttons plain and marked', () => {
    const body = messageBody({
      text: '**Take 1** <script> & more',
      buttons: [
        [
          { action: 'vote:3:0', label: 'Vote 1', style: 'primary' },
          { action: 'vote:3:1', label: 'Vote 2', style: 'success' },
        ],
        [{ action: 'closed', label: 'Voting closed: take 2 won', style: 'primary', disabled: true }],
        [{ action: 'cancel', label: 'Cancel', style: 'danger' }, { action: 'help', label: 'Help', style: 'secondary' }],
      ],
    });
    expect(body.text).toBe('*Take 1* &lt;script&gt; &amp; more');
    expect(body.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Take 1* &lt;script&gt; &amp; more' } },
      {
        type: 'actions',
        block_id: 'row-0',
        elements: [
          { type: 'button', action_id: 'vote:3:0', value: 'vote:3:0', text: { type: 'plain_text', text: 'Vote 1', emoji: true }, style: 'primary' },
          { type: 'button', action_id: 'vote:3:1', value: 'vote:3:1', text: { type: 'plain_text', text: 'Vote 2', emoji: true }, style: 'primary' },
        ],
      },
      {
        type: 'actions',
        block_id: 'row-1',
        elements: [{ type: 'button', action_id: 'closed', value: 'disabled:closed', text: { type: 'plain_text', text: 'Voting closed: take 2 won', emoji: true } }],
      },
      {
        type: 'actions',
        block_id: 'row-2',
        elements: [
          { type: 'button', action_id: 'cancel', value: 'cancel', text: { type: 'plain_text', text: 'Cancel', emoji: true }, style: 'danger' },
          { type: 'button', action_id: 'help', value: 'help', text: { type: 'plain_text', text: 'Help', emoji: true } },
        ],
      },
    ]);
  });

  it('splits long text into sections and wraps rows longer than 25 buttons', () => {
    const long = `${'word '.repeat(1000)}`.trim();
    const row = Array.from({ length: 30 }, (_, i) => ({ action: `a${i}`, label: `B${i}` }));
    const body = messageBody({ text: long, buttons: [row] });
    const sections = body.blocks.filter((b) => b.type === 'section');
    expect(sections.length).toBe(2);
    expect(body.blocks.filter((b) => b.type === 'actions').map((b) => (b as { elements: unknown[] }).elements.length)).toEqual([25, 5]);
    expect(body.text.length).toBeLessThanOrEqual(BLOCK_LIMITS.fallbackChars);
  });

  it('refuses what Slack would refuse: long or repeated action ids', () => {
    expect(() => messageBody({ text: 'x', buttons: [[{ action: 'a'.repeat(256), label: 'x' }]] })).toThrow(/255/);
    expect(() => messageBody({ text: 'x', buttons: [[{ action: 'a', label: 'x' }], [{ action: 'a', label: 'y' }]] })).toThrow(/twice/);
  });

  it("shows the core's UTC times as date tokens each reader's client puts in their own zone", () => {
    const deadline = Date.now() + 10 * 60_000;
    const written = `${new Date(deadline).toISOString().slice(11, 16)} UTC`;
    const body = messageBody({ text: `Votes for v1: none yet · closes at ${written}.` });
    const token = `<!date^${Math.floor(deadline / 60_000) * 60}^{time}|${written}>`;
    expect(body.text).toBe(`Votes for v1: none yet · closes at ${token}.`);
    expect(JSON.stringify(body.blocks)).toContain(JSON.stringify(token).slice(1, -1));
  });

  it('never sends an empty message', () => {
    expect(messageBody({ text: '' }).text).toBe('\u200b');
    expect(messageBody({ text: ' ' }, 'clip.mp4').text).toBe('clip.mp4');
  });
});

describe('forms', () => {
  it('pre-fills a modal and reads its submission back', () => {
    const view = formView({ action: 'edit:1', title: 'Edit the prompt of this session', fields: [{ id: 'prompt', label: 'Prompt', value: 'a boat', multiline: true }] }, thread);
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks[0]).toMatchObject({ type: 'input', block_id: 'prompt', element: { type: 'plain_text_input', action_id: 'prompt', initial_value: 'a boat', multiline: true } });
    const submitted = submittedForm({ ...view, state: { values: { prompt: { prompt: { value: 'a ship' } } } } });
    expect(submitted).toEqual({ action: 'edit:1', thread, values: { prompt: 'a ship' } });
    expect(submittedForm({ callback_id: 'someone_else', private_metadata: view.private_metadata })).toBeUndefined();
  });
});
