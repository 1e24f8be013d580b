import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  MISSING_SECRET_MESSAGE,
  MISSING_TOKEN_MESSAGE,
  REJECTED_APP_TOKEN_MESSAGE,
  REJECTED_TOKEN_MESSAGE,
  isSlackConfigured,
  loadSlackConfig,
} from '../../bots/slack/config.ts';
import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';

const TOKEN = 'xoxb-1111-2222-abcdefABCDEF';
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

function refusal(env: Record<string, string | undefined>): DailiesError {
  try {
    loadSlackConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(DailiesError);
    return error as DailiesError;
  }
  throw new Error('accepted');
}

describe('loadSlackConfig', () => {
  it('reads HTTP-mode settings with defaults', () => {
    expect(loadSlackConfig({ SLACK_BOT_TOKEN: ` Bearer ${TOKEN} `, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: 'http://127.0.0.1:4000/api' })).toEqual({
      botToken: TOKEN,
      signingSecret: SECRET,
      appToken: undefined,
      port: 3000,
      host: undefined,
      apiUrl: 'http://127.0.0.1:4000/api/',
      maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
    });
  });

  it('needs no signing secret in Socket Mode and treats blank values as unset', () => {
    const c = loadSlackConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_APP_TOKEN: 'xapp-1-A111-222-abc', SLACK_SIGNING_SECRET: '', SLACK_PORT: '', SLACK_MAX_UPLOAD_MB: '100' });
    expect(c).toMatchObject({ appToken: 'xapp-1-A111-222-abc', signingSecret: undefined, port: 3000, maxUploadBytes: 100 * 1024 * 1024 });
  });

  it('says in one sentence what is missing or malformed', () => {
    expect(refusal({})).toMatchObject({ code: 'missing_dependency', message: MISSING_TOKEN_MESSAGE });
    expect(refusal({ SLACK_BOT_TOKEN: TOKEN })).toMatchObject({ code: 'missing_dependency', message: MISSING_SECRET_MESSAGE });
    expect(refusal({ SLACK_BOT_TOKEN: 'xapp-1-wrong-kind', SLACK_SIGNING_SECRET: SECRET }).message).toBe(
      'Slack settings: SLACK_BOT_TOKEN does not look like a bot token (it starts with "xoxb-"). Fix it and restart, or unset SLACK_* to run without Slack.',
    );
    expect(refusal({ SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_PORT: '70000' }).message).toMatch(/^Slack settings: SLACK_PORT /);
    expect(refusal({ SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_MAX_UPLOAD_MB: '4096' }).message).toMatch(/^Slack settings: SLACK_MAX_UPLOAD_MB /);
    expect(refusal({ SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: 'ftp://x' }).message).toMatch(/^Slack settings: SLACK_API_URL /);
  });

  it('tells whether Slack is configured at all', () => {
    expect(isSlackConfigured({})).toBe(false);
    expect(isSlackConfigured({ SLACK_BOT_TOKEN: ' ' })).toBe(false);
    expect(isSlackConfigured({ SLACK_APP_TOKEN: 'xapp-1' })).toBe(true);
  });
});

describe('SlackAdapter.start', () => {
  const standIn = new SlackWebApiStandIn();
  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  it('rejects with a DailiesError, not a throw from the constructor, when settings are missing', async () => {
    const adapter = new SlackAdapter({ env: {}, logger: quiet });
    await expect(adapter.start(async () => ({}))).rejects.toMatchObject({ code: 'missing_dependency', message: MISSING_TOKEN_MESSAGE });
    await adapter.stop();
  });

  it('rejects a token Slack refuses with one clear sentence', async () => {
    const adapter = new SlackAdapter({ env: { SLACK_BOT_TOKEN: 'xoxb-9-9-refused', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: standIn.apiUrl, SLACK_PORT: '0' }, logger: quiet });
    await expect(adapter.start(async () => ({}))).rejects.toMatchObject({ code: 'forbidden', message: REJECTED_TOKEN_MESSAGE });
    expect(standIn.callsTo('auth.test').at(-1)!.authorization).toBe('Bearer xoxb-9-9-refused');
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set, authenticating with that token', async () => {
    const adapter = new SlackAdapter({
      env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_APP_TOKEN: 'xapp-1-A0-1-refused', SLACK_API_URL: standIn.apiUrl },
      logger: quiet,
    });
    await expect(adapter.start(async () => ({}))).rejects.toMatchObject({ code: 'forbidden', message: REJECTED_APP_TOKEN_MESSAGE });
    expect(standIn.callsTo('apps.connections.open').at(-1)!.authorization).toBe('Bearer xapp-1-A0-1-refused');
    expect(adapter.address).toBeUndefined();
  });

  it('sizes uploads from SLACK_MAX_UPLOAD_MB before start, capped at Slack\'s 1 GiB', () => {
    expect(new SlackAdapter({ env: { SLACK_MAX_UPLOAD_MB: '8' } }).maxUploadBytes).toBe(8 * 1024 * 1024);
    expect(new SlackAdapter({ env: {} }).maxUploadBytes).toBe(DEFAULT_MAX_UPLOAD_BYTES);
    expect(new SlackAdapter({ env: {}, maxUploadBytes: 5 * 1024 ** 3 }).maxUploadBytes).toBe(1024 ** 3);
  });
});
