import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import { describeChatAdapterConformance } from '../conformance/chat-adapter.conformance.ts';
import { SIGNING_SECRET } from './slack-harness.ts';
import { SlackPlatformDriver } from './slack-driver.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';

const NAMES: Record<string, string> = { U0ANA: 'Ana', U0BEN: 'Ben' };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describeChatAdapterConformance('slack', async () => {
  const standIn = new SlackWebApiStandIn();
  await standIn.start();
  for (const [id, name] of Object.entries(NAMES)) standIn.addUser({ id, name: name.toLowerCase(), display_name: name });
  const artifacts = await tempArtifactStore();
  const adapter = new SlackAdapter({
    artifacts: artifacts.store,
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1', SLACK_API_URL: standIn.apiUrl },
    maxUploadBytes: 256 * 1024,
    minEditIntervalMs: 0,
    logger: quiet,
  });
  return {
    adapter,
    driver: new SlackPlatformDriver(standIn, () => adapter, SIGNING_SECRET),
    channel: 'C0GENERAL',
    users: ['U0ANA', 'U0BEN'],
    displayName: (user) => NAMES[user] ?? user,
    artifacts: artifacts.store,
    cleanup: async () => {
      await standIn.stop();
      await artifacts.cleanup();
    },
  };
});
