import { describe, expect, it } from 'vitest';
import { ThreadPoster } from '../../src/core/thread-poster.ts';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { FakeAdapter } from './fakes/fake-adapter.ts';
import { ManualClock } from './fakes/manual-clock.ts';
import { quietLog } from './fakes/harness.ts';

const thread = { platform: 'local' as const, channelId: 'c', threadId: 't' };

function setup() {
  const clock = new ManualClock();
  const store = new MemorySessionStore({ now: () => clock.now() });
  const adapter = new FakeAdapter();
  adapter.adoptThread(thread);
  const poster = new ThreadPoster({ store, adapters: () => adapter, clock, log: quietLog, editIntervalMs: 1500 });
  return { clock, store, adapter, poster };
}

describe('thread poster', () => {
  it('posts an item once however often it is asked, also concurrently', async () => {
    const { adapter, poster } = setup();
    const key = { scope: 'j1', kind: 'take', index: 0 };
    const refs = await Promise.all([1, 2, 3].map(() => poster.postOnce(thread, key, () => ({ text: 'take' }))));
    expect(adapter.posts).toHaveLength(1);
    expect(refs.filter((r) => r !== null).length).toBeGreaterThanOrEqual(1);
    expect(await poster.postOnce(thread, key, () => ({ text: 'take' }))).toEqual(adapter.posts[0]!.ref);
  });

  it('releases the claim when posting fails, so a retry posts', async () => {
    const { adapter, poster } = setup();
    const key = { scope: 'j1', kind: 'take', index: 0 };
    adapter.failNextPost = true;
    await expect(poster.postOnce(thread, key, () => ({ text: 'take' }))).rejects.toThrow('platform said no');
    expect(adapter.posts).toHaveLength(0);
    await poster.postOnce(thread, key, () => ({ text: 'take' }));
    expect(adapter.posts).toHaveLength(1);
  });

  it('coalesces live edits to one per interval and always sends the last state', async () => {
    const { clock, adapter, poster } = setup();
    const key = { scope: 'j1', kind: 'progress', index: 0 };
    await poster.openLive(thread, key, { text: 'state 0' });
    for (let i = 1; i <= 10; i++) {
      poster.setLive(thread, key, { text: `state ${i}` });
      clock.advance(100);
      await poster.idle();
    }
    expect(adapter.posts).toHaveLength(1);
    expect(adapter.posts[0]!.edits).toEqual([]);
    clock.advance(500);
    await poster.idle();
    expect(adapter.posts[0]!.edits.map((e) => e.text)).toEqual(['state 10']);
    poster.setLive(thread, key, { text: 'final' }, true);
    poster.setLive(thread, key, { text: 'stale' });
    await poster.idle();
    expect(adapter.posts[0]!.edits).toHaveLength(1);
    clock.advance(1500);
    await poster.idle();
    expect(adapter.posts[0]!.edits.map((e) => e.text)).toEqual(['state 10', 'final']);
  });

  it('skips edits that would not change the message', async () => {
    const { clock, adapter, poster } = setup();
    const key = { scope: 'j1', kind: 'progress', index: 0 };
    await poster.openLive(thread, key, { text: 'same' });
    poster.setLive(thread, key, { text: 'same' }, true);
    clock.advance(2000);
    await poster.idle();
    expect(adapter.posts[0]!.edits).toEqual([]);
  });

  it('sends a pending final state on stop', async () => {
    const { adapter, poster } = setup();
    const key = { scope: 'j1', kind: 'progress', index: 0 };
    await poster.openLive(thread, key, { text: 'running' });
    poster.setLive(thread, key, { text: 'done' }, true);
    await poster.stop();
    expect(adapter.posts[0]!.edits.map((e) => e.text)).toEqual(['done']);
  });
});
