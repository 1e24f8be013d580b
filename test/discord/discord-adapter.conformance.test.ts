import { DiscordAdapter, type SettledEvent } from '../../bots/discord/discord-adapter.ts';
import { describeChatAdapterConformance } from '../conformance/chat-adapter.conformance.ts';
import { captureLogger } from './discord-harness.ts';
import { DiscordStandInDriver } from './discord-driver.ts';
import { DiscordStandIn } from './stand-in/discord-stand-in.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';

// Without MESSAGE_CONTENT, the default for a new bot: thread replies reach it by @mention.
describeChatAdapterConformance('discord (stand-in, real discord.js)', async () => {
  const standIn = await DiscordStandIn.start({ messageContentApproved: false });
  const settled: SettledEvent[] = [];
  const artifacts = await tempArtifactStore();
  const adapter = new DiscordAdapter({
    artifacts: artifacts.store,
    config: { token: standIn.token, appId: standIn.appId, messageContent: false, apiUrl: standIn.apiUrl },
    logger: captureLogger([]),
    onEventSettled: (e) => settled.push(e),
  });
  return {
    adapter,
    driver: new DiscordStandInDriver(standIn, settled),
    channel: standIn.defaultChannelId,
    users: ['Ana', 'Ben'],
    artifacts: artifacts.store,
    cleanup: async () => {
      await standIn.close();
      await artifacts.cleanup();
    },
  };
});
