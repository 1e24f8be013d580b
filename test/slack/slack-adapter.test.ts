import { randomBytes } from 'node:crypto';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatEvent, CommandEvent, EventOutcome, IncomingAttachment, ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { INTERNAL_MESSAGE } from '../../src/core/outcome.ts';
import { DailiesError } from '../../src/errors.ts';
import { WARNING_PREFIX } from '../../bots/slack/slack-adapter.ts';
import { SLACK_ATTACHMENT_RULES } from '../../bots/slack/slack-files.ts';
import { fetchAttachment } from '../../src/safety/attachment-check.ts';
import { SIGNING_SECRET, startSlackHarness, type SlackHarness } from './slack-harness.ts';
import {
  blockActionPayload,
  eventBody,
  interactionBody,
  slackSignature,
  slashCommandBody,
  triggerId,
  viewSubmissionPayload,
} from './stand-in/signed-requests.ts';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2000)]);
const MAX_IMAGE = 64 * 1024;
const MAX_UPLOAD = 1024 * 1024;
const W = WARNING_PREFIX;

let h: SlackHarness;
let dir: string;
const seen: ChatEvent[] = [];
let behaviour: (e: ChatEvent) => Promise<EventOutcome> = async () => ({});
const ackTimings: Record<string, number[]> = {};

function timed(kind: string, ms: number) {
  (ackTimings[kind] ??= []).push(Math.round(ms * 10) / 10);
}

function origin(channelId = 'C100'): CommandEvent {
  return { kind: 'command', id: triggerId(), platform: 'slack', user: { id: 'U100', name: 'alice' }, receivedAt: Date.now(), channelId, name: 'video', options: { prompt: 'x' } };
}

async function command(text: string, o: { user?: string; channel?: string; trigger?: string; retryNum?: number; name?: string } = {}) {
  const body = slashCommandBody({
    command: `/${o.name ?? 'video'}`,
    text,
    user_id: o.user ?? 'U100',
    user_name: 'alice',
    channel_id: o.channel ?? 'C100',
    response_url: h.standIn.responseUrl(`R-${o.user ?? 'U100'}-${triggerId()}`),
    trigger_id: o.trigger ?? triggerId(),
  });
  const r = await h.send(body, FORM, o.retryNum === undefined ? {} : { retryNum: o.retryNum });
  timed('slash command', r.ms);
  return r;
}

async function settle() {
  await new Promise((r) => setImmediate(r));
  await h.adapter.idle();
}

async function newSession(): Promise<ThreadRef> {
  return (await h.adapter.startThread(origin(), { text: 'Session: a paper boat' })).thread;
}

function threadMessage(thread: ThreadRef, user: string, text: string, extra: Record<string, unknown> = {}) {
  return { type: 'message', channel: thread.channelId, channel_type: 'channel', user, text, ts: `${Date.now() / 1000}${Math.floor(Math.random() * 10)}`, thread_ts: thread.threadId, parent_user_id: h.standIn.botUserId, ...extra };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dailies-slack-test-'));
  h = await startSlackHarness(
    async (e) => {
      seen.push(e);
      return behaviour(e);
    },
    { attachmentRules: { ...SLACK_ATTACHMENT_RULES, allowedHosts: ['127.0.0.1'], allowHttp: true, maxBytes: MAX_IMAGE }, maxUploadBytes: MAX_UPLOAD, artifacts: new FsArtifactStore({ root: dir }) },
  );
  h.standIn.addUser({ id: 'U100', name: 'alice', display_name: 'Alice A' });
  h.standIn.addUser({ id: 'U200', name: 'bob', is_admin: true });
});

afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
  // The measured acknowledgements, for the record.
  console.info(`slack ack timings (ms): ${JSON.stringify(ackTimings)}`);
});

beforeEach(() => {
  seen.length = 0;
  h.standIn.calls.length = 0;
  behaviour = async () => ({});
});

