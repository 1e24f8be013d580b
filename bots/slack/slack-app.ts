import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
import { DailiesError } from '../../src/errors.ts';
import { redactUrl } from '../../src/redact-url.ts';
import { processLogger } from '../../src/logging/logger.ts';
import { boltLogger } from './bolt-logger.ts';
import { REJECTED_APP_TOKEN_MESSAGE, WEB_API_RETRY, WEB_API_TIMEOUT_MS, type SlackConfig } from './config.ts';
import { refuseOutsideWindow } from './request-window.ts';
import { fromSlackError, slackErrorName } from './slack-errors.ts';
import type { SlackAdapterOptions } from './slack-runtime.ts';

/** Building the Bolt app from settings, and starting it (Socket Mode or Bolt's HTTP receiver), with each failure said in one sentence. */

// Bolt knows four levels; the ends of LOG_LEVEL's scale fold into its nearest.
const LOG_LEVELS: Record<NonNullable<SlackAdapterOptions['logLevel']>, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

export interface BuiltApp {
  app: App;
  /** The bot's user id and bot id, from auth.test ('' when Slack leaves them out). */
  botUserId: string;
  botId: string;
}

/** Checks the token, then builds the app; nothing is connected yet. */
export async function buildSlackApp(config: SlackConfig, options: Pick<SlackAdapterOptions, 'logger' | 'logLevel'>): Promise<BuiltApp> {
  const level = LOG_LEVELS[options.logLevel ?? 'info'];
  const logger = boltLogger(options.logger ?? processLogger().child({ platform: 'slack' }), level, () => [config.botToken, config.signingSecret ?? '', config.appToken ?? '']);
  const clientOptions: webApi.WebClientOptions = {
    ...(config.apiUrl && { slackApiUrl: config.apiUrl }),
    retryConfig: { ...WEB_API_RETRY },
    timeout: WEB_API_TIMEOUT_MS,
    logger,
  };

  // Checking the token first turns a bad one into one clear sentence instead of a failure per event.
  let botUserId: string;
  let botId: string;
  try {
    const auth = await new webApi.WebClient(config.botToken, clientOptions).auth.test();
    botUserId = auth.user_id ?? '';
    botId = auth.bot_id ?? '';
  } catch (error) {
    throw fromSlackError(error, `reach Slack at ${redactUrl(config.apiUrl ?? 'https://slack.com/api/')}`);
  }

  try {
    const app = new App({
      token: config.botToken,
      botId: botId || undefined,
      botUserId: botUserId || undefined,
      tokenVerificationEnabled: false,
      ...(config.appToken ? { socketMode: true, appToken: config.appToken } : { receiver: httpReceiver(config, logger, level) }),
      convoStore: false,
      ignoreSelf: true,
      clientOptions,
      logger,
      logLevel: level,
    });
    return { app, botUserId, botId };
  } catch (error) {
    throw new DailiesError('internal', `Could not set up the Slack app: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
  }
}

/**
 * Bolt's own HTTP receiver, with Slack's timestamp window enforced in front of it: Bolt checks the
 * signature but lets future-dated timestamps through (see ./request-window.ts).
 */
function httpReceiver(config: SlackConfig, logger: ReturnType<typeof boltLogger>, level: LogLevel): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret: config.signingSecret ?? '',
    endpoints: '/slack/events',
    port: config.port,
    processBeforeResponse: false,
    logger,
    logLevel: level,
  });
  receiver.requestListener = refuseOutsideWindow(receiver.requestListener, (line) => logger.warn(line));
  return receiver;
}

/** Connects (Socket Mode) or listens (HTTP); on failure closes what did start and rejects with a coded error. */
export async function startSlackApp(app: App, config: SlackConfig): Promise<Server | undefined> {
  try {
    if (config.appToken) {
      await app.start();
      return undefined;
    }
    return await app.start(config.host ? { port: config.port, host: config.host } : config.port);
  } catch (error) {
    // A half-open Socket Mode client keeps reconnect timers alive; close whatever did start.
    await app.stop().catch(() => {});
    if (config.appToken && ['invalid_auth', 'not_authed', 'account_inactive'].includes(slackErrorName(error) ?? '')) {
      throw new DailiesError('forbidden', REJECTED_APP_TOKEN_MESSAGE, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new DailiesError(
      'unavailable',
      config.appToken
        ? `Could not open the Socket Mode connection to Slack: ${message}; check SLACK_APP_TOKEN has the connections:write scope.`
        : `Could not listen for Slack on port ${config.port}: ${message}; set SLACK_PORT to a free port.`,
      { retryable: true, cause: error },
    );
  }
}
