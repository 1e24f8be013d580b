import { afterEach, describe, expect, test } from 'vitest';
import type { ActionEvent, CommandEvent, EventOutcome, ReplyEvent } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { SESSION_BUTTONS, startRig, videoCore, type DiscordRig } from './discord-harness.ts';
import { DEFAULT_USER, MODERATOR, type RecordedCall } from './stand-in/discord-stand-in.ts';

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const callsAfter = (r: DiscordRig, t: number) => r.standIn.calls.filter((c) => c.time >= t);
const isCallback = (id: string) => (c: RecordedCall) => c.method === 'POST' && c.path.startsWith(`/interactions/${id}/`) && c.path.endsWith('/callback');

async function startSession(r: DiscordRig, prompt = 'a red fox running through snow') {
  const sent = r.standIn.command('video', { prompt, takes: 4 });
  const settled = await r.waitSettled(sent.id);
  const thread = settled.outcome?.thread;
  if (!thread) throw new Error('no session thread');
  return { ...sent, thread, settled };
}

describe('slash commands', () => {
  test('/video is deferred within the deadline, becomes the session message, and a thread starts from it', async () => {
    rig = await startRig();
    const { id, dispatchedAt, thread, settled } = await startSession(rig);

    const calls = callsAfter(rig, dispatchedAt);
    const callback = calls.find(isCallback(id))!;
    const deferLatencyMs = callback.time - dispatchedAt;
    console.info(`defer latency (dispatch -> callback POST): ${deferLatencyMs.toFixed(1)} ms; adapter ackMs ${settled.ackMs} ms`);
    expect(callback.json).toEqual({ type: 5, data: { flags: 0 } });
    expect(calls.indexOf(callback)).toBe(0);
    expect(deferLatencyMs).toBeLessThan(1000);

    const original = calls.find((c) => c.method === 'PATCH' && c.path.endsWith('/messages/@original'))!;
    expect(original.path).toMatch(new RegExp(`^/webhooks/${rig.standIn.appId}/`));
    expect(original.json.content).toContain('a red fox running through snow');
    const starter = rig.standIn.channelMessages(rig.standIn.defaultChannelId).find((m) => m.content.includes('red fox'))!;

    const threadCall = calls.find((c) => c.path.endsWith('/threads'))!;
    expect(threadCall.path).toBe(`/channels/${rig.standIn.defaultChannelId}/messages/${starter.id}/threads`);
    expect(threadCall.headers.authorization).toBe(`Bot ${rig.standIn.token}`);
    expect(threadCall.json.name).toBe('a red fox running through snow');
    expect(callback.time).toBeLessThan(original.time);
    expect(original.time).toBeLessThan(threadCall.time);
    expect(thread).toEqual({ platform: 'discord', channelId: rig.standIn.defaultChannelId, threadId: starter.id });

    const event = rig.events[0] as CommandEvent;
    expect(event).toMatchObject({ kind: 'command', platform: 'discord', id, name: 'video', channelId: rig.standIn.defaultChannelId, options: { prompt: 'a red fox running through snow', takes: 4 } });
    expect(event.thread).toBeUndefined();
    expect(event.user).toEqual({ id: DEFAULT_USER.id, name: 'Ada', canModerate: false });
    // The deferral went out before the core ran: the event carries when, for the ack-latency metric.
    expect(event.ackedAt).toBeGreaterThanOrEqual(event.receivedAt);
  });

  test('a burst of 20 commands is acknowledged, each well within 3 s, even while the core is slow', async () => {
    rig = await startRig();
    rig.core = async () => {
      await new Promise((r) => setTimeout(r, 200));
      return { ephemeral: 'ok' };
    };
    const sent = Array.from({ length: 20 }, (_, n) => rig!.standIn.command('status', {}, { id: `20000000000000010${n}`, name: `user${n}` }));
    const latencies = await Promise.all(sent.map(async (s) => (await rig!.standIn.waitForCall(isCallback(s.id))).time - s.dispatchedAt));
    await Promise.all(sent.map((s) => rig!.waitSettled(s.id)));
    const sorted = [...latencies].sort((a, b) => a - b);
    console.info(`burst defer latency over 20: median ${sorted[10]!.toFixed(1)} ms, max ${sorted[19]!.toFixed(1)} ms`);
    expect(sorted[19]).toBeLessThan(1500);
  });

  test('status is answered privately: ephemeral defer, then the text in the deferred reply', async () => {
    rig = await startRig();
    rig.core = async () => ({ ephemeral: 'Queue: 2 renders waiting.' });
    const { id, dispatchedAt } = rig.standIn.command('status');
    await rig.waitSettled(id);
    const calls = callsAfter(rig, dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 5, data: { flags: 64 } });
    const edit = calls.find((c) => c.method === 'PATCH' && c.path.endsWith('/@original'))!;
    expect(edit.json.content).toBe('Queue: 2 renders waiting.');
    expect(rig.standIn.ephemeralsFor(DEFAULT_USER.id).map((m) => m.content)).toContain('Queue: 2 renders waiting.');
    expect(rig.standIn.channelMessages(rig.standIn.defaultChannelId).some((m) => m.content.includes('Queue'))).toBe(false);
  });

  test('a /video the core refuses leaves no public trace: placeholder deleted, refusal sent ephemerally', async () => {
    rig = await startRig();
    rig.core = async () => {
      throw new DailiesError('policy_refused', 'That prompt is not allowed here; try describing the scene differently.');
    };
    const { id, dispatchedAt } = rig.standIn.command('video', { prompt: 'something refused' });
    await rig.waitSettled(id);
    const shape = (c: RecordedCall) => `${c.method} ${c.path.startsWith('/interactions/') ? 'callback' : c.path.endsWith('/@original') ? 'original' : c.path.startsWith('/webhooks/') ? 'followup' : c.path}`;
    expect(callsAfter(rig, dispatchedAt).map(shape)).toEqual(['POST callback', 'DELETE original', 'POST followup']);
    const followUp = callsAfter(rig, dispatchedAt).at(-1)!;
    expect(followUp.json).toMatchObject({ content: '⚠️ That prompt is not allowed here; try describing the scene differently.', flags: 64 });
    expect(rig.standIn.channelMessages(rig.standIn.defaultChannelId)).toEqual([]);
  });

  test('/refine inside the session thread carries the thread and is deferred ephemerally', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    rig.core = async () => ({});
    const { id, dispatchedAt } = rig.standIn.command('refine', { text: 'at night' }, DEFAULT_USER, thread.threadId);
    await rig.waitSettled(id);
    const event = rig.events.at(-1) as CommandEvent;
    expect(event).toMatchObject({ name: 'refine', options: { text: 'at night' }, channelId: thread.channelId, thread });
    const calls = callsAfter(rig, dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 5, data: { flags: 64 } });
    // Nothing to say: the private "thinking…" is removed rather than left hanging.
    expect(calls.at(-1)!.method).toBe('DELETE');
  });

  test('autocomplete answers with recent prompts and takes (type 8, at most 25 choices)', async () => {
    rig = await startRig();
    await startSession(rig, 'a lighthouse in a storm');
    const prompts = rig.standIn.autocomplete('video', { name: 'prompt', type: 3, typed: 'light' });
    const promptAnswer = await rig.standIn.waitForCall(isCallback(prompts.id));
    expect(promptAnswer.json).toEqual({ type: 8, data: { choices: [{ name: 'a lighthouse in a storm', value: 'a lighthouse in a storm' }] } });
    expect(promptAnswer.time - prompts.dispatchedAt).toBeLessThan(1000);

    const takes = rig.standIn.autocomplete('finalize', { name: 'take', type: 4, typed: '2' });
    const takeAnswer = await rig.standIn.waitForCall(isCallback(takes.id));
    expect(takeAnswer.json).toEqual({ type: 8, data: { choices: [{ name: 'Take 2', value: 2 }] } });
  });

  test('a slow suggestion provider falls back to memory before the 3 s deadline', async () => {
    rig = await startRig({ adapter: { suggest: () => new Promise(() => undefined), suggestDeadlineMs: 200 } });
    const typed = rig.standIn.autocomplete('vary', { name: 'take', type: 4, typed: '' });
    const answer = await rig.standIn.waitForCall(isCallback(typed.id));
    expect(answer.status).toBe(204);
    expect(answer.json.data.choices).toHaveLength(4);
    expect(answer.time - typed.dispatchedAt).toBeLessThan(1000);
  });

  test('Manage Messages in the interaction member permissions makes canModerate', async () => {
    rig = await startRig();
    rig.core = async () => ({});
    const a = rig.standIn.command('cancel', {}, MODERATOR);
    const b = rig.standIn.command('cancel', {}, DEFAULT_USER);
    await rig.waitSettled(a.id);
    await rig.waitSettled(b.id);
    const byId = new Map(rig.events.map((e) => [e.id, e.user]));
    expect(byId.get(a.id)).toEqual({ id: MODERATOR.id, name: 'Mo', canModerate: true });
    expect(byId.get(b.id)!.canModerate).toBe(false);
  });

  test('an interaction answered too late is logged and ignored; the next one works', async () => {
    rig = await startRig();
    rig.standIn.interactionDeadlineMs = -1;
    const late = rig.standIn.command('help');
    await rig.standIn.waitUntil(() => rig!.logs.find((l) => l.message.includes('expired')), 3000);
    expect(rig.events.some((e) => e.id === late.id)).toBe(false);
    rig.standIn.interactionDeadlineMs = 3000;
    rig.core = async () => ({ ephemeral: 'Use /video to start.' });
    const next = rig.standIn.command('help');
    await rig.waitSettled(next.id);
    expect(rig.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('the session thread', () => {
  test('a post repeated with the same key is one message (enforced nonce), brought to the latest text', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    // A bot that posted, died before recording it, and posts the same item again after restart.
    const first = await rig.adapter.post(thread, { text: 'Queued: 1st in line.' }, { key: 'j1:progress:0' });
    const again = await rig.adapter.post(thread, { text: 'Done.' }, { key: 'j1:progress:0' });
    expect(again).toEqual(first);
    expect(rig.standIn.messages.get(first.messageId)!.content).toBe('Done.');
    const other = await rig.adapter.post(thread, { text: 'Done.' }, { key: 'j2:progress:0' });
    const plain = await rig.adapter.post(thread, { text: 'Done.' });
    expect(new Set([first.messageId, other.messageId, plain.messageId]).size).toBe(3);
  });

  test("the core's UTC times reach Discord as timestamps each reader's client shows in their own zone", async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    const deadline = Date.now() + 10 * 60_000;
    const blockEnd = Date.now() + 3 * 86_400_000;
    const minute = (ms: number) => Math.floor(ms / 60_000) * 60;
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const end = new Date(blockEnd);
    const dated = `${end.getUTCDate()} ${end.toUTCString().slice(8, 11)}${end.getUTCFullYear() !== new Date().getUTCFullYear() ? ` ${end.getUTCFullYear()}` : ''} ${hhmm(blockEnd)} UTC`;
    const posted = await rig.adapter.post(thread, { text: `closes at ${hhmm(deadline)} UTC; blocked until ${dated}.` });
    expect(rig.standIn.messages.get(posted.messageId)!.content).toBe(`closes at <t:${minute(deadline)}:t>; blocked until <t:${minute(blockEnd)}:f>.`);
  });

  test('posts and edits after the first reply use the bot token on the thread, never the webhook', async () => {
    rig = await startRig();
    const { thread, dispatchedAt } = await startSession(rig);
    // Renders can outlive the interaction token: expire it, everything must still work.
    rig.standIn.interactionTokenTtlMs = 0;
    const starter = { thread, messageId: thread.threadId };
    const posted = await rig.adapter.post(thread, { text: 'Rendering… step 4/20', buttons: [[{ action: `cancel:job1`, label: 'Cancel', style: 'danger' }]] });
    await rig.adapter.edit(posted, { text: 'Rendering… step 12/20' });
    await rig.adapter.edit(starter, { text: '**a red fox running through snow**\nv1 ready', buttons: SESSION_BUTTONS('s1') });

    const later = callsAfter(rig, dispatchedAt).filter((c) => !c.path.startsWith('/interactions/'));
    const afterFirstReply = later.slice(later.findIndex((c) => c.path.endsWith('/@original')) + 1);
    expect(afterFirstReply.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /channels/${thread.channelId}/messages/${thread.threadId}/threads`,
      `POST /channels/${thread.threadId}/messages`,
      `PATCH /channels/${thread.threadId}/messages/${posted.messageId}`,
      // The starter lives in the parent channel and shares the thread's id.
      `PATCH /channels/${thread.channelId}/messages/${thread.threadId}`,
    ]);
    for (const c of afterFirstReply) {
      expect(c.headers.authorization).toBe(`Bot ${rig.standIn.token}`);
      expect(c.status).toBeLessThan(300);
    }
    expect(rig.standIn.messages.get(posted.messageId)!.content).toBe('Rendering… step 12/20');
    expect(rig.standIn.messages.get(thread.threadId)!.content).toContain('v1 ready');
    // Prompts are user text: no @everyone pings.
    expect(afterFirstReply[1]!.json.allowed_mentions).toEqual({ parse: [] });
  });

  test('buttons become action rows of at most 5, with custom_id = action', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    const starter = rig.standIn.messages.get(thread.threadId)!;
    expect(starter.components).toEqual([
      { type: 1, components: [1, 2, 3, 4].map((n) => ({ type: 2, custom_id: expect.stringMatching(new RegExp(`^vote:\\d+:${n}$`)), label: `Take ${n}`, style: 2 })) },
      {
        type: 1,
        components: [
          { type: 2, custom_id: expect.stringMatching(/^edit:/), label: 'Edit prompt', style: 1 },
          { type: 2, custom_id: expect.stringMatching(/^finalize:/), label: 'Finalize', style: 3 },
        ],
      },
    ]);

    const seven = Array.from({ length: 7 }, (_, n) => ({ action: `pick:s:1:${n}`, label: `#${n}` }));
    const wrapped = await rig.adapter.post(thread, { text: 'pick one', buttons: [seven] });
    const rows = rig.standIn.messages.get(wrapped.messageId)!.components as { components: { custom_id: string }[] }[];
    expect(rows.map((r) => r.components.length)).toEqual([5, 2]);

    const before = rig.standIn.calls.length;
    const tooMany = Array.from({ length: 6 }, (_, r) => [{ action: `row:${r}`, label: 'x' }]);
    await expect(rig.adapter.post(thread, { text: 'x', buttons: tooMany })).rejects.toMatchObject({ code: 'internal' });
    await expect(rig.adapter.post(thread, { text: 'x', buttons: [[{ action: 'a'.repeat(101), label: 'x' }]] })).rejects.toThrow(/custom_id/);
    expect(rig.standIn.calls.length).toBe(before);
  });

  test('Edit prompt opens a pre-filled modal (type 9); its submit becomes an ActionEvent with values', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig, 'a paper boat on a river');
    const video = videoCore(rig.adapter);
    rig.core = async (event): Promise<EventOutcome> => {
      if (event.kind === 'action' && event.action.startsWith('edit:')) {
        return { openForm: { action: 'edit-prompt-submit:s1', title: 'Edit the prompt', fields: [{ id: 'prompt', label: 'Prompt', value: 'a paper boat on a river', multiline: true }] } };
      }
      if (event.kind === 'action') return { ephemeral: 'Prompt updated; rendering v2.' };
      return video(event);
    };
    const editButton = (rig.standIn.messages.get(thread.threadId)!.components as { components: { custom_id: string }[] }[])[1]!.components[0]!.custom_id;
    const click = rig.standIn.click(thread.threadId, editButton);
    const modal = await rig.standIn.waitForCall(isCallback(click.id));
    expect(modal.time - click.dispatchedAt).toBeLessThan(2500);
    expect(modal.json).toEqual({
      type: 9,
      data: {
        custom_id: 'edit-prompt-submit:s1',
        title: 'Edit the prompt',
        components: [{ type: 18, label: 'Prompt', component: { type: 4, custom_id: 'prompt', style: 2, value: 'a paper boat on a river', max_length: 4000, required: true } }],
      },
    });
    expect(rig.events.at(-1)).toMatchObject({ kind: 'action', action: editButton, thread });

    const submit = rig.standIn.submitModal('edit-prompt-submit:s1', { prompt: 'a paper boat on a river at dawn' }, { messageId: thread.threadId });
    await rig.waitSettled(submit.id);
    const submitted = rig.events.at(-1) as ActionEvent;
    expect(submitted).toMatchObject({ kind: 'action', id: submit.id, action: 'edit-prompt-submit:s1', values: { prompt: 'a paper boat on a river at dawn' }, thread });
    const calls = callsAfter(rig, submit.dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 6 });
    expect(calls[1]!.json).toMatchObject({ content: 'Prompt updated; rendering v2.', flags: 64 });
  });

  test('a form the core is too slow to produce falls back to a deferred update and a hint', async () => {
    rig = await startRig({ adapter: { formDeadlineMs: 100 } });
    const { thread } = await startSession(rig);
    rig.core = async () => {
      await new Promise((r) => setTimeout(r, 300));
      return { openForm: { action: 'edit-prompt-submit:s1', title: 'Edit', fields: [{ id: 'prompt', label: 'Prompt', value: 'x' }] } };
    };
    const click = rig.standIn.click(thread.threadId, (rig.standIn.messages.get(thread.threadId)!.components as { components: { custom_id: string }[] }[])[1]!.components[0]!.custom_id);
    await rig.waitSettled(click.id);
    const calls = callsAfter(rig, click.dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 6 });
    expect(calls[0]!.time - click.dispatchedAt).toBeLessThan(1000);
    expect(calls[1]!.json).toMatchObject({ content: 'The form took too long to open; use /refine to change the prompt.', flags: 64 });
  });

  test('a vote button is acknowledged with a deferred update before the core runs', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    let ackedBeforeCore = false;
    rig.core = async (event) => {
      ackedBeforeCore = rig!.standIn.calls.some(isCallback(event.id));
      return { ephemeral: 'Vote counted for take 2.' };
    };
    const vote = (rig.standIn.messages.get(thread.threadId)!.components as { components: { custom_id: string }[] }[])[0]!.components[1]!.custom_id;
    const click = rig.standIn.click(thread.threadId, vote, MODERATOR);
    await rig.waitSettled(click.id);
    expect(ackedBeforeCore).toBe(true);
    const calls = callsAfter(rig, click.dispatchedAt);
    expect(calls[0]!.json).toEqual({ type: 6 });
    expect(calls[0]!.time - click.dispatchedAt).toBeLessThan(1000);
    expect(rig.events.at(-1)).toMatchObject({ kind: 'action', action: vote, thread, user: { id: MODERATOR.id, canModerate: true } });
  });

  test('a 429 with Retry-After on an edit is retried by discord.js; nothing crashes', async () => {
    rig = await startRig();
    const { thread } = await startSession(rig);
    const posted = await rig.adapter.post(thread, { text: 'step 1/20' });
    rig.standIn.rateLimitNext('PATCH', new RegExp(`^/channels/${thread.threadId}/messages/${posted.messageId}$`), 0.4);
    const t0 = performance.now();
    await rig.adapter.edit(posted, { text: 'step 2/20' });
    const edits = rig.standIn.calls.filter((c) => c.method === 'PATCH' && c.path.endsWith(posted.messageId) && c.time >= t0);
    expect(edits.map((c) => c.status)).toEqual([429, 200]);
    expect(edits[1]!.time - edits[0]!.time).toBeGreaterThanOrEqual(390);
    expect(rig.standIn.messages.get(posted.messageId)!.content).toBe('step 2/20');
    expect(rig.logs.some((l) => l.level === 'warn' && l.message.includes('rate limited'))).toBe(true);
    await expect(rig.adapter.post(thread, { text: 'still alive' })).resolves.toMatchObject({ thread });
  });
});