describe('slash commands', () => {
  it('acks well inside 3 s while the handler is still busy, then posts the session, its progress and an update', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    behaviour = async (e) => {
      if (e.kind !== 'command') return {};
      await gate;
      const { thread } = await h.adapter.startThread(e, { text: `**Session** for ${String(e.options.prompt)}` });
      const progress = await h.adapter.post(thread, { text: 'Rendering… 0%' });
      await h.adapter.edit(progress, { text: 'Rendering… 50%' });
      return { thread };
    };
    const trigger = triggerId();
    const r = await command('a paper boat in the rain --takes 4 --seed 7 --negative "blurry" --steps 12', { trigger });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(r.ms).toBeLessThan(1000);

    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({
      kind: 'command',
      id: trigger,
      platform: 'slack',
      workspaceId: 'T0TEAM',
      name: 'video',
      channelId: 'C100',
      options: { prompt: 'a paper boat in the rain', takes: 4, seed: 7, negative: 'blurry', steps: 12 },
      user: { id: 'U100', name: 'Alice A', canModerate: false },
    });
    // ack() went out before the core ran: the event carries when, for the ack-latency metric.
    expect((seen[0] as CommandEvent).ackedAt).toBeGreaterThanOrEqual((seen[0] as CommandEvent).receivedAt);
    expect(h.standIn.callsTo('chat.postMessage')).toHaveLength(0);
    release();
    await settle();

    const [root, progress] = h.standIn.callsTo('chat.postMessage');
    expect(root!.args).toMatchObject({ channel: 'C100', text: '*Session* for a paper boat in the rain' });
    expect(root!.args.thread_ts).toBeUndefined();
    expect(root!.authorization).toBe(`Bearer ${h.standIn.botToken}`);
    expect(progress!.args).toMatchObject({ channel: 'C100', text: 'Rendering… 0%' });
    const rootTs = String(progress!.args.thread_ts);
    const messages = await h.driver.readThread({ platform: 'slack', channelId: 'C100', threadId: rootTs });
    expect(messages[0]!.id).toBe(rootTs);
    expect(messages.map((m) => m.text)).toEqual(['*Session* for a paper boat in the rain', 'Rendering… 50%']);
    expect(h.standIn.message('C100', messages[1]!.id)!.edited).toBeDefined();
    const update = h.standIn.callsTo('chat.update')[0]!;
    expect(update.args).toMatchObject({ channel: 'C100', ts: messages[1]!.id, text: 'Rendering… 50%' });
  });

  it('refuses an unknown option in the ack itself, ephemerally, without calling the handler', async () => {
    const r = await command('a boat --take 3');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ response_type: 'ephemeral', text: `${W}/video has no --take option; did you mean --takes?` });
    const help = await command('--help');
    expect(help.json?.response_type).toBe('ephemeral');
    expect(String(help.json?.text)).toContain('Usage: /video <prompt>');
    const other = await command('', { name: 'teleport' });
    expect(other.json).toEqual({ response_type: 'ephemeral', text: `${W}This app has no /teleport command; type /dailies help to list its commands.` });
    await settle();
    expect(seen).toHaveLength(0);
    expect(r.ms).toBeLessThan(1000);
  });

  it('answers a core refusal with chat.postEphemeral, and through response_url when the bot is not in the channel', async () => {
    behaviour = async () => ({ error: { code: 'rate_limited', message: 'You have 3 renders waiting; wait for one to finish.' } });
    await command('a boat');
    await settle();
    expect(h.standIn.ephemerals()).toEqual([expect.objectContaining({ channel: 'C100', user: 'U100', text: `${W}You have 3 renders waiting; wait for one to finish.` })]);

    h.standIn.notInChannel.add('C404');
    await command('a boat', { channel: 'C404' });
    await settle();
    expect(h.standIn.responses.at(-1)!.body).toEqual({ response_type: 'ephemeral', text: `${W}You have 3 renders waiting; wait for one to finish.` });
  });

  it('says something went wrong (and logs it) when the handler throws', async () => {
    behaviour = async () => {
      throw new Error('redis exploded');
    };
    await command('a boat');
    await settle();
    expect(h.standIn.ephemerals().at(-1)!.text).toBe(`${W}${INTERNAL_MESSAGE}`);
    expect(h.logs.some((l) => l.startsWith('error') && l.includes('redis exploded'))).toBe(true);
  });
});

