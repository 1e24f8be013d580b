import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { describeSafety } from '../local/safety.suite.ts';
import { describeModeration } from '../local/moderation.suite.ts';
import { describeFilmCommands } from '../local/film-commands.suite.ts';
import { SIGNING_SECRET } from './slack-harness.ts';
import { SlackPlatformDriver } from './slack-driver.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';

// Commands in a thread are mentions there ("@dailies cut fade"): Slack runs no slash commands in threads.
const makeHarness = async (): Promise<ChatAdapterHarness> => {
  const standIn = new SlackWebApiStandIn();
  await standIn.start();
  standIn.addUser({ id: 'U0ANA', name: 'ana', display_name: 'Ana' });
  standIn.addUser({ id: 'U0BEN', name: 'ben', display_name: 'Ben' });
  // A workspace admin: Slack's moderator.
  standIn.addUser({ id: 'U0MOD', name: 'mo', display_name: 'Mo', is_admin: true });
  const artifacts = await tempArtifactStore();
  const adapter = new SlackAdapter({
    artifacts: artifacts.store,
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1', SLACK_API_URL: standIn.apiUrl },
    minEditIntervalMs: 0,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  return { adapter, driver: new SlackPlatformDriver(standIn, () => adapter, SIGNING_SECRET), channel: 'C0GENERAL', users: ['U0ANA', 'U0BEN'], moderator: 'U0MOD', displayName: (u) => ({ U0ANA: 'Ana', U0BEN: 'Ben', U0MOD: 'Mo' })[u] ?? u,
    artifacts: artifacts.store,
    cleanup: async () => {
      await standIn.stop();
      await artifacts.cleanup();
    },
  };
};

describeFilmCommands('slack (stand-in, real Bolt)', makeHarness);
describeSafety('slack (stand-in, real Bolt)', makeHarness);
describeModeration('slack (stand-in, real Bolt)', makeHarness);