describe('thread replies', () => {
  test('with MESSAGE_CONTENT, a plain reply in the bot thread is a ReplyEvent; bots and other threads are ignored', async () => {
    rig = await startRig({ messageContent: true });
    expect(rig.standIn.gateway.hasMessageContent).toBe(true);
    const { thread } = await startSession(rig);
    rig.core = async () => ({});
    const reply = rig.standIn.userMessage(thread.threadId, 'make it snow harder', { user: MODERATOR });
    await rig.waitSettled(reply.id);
    const event = rig.events.at(-1) as ReplyEvent;
    expect(event).toEqual({
      id: reply.id,
      platform: 'discord',
      workspaceId: rig.standIn.guildId,
      kind: 'reply',
      user: { id: MODERATOR.id, name: 'Mo', canModerate: true },
      receivedAt: expect.any(Number),
      thread,
      text: 'make it snow harder',
    });

    const count = rig.events.length;
    rig.standIn.userMessage(thread.threadId, 'beep', { user: { id: '300000000000000003', name: 'OtherBot', bot: true } });
    await rig.adapter.post(thread, { text: 'the bot itself' });
    rig.standIn.userMessage(rig.standIn.defaultChannelId, 'not in a thread');
    const marker = rig.standIn.userMessage(thread.threadId, 'marker');
    await rig.waitSettled(marker.id);
    expect(rig.events.slice(count).map((e) => (e as ReplyEvent).text)).toEqual(['marker']);
  });

  test('without MESSAGE_CONTENT the intent is not requested, and an @mention still refines (mention stripped)', async () => {
    rig = await startRig({ messageContent: false, standIn: { messageContentApproved: false } });
    expect(rig.standIn.gateway.hasMessageContent).toBe(false);
    const { thread } = await startSession(rig);
    rig.core = async () => ({ error: { code: 'rate_limited', message: 'One refinement at a time; wait for v2.' } });
    const plain = rig.standIn.userMessage(thread.threadId, 'ignored: arrives blank without the intent');
    const mention = rig.standIn.userMessage(thread.threadId, 'with fireflies', { mentionBot: true });
    await rig.waitSettled(mention.id);
    const replies = rig.events.filter((e) => e.kind === 'reply') as ReplyEvent[];
    expect(replies.map((r) => [r.id, r.text])).toEqual([[mention.id, 'with fireflies']]);
    expect(replies.some((r) => r.id === plain.id)).toBe(false);
    // A message has no ephemeral answer: the refusal goes to the author by DM, not into the thread.
    expect(rig.standIn.directMessagesTo(DEFAULT_USER.id).map((m) => m.content)).toEqual([`⚠️ One refinement at a time; wait for v2.\n(about your message in <#${thread.threadId}>)`]);
    expect(rig.standIn.channelMessages(thread.threadId)).toHaveLength(2);
  });

  test('when the author does not accept DMs, a refusal becomes a reaction on their message', async () => {
    rig = await startRig({ messageContent: true });
    const { thread } = await startSession(rig);
    rig.core = async () => ({ error: { code: 'forbidden', message: 'Only the session owner can refine.' } });
    rig.standIn.dmsClosed.add(DEFAULT_USER.id);
    const reply = rig.standIn.userMessage(thread.threadId, 'make it pink');
    await rig.waitSettled(reply.id);
    expect(rig.standIn.messages.get(reply.id)!.reactions).toEqual(['⚠️']);
    expect(rig.standIn.channelMessages(thread.threadId).map((m) => m.id)).toEqual([reply.id]);
  });
});