describe('retries', () => {
  it('does not call the handler twice for a retried slash command, event or click', async () => {
    const trigger = triggerId();
    const first = await command('a boat', { trigger });
    const again = await command('a boat', { trigger, retryNum: 1 });
    expect([first.status, again.status]).toEqual([200, 200]);

    const thread = await newSession();
    const body = eventBody(threadMessage(thread, 'U100', 'more rain'), 'Ev0RETRY01');
    await h.send(body, JSON_TYPE);
    await h.send(body, JSON_TYPE, { retryNum: 1, retryReason: 'http_timeout' });
    await h.send(body, JSON_TYPE, { retryNum: 2 });

    const click = interactionBody(blockActionPayload({ user: 'U100', channel: thread.channelId, messageTs: thread.threadId, actionId: 'vote:1:0' }));
    await h.send(click, FORM);
    await h.send(click, FORM, { retryNum: 1 });
    await settle();
    expect(seen.map((e) => e.kind)).toEqual(['command', 'reply', 'action']);
    expect(seen[1]!.id).toBe('Ev0RETRY01');
  });

  it('takes a mention once although Slack sends it as both message and app_mention', async () => {
    const thread = await newSession();
    const msg = threadMessage(thread, 'U100', `<@${h.standIn.botUserId}> darker sky`);
    await h.send(eventBody(msg, 'Ev0TWIN0001'), JSON_TYPE);
    await h.send(eventBody({ ...msg, type: 'app_mention' }, 'Ev0TWIN0002'), JSON_TYPE);
    await settle();
    expect(seen).toEqual([expect.objectContaining({ kind: 'reply', text: 'darker sky', thread })]);
  });
});

describe('request verification', () => {
  it('answers 401 to a bad signature and to a stale timestamp, and logs no secret', async () => {
    const body = slashCommandBody({ command: '/video', text: 'a boat', user_id: 'U100', channel_id: 'C100', response_url: h.standIn.responseUrl() });
    const forged = await h.send(body, FORM, { signature: slackSignature('0123456789abcdef0123456789abcdef', Math.floor(Date.now() / 1000), body) });
    expect(forged.status).toBe(401);
    const staleAt = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = await h.send(body, FORM, { timestamp: staleAt });
    expect(stale.status).toBe(401);
    const unsigned = await fetch(h.eventsUrl, { method: 'POST', headers: { 'content-type': FORM }, body });
    expect(unsigned.status).toBe(401);
    await settle();
    expect(seen).toHaveLength(0);
    const warnings = h.logs.filter((l) => l.includes('verify'));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    for (const line of h.logs) {
      expect(line).not.toContain(SIGNING_SECRET);
      expect(line).not.toContain(h.standIn.botToken);
    }
  });
});

