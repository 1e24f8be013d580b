import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { describeSafety } from '../local/safety.suite.ts';
import { describeFilmCommands } from '../local/film-commands.suite.ts';
import { SIGNING_SECRET } from './slack-harness.ts';
import { SlackPlatformDriver } from './slack-driver.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';

// Commands in a thread are mentions there ("@dailies cut fade"): Slack runs no slash commands in threads.
const makeHarness = async (): Promise<ChatAdapterHarness> => {
  const standIn = new SlackWebApiStandIn();
  await standIn.start();
  standIn.addUser({ id: 'U0ANA', name: 'ana', display_name: 'Ana' });
  const adapter = new SlackAdapter({
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1', SLACK_API_URL: standIn.apiUrl },
    minEditIntervalMs: 0,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  return { adapter, driver: new SlackPlatformDriver(standIn, () => adapter, SIGNING_SECRET), channel: 'C0GENERAL', users: ['U0ANA', 'U0BEN'], displayName: (u) => (u === 'U0ANA' ? 'Ana' : u), cleanup: () => standIn.stop() };
};

describeFilmCommands('slack (stand-in, real Bolt)', makeHarness);
describeSafety('slack (stand-in, real Bolt)', makeHarness);
