import { createHmac, randomUUID } from 'node:crypto';

/**
 * Requests as Slack sends them to the app's request URL: slash commands as form bodies,
 * interactivity as a form field `payload` holding JSON, events as JSON; each signed with the
 * v0 HMAC-SHA256 over `v0:{timestamp}:{body}` using the signing secret.
 */

export interface SignedResponse {
  status: number;
  text: string;
  json?: Record<string, unknown>;
  /** From sending the request to the end of the response body. */
  ms: number;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  secret: string;
  /** Seconds; default now. */
  timestamp?: number;
  /** Overrides the computed signature (for tampering tests). */
  signature?: string;
  retryNum?: number;
  retryReason?: string;
}

export async function sendSigned(url: string, body: string, contentType: string, o: SendOptions): Promise<SignedResponse> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': o.signature ?? slackSignature(o.secret, timestamp, body),
  };
  if (o.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(o.retryNum);
    headers['x-slack-retry-reason'] = o.retryReason ?? 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  const ms = performance.now() - started;
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ms };
}

export function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export interface SlashCommand {
  command: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id: string;
  response_url: string;
  trigger_id?: string;
  team_id?: string;
}

export function slashCommandBody(c: SlashCommand): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: c.team_id ?? 'T0TEAM',
    team_domain: 'standin',
    channel_id: c.channel_id,
    channel_name: 'general',
    user_id: c.user_id,
    user_name: c.user_name ?? c.user_id.toLowerCase(),
    command: c.command,
    text: c.text,
    api_app_id: 'A0DAILIES',
    is_enterprise_install: 'false',
    response_url: c.response_url,
    trigger_id: c.trigger_id ?? triggerId(),
  }).toString();
}

export function eventBody(event: Record<string, unknown>, eventId = `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`): string {
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: 'T0TEAM',
    api_app_id: 'A0DAILIES',
    event: { event_ts: event.ts, ...event },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: 'T0TEAM', user_id: 'U0DAILIES', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function blockActionPayload(o: {
  user: string;
  channel: string;
  messageTs: string;
  threadTs?: string;
  actionId: string;
  value?: string;
  triggerId?: string;
  responseUrl?: string;
}): Record<string, unknown> {
  const actionTs = `${Date.now() / 1000}`;
  return {
    type: 'block_actions',
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: 'T0TEAM' },
    api_app_id: 'A0DAILIES',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false, ...(o.threadTs && { thread_ts: o.threadTs }) },
    trigger_id: o.triggerId ?? triggerId(),
    team: { id: 'T0TEAM', domain: 'standin' },
    channel: { id: o.channel, name: 'general' },
    message: { type: 'message', user: 'U0DAILIES', bot_id: 'B0DAILIES', ts: o.messageTs, ...(o.threadTs && { thread_ts: o.threadTs }), text: '' },
    ...(o.responseUrl && { response_url: o.responseUrl }),
    actions: [{ type: 'button', action_id: o.actionId, block_id: 'row-0', value: o.value ?? o.actionId, text: { type: 'plain_text', text: 'x' }, action_ts: actionTs }],
  };
}

export function viewSubmissionPayload(o: { user: string; view: Record<string, unknown>; values: Record<string, string>; triggerId?: string }): Record<string, unknown> {
  const state: Record<string, Record<string, { type: string; value: string }>> = {};
  for (const [id, value] of Object.entries(o.values)) state[id] = { [id]: { type: 'plain_text_input', value } };
  return {
    type: 'view_submission',
    team: { id: 'T0TEAM', domain: 'standin' },
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: 'T0TEAM' },
    api_app_id: 'A0DAILIES',
    token: 'deprecated-verification-token',
    trigger_id: o.triggerId ?? triggerId(),
    view: { id: 'V123', team_id: 'T0TEAM', hash: '1.abc', app_id: 'A0DAILIES', bot_id: 'B0DAILIES', ...o.view, state: { values: state } },
    response_urls: [],
    is_enterprise_install: false,
  };
}