describe('messages out', () => {
  it('renders takes with vote buttons as Block Kit actions', async () => {
    const thread = await newSession();
    await h.adapter.post(thread, {
      text: 'Takes for v1: vote for the one you like',
      buttons: [
        [
          { action: 'vote:1:0', label: 'Take 1', style: 'primary' },
          { action: 'vote:1:1', label: 'Take 2', style: 'primary' },
        ],
        [
          { action: 'edit-prompt', label: 'Edit prompt' },
          { action: 'cancel', label: 'Cancel', style: 'danger' },
        ],
      ],
    });
    const call = h.standIn.callsTo('chat.postMessage').at(-1)!;
    expect(call.args.thread_ts).toBe(thread.threadId);
    expect(call.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Takes for v1: vote for the one you like' } },
      {
        type: 'actions',
        block_id: 'row-0',
        elements: [
          { type: 'button', action_id: 'vote:1:0', value: 'vote:1:0', text: { type: 'plain_text', text: 'Take 1', emoji: true }, style: 'primary' },
          { type: 'button', action_id: 'vote:1:1', value: 'vote:1:1', text: { type: 'plain_text', text: 'Take 2', emoji: true }, style: 'primary' },
        ],
      },
      {
        type: 'actions',
        block_id: 'row-1',
        elements: [
          { type: 'button', action_id: 'edit-prompt', value: 'edit-prompt', text: { type: 'plain_text', text: 'Edit prompt', emoji: true } },
          { type: 'button', action_id: 'cancel', value: 'cancel', text: { type: 'plain_text', text: 'Cancel', emoji: true }, style: 'danger' },
        ],
      },
    ]);
    const [, takes] = await h.driver.readThread(thread);
    expect(takes!.buttons.map((r) => r.map((b) => b.action))).toEqual([['vote:1:0', 'vote:1:1'], ['edit-prompt', 'cancel']]);
  });

  it('uploads a clip through the external upload flow into the thread, before its caption', async () => {
    const thread = await newSession();
    const data = randomBytes(300_000);
    const { key } = await new FsArtifactStore({ root: dir }).putBuffer('renders/s1/take-1.mp4', data, 'video/mp4');
    const ref = await h.adapter.post(thread, {
      text: 'Take 1',
      attachments: [{ kind: 'preview', key, filename: 'take-1.mp4', contentType: 'video/mp4', bytes: data.length }],
      buttons: [[{ action: 'vote:2:0', label: 'Vote' }]],
    });
    const methods = h.standIn.calls.map((c) => c.method).slice(-4);
    expect(methods).toEqual(['files.getUploadURLExternal', '(upload)', 'files.completeUploadExternal', 'chat.postMessage']);
    const [getUrl, upload, complete] = h.standIn.calls.slice(-4);
    expect(getUrl!.args).toMatchObject({ filename: 'take-1.mp4', length: String(data.length) });
    expect(upload!.args.bytes).toBe(data.length);
    const fileId = String((complete!.args.files as { id: string }[])[0]!.id);
    expect(h.standIn.uploads.get(fileId)!.bytes!.equals(data)).toBe(true);
    expect(complete!.args).toMatchObject({ channel_id: thread.channelId, thread_ts: thread.threadId, files: [{ id: fileId, title: 'take-1.mp4' }] });
    // Slack shows the file message, then its caption with the buttons (the MessageRef).
    const raw = h.standIn.thread(thread.channelId, thread.threadId);
    expect(raw.map((m) => [m.files?.map((f) => f.name) ?? [], m.text])).toEqual([[[], 'Session: a paper boat'], [['take-1.mp4'], ''], [[], 'Take 1']]);
    expect(raw.at(-1)!.ts).toBe(ref.messageId);
  });

  it('refuses a clip above maxUploadBytes before any upload call', async () => {
    const thread = await newSession();
    const { key } = await new FsArtifactStore({ root: dir }).putBuffer('renders/s1/big.mp4', Buffer.alloc(MAX_UPLOAD + 1), 'video/mp4');
    h.standIn.calls.length = 0;
    const attempt = h.adapter.post(thread, { text: 'Final', attachments: [{ kind: 'final', key, filename: 'big.mp4', contentType: 'video/mp4', bytes: MAX_UPLOAD + 1 }] });
    await expect(attempt).rejects.toMatchObject({ code: 'bad_input', message: '"big.mp4" is 1.0 MiB; this Slack app uploads at most 1.0 MiB.' });
    expect(h.standIn.calls).toHaveLength(0);
    expect(h.adapter.maxUploadBytes).toBe(MAX_UPLOAD);
  });

  it('turns not_in_channel into a sentence saying how to invite the app', async () => {
    h.standIn.notInChannel.add('C405');
    const attempt = h.adapter.startThread(origin('C405'), { text: 'Session' });
    await expect(attempt).rejects.toBeInstanceOf(DailiesError);
    await expect(attempt).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('/invite @dailies') });
  });

  it('waits out a 429 Retry-After and then updates', async () => {
    const thread = await newSession();
    const ref = await h.adapter.post(thread, { text: 'Rendering… 10%' });
    h.standIn.failNext('chat.update', { retryAfter: 1 });
    await h.adapter.edit(ref, { text: 'Rendering… 20%' });
    const updates = h.standIn.callsTo('chat.update');
    expect(updates).toHaveLength(2);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(950);
    expect(h.standIn.message(thread.channelId, ref.messageId)!.text).toBe('Rendering… 20%');
  });
});

