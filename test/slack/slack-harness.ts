import type { ChatEventHandler } from '../../src/core/ports/chat-adapter.ts';
import { SlackAdapter, type SlackAdapterOptions } from '../../bots/slack/slack-adapter.ts';
import { SLACK_ATTACHMENT_RULES } from '../../bots/slack/slack-files.ts';
import { SlackPlatformDriver } from './slack-driver.ts';
import { sendSigned, type SendOptions, type SignedResponse } from './stand-in/signed-requests.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';

/**
 * The real SlackAdapter (Bolt app + HTTP receiver on a free local port), started and wired to
 * the Web API stand-in, plus a driver that acts like people in Slack by sending signed requests.
 */

export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

export interface SlackHarness {
  adapter: SlackAdapter;
  standIn: SlackWebApiStandIn;
  driver: SlackPlatformDriver;
  eventsUrl: string;
  logs: string[];
  send(body: string, contentType: string, options?: Partial<SendOptions>): Promise<SignedResponse>;
  close(): Promise<void>;
}

export async function startSlackHarness(handler: ChatEventHandler, options: Partial<SlackAdapterOptions> = {}): Promise<SlackHarness> {
  const standIn = new SlackWebApiStandIn();
  await standIn.start();
  const logs: string[] = [];
  const capture = (level: string) => (...parts: unknown[]) => {
    logs.push(`${level} ${parts.map((p) => (p instanceof Error ? p.message : String(p))).join(' ')}`);
  };
  const adapter = new SlackAdapter({
    env: {
      SLACK_BOT_TOKEN: standIn.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_PORT: '0',
      SLACK_HOST: '127.0.0.1',
      SLACK_API_URL: standIn.apiUrl,
    },
    // The stand-in serves shared files over plain HTTP on loopback.
    attachmentRules: { ...SLACK_ATTACHMENT_RULES, allowedHosts: ['127.0.0.1'], allowHttp: true },
    minEditIntervalMs: 0,
    logger: { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') },
    ...options,
  });
  await adapter.start(handler);
  const eventsUrl = `http://127.0.0.1:${adapter.address!.port}/slack/events`;
  const send = (body: string, contentType: string, o: Partial<SendOptions> = {}) => sendSigned(eventsUrl, body, contentType, { secret: SIGNING_SECRET, ...o });
  const driver = new SlackPlatformDriver(standIn, () => adapter, SIGNING_SECRET);

  return {
    adapter,
    standIn,
    driver,
    eventsUrl,
    logs,
    send,
    async close() {
      await adapter.stop();
      await standIn.stop();
    },
  };
}
