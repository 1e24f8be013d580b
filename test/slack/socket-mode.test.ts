import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/core/ports/chat-adapter.ts';
import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';
import { triggerId } from './stand-in/signed-requests.ts';

/** Socket Mode (SLACK_APP_TOKEN set): the same adapter, with Slack's envelopes over a WebSocket instead of signed HTTP. */

const standIn = new SlackWebApiStandIn();
const seen: ChatEvent[] = [];
let adapter: SlackAdapter;

beforeAll(async () => {
  await standIn.start();
  adapter = new SlackAdapter({
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_APP_TOKEN: standIn.appToken, SLACK_API_URL: standIn.apiUrl },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await adapter.start(async (e) => {
    seen.push(e);
    return e.kind === 'command' ? { ephemeral: 'Queued.' } : {};
  });
});

afterAll(async () => {
  await adapter.stop();
  await standIn.stop();
});

it('connects with the app token and acks a slash command envelope before handling it', async () => {
  expect(standIn.callsTo('apps.connections.open')[0]!.authorization).toBe(`Bearer ${standIn.appToken}`);
  expect(adapter.address).toBeUndefined();
  const trigger = triggerId();
  const payload = { command: '/video', text: 'a lighthouse --takes 2', user_id: 'U100', user_name: 'alice', channel_id: 'C100', team_id: 'T0TEAM', trigger_id: trigger, response_url: standIn.responseUrl() };
  const { ack, ms } = await standIn.sendEnvelope({ envelope_id: 'env-1', type: 'slash_commands', payload });
  console.info(`socket mode slash command ack: ${ms.toFixed(1)} ms`);
  expect(ms).toBeLessThan(1000);
  expect(ack).toMatchObject({ envelope_id: 'env-1' });
  await adapter.idle();
  expect(seen).toEqual([expect.objectContaining({ kind: 'command', id: trigger, name: 'video', options: { prompt: 'a lighthouse', takes: 2 } })]);
  expect(standIn.ephemerals().at(-1)).toMatchObject({ channel: 'C100', user: 'U100', text: 'Queued.' });
});

it('drops a retried events_api envelope (retry_attempt 1) for an event it already handled', async () => {
  const thread = (await adapter.startThread({ kind: 'command', id: 'x', platform: 'slack', user: { id: 'U100', name: 'alice' }, receivedAt: 0, channelId: 'C100', name: 'video', options: {} }, { text: 'Session' })).thread;
  seen.length = 0;
  const body = {
    type: 'event_callback',
    team_id: 'T0TEAM',
    event_id: 'Ev0SOCKET01',
    event: { type: 'message', channel: 'C100', user: 'U100', text: 'more fog', ts: `${Date.now() / 1000}`, thread_ts: thread.threadId, parent_user_id: standIn.botUserId },
  };
  await standIn.sendEnvelope({ envelope_id: 'env-2', type: 'events_api', payload: body });
  await standIn.sendEnvelope({ envelope_id: 'env-3', type: 'events_api', payload: body, retry_attempt: 1, retry_reason: 'timeout' });
  await adapter.idle();
  expect(seen).toEqual([expect.objectContaining({ kind: 'reply', id: 'Ev0SOCKET01', text: 'more fog', thread })]);
});
