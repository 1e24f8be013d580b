import { afterEach, describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../src/core/ports/chat-adapter.ts';
import { getJson, startTestChat, type TestChat } from './helpers.ts';

/**
 * The web chat opens one thread per command however often it is delivered: a bot killed while
 * opening it (or before the core remembered it) must not leave an orphan beside the retry's.
 */
describe('the web chat opens a command’s thread once', () => {
  let t: TestChat;
  afterEach(async () => t?.cleanup());

  const command = (id: string, prompt = 'a red circle'): CommandEvent => ({
    kind: 'command',
    id,
    platform: 'local',
    user: { id: 'local-ana', name: 'Ana' },
    receivedAt: Date.now(),
    channelId: 'general',
    name: 'video',
    options: { prompt },
  });

  it('returns the same thread and root for the same delivery, and a new one for another', async () => {
    t = await startTestChat();
    const first = await t.chat.adapter.startThread(command('cmd-1'), { text: 'Ana started a video' });
    const again = await t.chat.adapter.startThread(command('cmd-1'), { text: 'Ana started a video' });
    expect(again).toEqual(first);
    const other = await t.chat.adapter.startThread(command('cmd-2'), { text: 'Ana started a video' });
    expect(other.thread.threadId).not.toBe(first.thread.threadId);
    // The same id reused later for a different command is a different command.
    const reused = await t.chat.adapter.startThread(command('cmd-1', 'a blue square'), { text: 'Ana started a video' });
    expect(reused.thread.threadId).not.toBe(first.thread.threadId);
    const roots = ((await getJson(`${t.chat.url}/api/channels/general`)).body.messages as { thread: string }[]).map((m) => m.thread);
    expect(roots.filter((id) => id === first.thread.threadId)).toHaveLength(1);
  });

  it('completes a thread whose root was never written (the bot died in between)', async () => {
    t = await startTestChat();
    const first = await t.chat.adapter.startThread(command('cmd-3'), { text: 'Ana started a video' });
    // What a kill between the two writes leaves: the thread without its root.
    expect(await t.redis.hdel(`${t.prefix}messages`, first.message.messageId)).toBe(1);
    const again = await t.chat.adapter.startThread(command('cmd-3'), { text: 'Ana started a video' });
    expect(again).toEqual(first);
    const thread = (await getJson(`${t.chat.url}/api/threads/${first.thread.threadId}`)).body.messages as { text: string }[];
    expect(thread.some((m) => m.text === 'Ana started a video')).toBe(true);
  });
});
