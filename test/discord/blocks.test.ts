import { DiscordAdapter, type SettledEvent } from '../../bots/discord/discord-adapter.ts';
import { describeBlocks } from '../local/blocks.suite.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';
import { captureLogger } from './discord-harness.ts';
import { DiscordStandInDriver } from './discord-driver.ts';
import { DiscordStandIn } from './stand-in/discord-stand-in.ts';
import { DISCORD_TIME } from '../local/shown-times.ts';

// Mo has Manage Messages (Discord's moderator); a person option is a USER option Discord resolves.
describeBlocks('discord (stand-in, real discord.js)', async () => {
  const standIn = await DiscordStandIn.start({ messageContentApproved: false });
  const settled: SettledEvent[] = [];
  const artifacts = await tempArtifactStore();
  const adapter = new DiscordAdapter({
    artifacts: artifacts.store,
    config: { token: standIn.token, appId: standIn.appId, messageContent: false, apiUrl: standIn.apiUrl },
    logger: captureLogger([]),
    onEventSettled: (e) => settled.push(e),
  });
  const driver = new DiscordStandInDriver(standIn, settled);
  return {
    adapter,
    driver,
    channel: standIn.defaultChannelId,
    users: ['Ana', 'Ben'],
    moderator: driver.moderator('Mo'),
    person: (user) => ({ user: driver.user(user) }),
    time: DISCORD_TIME,
    artifacts: artifacts.store,
    cleanup: async () => {
      await standIn.close();
      await artifacts.cleanup();
    },
  };
});