describe('clicks and forms', () => {
  it('turns a click into an ActionEvent and an error outcome into an ephemeral note in the thread', async () => {
    const thread = await newSession();
    behaviour = async () => ({ error: { code: 'forbidden', message: 'Only the person who started the session can finalize it.' } });
    const r = await h.send(interactionBody(blockActionPayload({ user: 'U200', channel: thread.channelId, messageTs: thread.threadId, actionId: 'finalize:1' })), FORM);
    timed('button click', r.ms);
    expect(r.status).toBe(200);
    await settle();
    expect(seen).toEqual([expect.objectContaining({ kind: 'action', action: 'finalize:1', thread, user: { id: 'U200', name: 'bob', canModerate: true } })]);
    expect(h.standIn.ephemerals().at(-1)).toMatchObject({ channel: thread.channelId, user: 'U200', thread_ts: thread.threadId, text: `${W}Only the person who started the session can finalize it.` });
  });

  it('opens a modal pre-filled with the prompt and turns the submission into an ActionEvent with values', async () => {
    const thread = await newSession();
    behaviour = async (e) =>
      e.kind === 'action' && e.action === 'edit-prompt'
        ? { openForm: { action: 'edit-prompt:submit', title: 'Edit the prompt', fields: [{ id: 'prompt', label: 'Prompt', value: 'a paper boat in the rain', multiline: true }] } }
        : {};
    const trigger = triggerId();
    const click = await h.send(interactionBody(blockActionPayload({ user: 'U100', channel: thread.channelId, messageTs: thread.threadId, actionId: 'edit-prompt', triggerId: trigger })), FORM);
    timed('button click', click.ms);
    await settle();
    const open = h.standIn.callsTo('views.open')[0]!;
    expect(open.args.trigger_id).toBe(trigger);
    const view = open.args.view as { callback_id: string; private_metadata: string; blocks: { element: { initial_value: string } }[] };
    expect(view.blocks[0]!.element.initial_value).toBe('a paper boat in the rain');

    const submit = await h.send(interactionBody(viewSubmissionPayload({ user: 'U100', view, values: { prompt: 'a paper boat at night' } })), FORM);
    timed('view submission', submit.ms);
    expect(submit.status).toBe(200);
    expect(submit.text).toBe('');
    await settle();
    expect(seen.at(-1)).toMatchObject({ kind: 'action', action: 'edit-prompt:submit', thread, values: { prompt: 'a paper boat at night' }, user: { id: 'U100' } });
  });
  it('answers a click on a disabled button itself, without bothering the core', async () => {
    const thread = await newSession();
    await h.adapter.post(thread, { text: 'Voting closed', buttons: [[{ action: 'vote:9:0', label: 'Take 1 (3 votes)', disabled: true }]] });
    const view = await h.driver.click(thread, 'U100', 'vote:9:0');
    expect(view).toEqual({ ephemeral: 'That button is closed.' });
    expect(seen).toHaveLength(0);
  });
});

