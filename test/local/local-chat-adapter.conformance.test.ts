import { describeChatAdapterConformance } from '../conformance/chat-adapter.conformance.ts';
import { startTestChat } from './helpers.ts';
import { LocalHttpDriver } from './local-driver.ts';

describeChatAdapterConformance('local web chat', async () => {
  const t = await startTestChat();
  return {
    adapter: t.chat.adapter,
    driver: new LocalHttpDriver(t.chat.url),
    channel: 'general',
    users: ['Ana', 'Ben'],
    artifacts: t.store,
    filesLiveInArtifactStore: true,
    cleanup: t.cleanup,
  };
});
