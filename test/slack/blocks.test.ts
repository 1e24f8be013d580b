import { SlackAdapter } from '../../bots/slack/slack-adapter.ts';
import { describeBlocks } from '../local/blocks.suite.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';
import { SIGNING_SECRET } from './slack-harness.ts';
import { SlackPlatformDriver } from './slack-driver.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';
import { SLACK_TIME } from '../local/shown-times.ts';

// Mo is a workspace admin (Slack's moderator); a person option is a mention, sent escaped as /block's manifest asks.
describeBlocks('slack (stand-in, real Bolt)', async () => {
  const standIn = new SlackWebApiStandIn();
  await standIn.start();
  const names: Record<string, string> = { U0ANA: 'Ana', U0BEN: 'Ben', U0MOD: 'Mo' };
  for (const [id, name] of Object.entries(names)) standIn.addUser({ id, name: name.toLowerCase(), display_name: name, ...(id === 'U0MOD' && { is_admin: true }) });
  const artifacts = await tempArtifactStore();
  const adapter = new SlackAdapter({
    artifacts: artifacts.store,
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1', SLACK_API_URL: standIn.apiUrl },
    minEditIntervalMs: 0,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  return {
    adapter,
    driver: new SlackPlatformDriver(standIn, () => adapter, SIGNING_SECRET),
    channel: 'C0GENERAL',
    users: ['U0ANA', 'U0BEN'],
    moderator: 'U0MOD',
    displayName: (u) => names[u] ?? u,
    person: (user) => `<@${user}|${names[user]?.toLowerCase() ?? user}>`,
    time: SLACK_TIME,
    artifacts: artifacts.store,
    cleanup: async () => {
      await standIn.stop();
      await artifacts.cleanup();
    },
  };
});