describe('thread replies and mentions', () => {
  it('delivers replies in session threads and ignores bots, edits and other threads', async () => {
    const thread = await newSession();
    const r = await h.send(eventBody(threadMessage(thread, 'U100', 'more rain &amp; thunder')), JSON_TYPE);
    timed('event', r.ms);
    await h.send(eventBody(threadMessage(thread, 'U999', 'beep', { bot_id: 'B999', subtype: 'bot_message' })), JSON_TYPE);
    await h.send(eventBody(threadMessage(thread, 'U100', 'edited', { subtype: 'message_changed' })), JSON_TYPE);
    await h.send(eventBody(threadMessage({ ...thread, threadId: '1600000000.000001' }, 'U100', 'not ours', { parent_user_id: 'U777' })), JSON_TYPE);
    await h.send(eventBody({ type: 'message', channel: 'C100', user: 'U100', text: 'just chatting', ts: `${Date.now() / 1000}` }), JSON_TYPE);
    await settle();
    expect(seen).toEqual([expect.objectContaining({ kind: 'reply', text: 'more rain & thunder', thread, user: { id: 'U100', name: 'Alice A', canModerate: false } })]);
  });

  it('reads "@dailies <command>" in a thread as that command, and a top-level mention as /video', async () => {
    const thread = await newSession();
    await h.send(eventBody({ ...threadMessage(thread, 'U100', `<@${h.standIn.botUserId}> finalize 2`), type: 'app_mention' }), JSON_TYPE);
    await h.send(eventBody({ type: 'app_mention', channel: 'C100', user: 'U100', text: `<@${h.standIn.botUserId}> a kite at dusk --takes 2`, ts: `${Date.now() / 1000}` }), JSON_TYPE);
    await settle();
    expect(seen).toEqual([
      expect.objectContaining({ kind: 'command', name: 'finalize', thread, channelId: 'C100', options: { take: 2 } }),
      expect.objectContaining({ kind: 'command', name: 'video', options: { prompt: 'a kite at dusk', takes: 2 } }),
    ]);
    expect((seen[1] as CommandEvent).thread).toBeUndefined();
  });

  it('recognises a thread the bot started before a restart by reading its root', async () => {
    // A root the adapter never saw, posted straight to the stand-in.
    const res = await fetch(`${h.standIn.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.standIn.botToken}`, 'content-type': FORM },
      body: new URLSearchParams({ channel: 'C100', text: 'Session from yesterday' }).toString(),
    });
    const { ts } = (await res.json()) as { ts: string };
    const msg = { type: 'app_mention', channel: 'C100', user: 'U100', text: `<@${h.standIn.botUserId}> slower please`, ts: `${Date.now() / 1000}`, thread_ts: ts };
    await h.send(eventBody(msg), JSON_TYPE);
    // Bolt answers an event before its listeners run; on a loaded machine (a full CI run) the
    // listener had not started when settle() looked, once. Wait for its look at the root first.
    await vi.waitFor(() => expect(h.standIn.callsTo('conversations.replies')).toHaveLength(1), { timeout: 5000 });
    await settle();
    expect(h.standIn.callsTo('conversations.replies')).toHaveLength(1);
    expect(seen).toEqual([expect.objectContaining({ kind: 'reply', text: 'slower please', thread: { platform: 'slack', channelId: 'C100', threadId: ts } })]);
  });

  it('asks users.info once per user and marks admins as moderators', async () => {
    const thread = await newSession();
    h.standIn.addUser({ id: 'U300', name: 'carol', is_owner: true });
    await h.send(eventBody(threadMessage(thread, 'U300', 'one')), JSON_TYPE);
    await h.send(eventBody(threadMessage(thread, 'U300', 'two')), JSON_TYPE);
    await settle();
    expect(seen.map((e) => e.user)).toEqual([
      { id: 'U300', name: 'carol', canModerate: true },
      { id: 'U300', name: 'carol', canModerate: true },
    ]);
    expect(h.standIn.callsTo('users.info').filter((c) => c.args.user === 'U300')).toHaveLength(1);
  });
});

