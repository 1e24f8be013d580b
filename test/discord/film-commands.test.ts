import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DiscordAdapter, type SettledEvent } from '../../bots/discord/discord-adapter.ts';
import { startCoreRig, type CoreRig } from '../local/core-rig.ts';
import type { ArtifactStore } from '../../src/core/ports/artifact-store.ts';
import { FsArtifactStore } from '../../src/storage/fs-artifact-store.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { describeSafety } from '../local/safety.suite.ts';
import { describeModeration } from '../local/moderation.suite.ts';
import { describeFilmCommands, expectOneSentence } from '../local/film-commands.suite.ts';
import { captureLogger } from './discord-harness.ts';
import { DiscordStandInDriver } from './discord-driver.ts';
import { DEFAULT_USER, DiscordStandIn, type RecordedCall } from './stand-in/discord-stand-in.ts';

async function discordAdapter(standIn: DiscordStandIn, settled: SettledEvent[], artifacts: ArtifactStore): Promise<DiscordAdapter> {
  return new DiscordAdapter({
    artifacts,
    config: { token: standIn.token, appId: standIn.appId, messageContent: false, apiUrl: standIn.apiUrl },
    logger: captureLogger([]),
    onEventSettled: (e) => settled.push(e),
  });
}

const makeHarness = async (): Promise<ChatAdapterHarness> => {
  const standIn = await DiscordStandIn.start({ messageContentApproved: false });
  const settled: SettledEvent[] = [];
  const artifacts = await tempArtifactStore();
  const adapter = await discordAdapter(standIn, settled, artifacts.store);
  const cleanup = async () => {
    await standIn.close();
    await artifacts.cleanup();
  };
  return { adapter, driver: new DiscordStandInDriver(standIn, settled), channel: standIn.defaultChannelId, users: ['Ana', 'Ben'], artifacts: artifacts.store, cleanup };
};

describeFilmCommands('discord (stand-in, real discord.js)', makeHarness);
describeSafety('discord (stand-in, real discord.js)', makeHarness);
describeModeration('discord (stand-in, real discord.js)', async () => {
  const harness = await makeHarness();
  // Mo has Manage Messages: Discord's moderator.
  (harness.driver as DiscordStandInDriver).moderator('Mo');
  return { ...harness, moderator: 'Mo' };
});

describe('film commands on Discord itself', () => {
  let standIn: DiscordStandIn;
  let rig: CoreRig;
  let dir: string;
  const settled: SettledEvent[] = [];
  const isCallback = (id: string) => (c: RecordedCall) => c.method === 'POST' && c.path.startsWith(`/interactions/${id}/`) && c.path.endsWith('/callback');
  const waitSettled = (id: string) => standIn.waitUntil(() => settled.find((s) => s.id === id), 5000, `event ${id} to settle`);

  async function start() {
    dir = await mkdtemp(join(tmpdir(), 'dailies-discord-film-'));
    standIn = await DiscordStandIn.start({ messageContentApproved: false });
    const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    rig = await startCoreRig(await discordAdapter(standIn, settled, artifacts), dir, {}, artifacts);
  }

  afterEach(async () => {
    await rig.close();
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
    settled.length = 0;
  });

  test('/storyboard answers publicly: the deferred reply becomes the storyboard message, and the thread is named after the shots', async () => {
    await start();
    const sent = standIn.command('storyboard', { shots: 'a red circle | a blue square', takes: 1 });
    const answered = await waitSettled(sent.id);
    expect(answered.ack).toBe('session');
    expect((await standIn.waitForCall(isCallback(sent.id))).json).toEqual({ type: 5, data: { flags: 0 } });
    const starter = standIn.channelMessages(standIn.defaultChannelId).find((m) => m.content.includes('started a storyboard'))!;
    expect(starter.content).toContain('1. a red circle');
    expect(standIn.threads().map((t) => [t.id, t.name])).toEqual([[starter.id, 'a red circle | a blue square']]);
    expect(answered.outcome?.thread).toEqual({ platform: 'discord', channelId: standIn.defaultChannelId, threadId: starter.id });
  });

  test('a /storyboard the core refuses leaves no public trace: the placeholder is deleted, the sentence is private', async () => {
    await start();
    const sent = standIn.command('storyboard', { shots: 'a red circle || a blue square' });
    await waitSettled(sent.id);
    expect(standIn.channelMessages(standIn.defaultChannelId)).toEqual([]);
    expect(standIn.threads()).toEqual([]);
    const notes = standIn.ephemeralsFor(DEFAULT_USER.id).map((m) => m.content);
    expect(notes).toEqual(['⚠️ Shot 2 is empty; write a prompt between each pair of | signs.']);
    expectOneSentence(notes[0]!.slice(3));
  });

  test('take autocomplete offers the takes posted in the thread, newest version first; before any, the bare numbers', async () => {
    await start();
    const sent = standIn.command('video', { prompt: 'a red circle', takes: 2 });
    const thread = (await waitSettled(sent.id)).outcome!.thread!;
    const early = standIn.autocomplete('extend', { name: 'take', type: 3, typed: '' }, DEFAULT_USER, thread.threadId);
    expect((await standIn.waitForCall(isCallback(early.id))).json.data.choices.map((c: { value: string }) => c.value)).toEqual(['1', '2', '3', '4']);

    await rig.settle();
    await rig.finish(rig.queue.jobs[0]!);
    const extended = standIn.command('extend', { take: 'v1#2' }, DEFAULT_USER, thread.threadId);
    await waitSettled(extended.id);
    await rig.settle();
    await rig.finish(rig.queue.jobs.at(-1)!);

    const all = standIn.autocomplete('bridge', { name: 'to', type: 3, typed: '' }, DEFAULT_USER, thread.threadId);
    expect((await standIn.waitForCall(isCallback(all.id))).json.data.choices).toEqual([
      { name: 'Take 1 of v2 (v2#1)', value: 'v2#1' },
      { name: 'Take 2 of v2 (v2#2)', value: 'v2#2' },
      { name: 'Take 1 of v1 (v1#1)', value: 'v1#1' },
      { name: 'Take 2 of v1 (v1#2)', value: 'v1#2' },
    ]);
    const typed = standIn.autocomplete('extend', { name: 'take', type: 3, typed: 'v1' }, DEFAULT_USER, thread.threadId);
    expect((await standIn.waitForCall(isCallback(typed.id))).json.data.choices.map((c: { value: string }) => c.value)).toEqual(['v1#1', 'v1#2']);
    const byNumber = standIn.autocomplete('extend', { name: 'take', type: 3, typed: '2' }, DEFAULT_USER, thread.threadId);
    expect((await standIn.waitForCall(isCallback(byNumber.id))).json.data.choices.map((c: { value: string }) => c.value)).toEqual(['v2#2', 'v1#2']);
  });
});