describe('shared images', () => {
  const rules = () => ({ ...SLACK_ATTACHMENT_RULES, allowedHosts: ['127.0.0.1'], allowHttp: true, maxBytes: MAX_IMAGE });

  it('passes a Slack-hosted image on, and the core intake can fetch it with the bot token', async () => {
    const thread = await newSession();
    const file = h.standIn.shareFile(PNG, { name: 'first frame.png', mimetype: 'image/png' });
    await h.send(eventBody(threadMessage(thread, 'U100', 'start from this', { subtype: 'file_share', files: [file] })), JSON_TYPE);
    await settle();
    expect(seen).toEqual([
      expect.objectContaining({ kind: 'reply', text: 'start from this', attachments: [{ url: file.url_private, filename: 'first frame.png', contentType: 'image/png', bytes: PNG.length }] }),
    ]);
    // Nothing is downloaded until the core asks for it.
    expect(h.standIn.callsTo('(file download)')).toHaveLength(0);

    const attachment = (seen[0] as { attachments: IncomingAttachment[] }).attachments[0]!;
    const fetched = await fetchAttachment(attachment, rules(), { headers: h.adapter.attachmentHeaders()! });
    expect(Buffer.from(fetched.data).equals(PNG)).toBe(true);
    expect(h.standIn.callsTo('(file download)')[0]!.authorization).toBe(`Bearer ${h.standIn.botToken}`);
    // Without the token Slack answers a login page, which the intake refuses as not an image.
    await expect(fetchAttachment(attachment, rules())).rejects.toMatchObject({ code: 'bad_input', message: expect.stringContaining('text/html') });
  });

  it('starts a session from an image shared with a mention', async () => {
    const file = h.standIn.shareFile(PNG, { name: 'still.png', mimetype: 'image/png' });
    await h.send(eventBody({ type: 'message', subtype: 'file_share', channel: 'C100', user: 'U100', text: `<@${h.standIn.botUserId}> make it drift --takes 1`, ts: `${Date.now() / 1000}`, files: [file] }), JSON_TYPE);
    await settle();
    expect(seen).toEqual([expect.objectContaining({ kind: 'command', name: 'video', options: { prompt: 'make it drift', takes: 1 }, attachments: [expect.objectContaining({ url: file.url_private })] })]);
  });

  it('refuses at once, ephemerally, an image that is too big, hosted elsewhere, not an image or not shared with apps', async () => {
    const thread = await newSession();
    const cases = [
      { file: h.standIn.shareFile(PNG, { name: 'huge.png', mimetype: 'image/png', size: MAX_IMAGE + 1 }), says: /^The attachment is .+, over the .+ limit; attach a smaller image\.$/ },
      { file: h.standIn.shareFile(PNG, { name: 'far.png', mimetype: 'image/png', host: 'files.example.net' }), says: /^Attachments from files\.example\.net are not accepted/ },
      { file: h.standIn.shareFile(PNG, { name: 'notes.pdf', mimetype: 'application/pdf' }), says: /^Attachments of type application\/pdf are not accepted/ },
      { file: { id: 'F0EXT', name: 'theirs.png', mimetype: 'image/png', file_access: 'check_file_info' }, says: /^"theirs\.png" cannot be read by the app \(files shared from other organisations are not\); upload the image here instead\.$/ },
    ];
    for (const c of cases) {
      await h.send(eventBody(threadMessage(thread, 'U100', 'use this', { subtype: 'file_share', files: [c.file] })), JSON_TYPE);
    }
    await settle();
    // The sentences themselves are the core's attachment rules; the adapter shows them as refusals.
    expect(h.standIn.ephemerals().map((e) => [e.user, e.thread_ts, String(e.text).replace(W, '')])).toEqual(cases.map((c) => ['U100', thread.threadId, expect.stringMatching(c.says)]));
    for (const e of h.standIn.ephemerals()) expect(String(e.text).startsWith(W)).toBe(true);
    expect(seen).toHaveLength(0);
  });
});
