import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisAuditLog } from '../../src/storage/redis-audit-log.ts';
import { deleteKeysStartingWith } from '../../src/redis/delete-keys.ts';
import { startCoreRig, type CoreRig } from './core-rig.ts';
import { REDIS_URL, getJson, postJson, randomPrefix, startTestChat, type TestChat } from './helpers.ts';

type Shown = { id: string; text: string; attachments: { url: string }[]; buttons: { action: string; label: string }[][] };

/**
 * Removing a take in the web chat, end to end over its HTTP API with the real core and a Redis
 * audit log: the file the page played answers 404 afterwards, the message shows the note, and
 * the audit export lists who removed what.
 */
describe('a moderator removes a take in the web chat', () => {
  let t: TestChat;
  let rig: CoreRig;
  let dir: string;
  let redis: Redis;
  let prefix: string;

  afterEach(async () => {
    await rig.close();
    await t.cleanup();
    await deleteKeysStartingWith(redis, prefix);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes its files (/artifacts/<key> answers 404), shows the note, and records the removal in the audit log', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dailies-removal-'));
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = randomPrefix();
    const audit = new RedisAuditLog({ redis, prefix });
    t = await startTestChat({ moderators: ['Mo'] });
    rig = await startCoreRig(t.chat.adapter, dir, {}, t.store, { audit });
    const typed = (user: string, text: string, where: Record<string, string>) => postJson(`${t.chat.url}/api/commands`, { ...where, user, text });
    const thread = async (id: string) => (await getJson(`${t.chat.url}/api/threads/${id}`)).body.messages as Shown[];

    const started = await typed('Ana', '/video a red circle takes:2', { channel: 'general' });
    expect(started.status).toBe(200);
    const threadId = started.body.thread as string;
    await rig.settle();
    await rig.finish(rig.queue.jobs.at(-1)!);
    const take = (await thread(threadId)).find((m) => m.text.startsWith('Take 1 of v1'))!;
    const url = `${t.chat.url}${take.attachments[0]!.url}`;
    expect((await fetch(url)).status).toBe(200);

    // Names are not accounts: only the names the server lists moderate (DAILIES_LOCAL_MODERATORS).
    const refused = await typed('Ana', '/remove v1#1', { thread: threadId });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('Only a moderator can remove a take; ask one of your server or workspace moderators.');
    expect((await fetch(url)).status).toBe(200);

    const removed = await typed('mo', '/remove v1#1', { thread: threadId });
    expect(removed.status).toBe(200);
    expect(removed.body.ephemeral).toBe('Removed v1#1: its files are deleted and 1 message now shows a note instead.');
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe('not_found');

    const shown = (await thread(threadId)).find((m) => m.id === take.id)!;
    expect(shown.text).toBe('Take 1 of v1 was removed by mo.');
    expect(shown.attachments).toEqual([]);
    // The other take is untouched, until its Remove button is pressed, named as a script would.
    const other = (await thread(threadId)).find((m) => m.text.startsWith('Take 2 of v1'))!;
    const otherUrl = `${t.chat.url}${other.attachments[0]!.url}`;
    expect((await fetch(otherUrl)).status).toBe(200);
    const pressed = await postJson(`${t.chat.url}/api/threads/${threadId}/actions`, { user: 'Mo', action: 'remove', take: 2 });
    expect(pressed.body.ephemeral).toBe('Removed v1#2: its files are deleted and 1 message now shows a note instead.');
    expect((await fetch(otherUrl)).status).toBe(404);

    // The audit write is not awaited by the command: poll briefly.
    let entries: Awaited<ReturnType<typeof audit.list>> = [];
    for (let i = 0; i < 50 && entries.filter((e) => e.kind === 'removal').length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      entries = await audit.list({ since: 0 });
    }
    const removals = entries.filter((e) => e.kind === 'removal');
    expect(removals.map((e) => [e.actor?.name, e.what])).toEqual([
      ['mo', 'v1#1'],
      ['Mo', 'v1#2'],
    ]);
    expect(removals[0]).toMatchObject({ platform: 'local', channelId: 'general', threadId });
    expect(entries.find((e) => e.kind === 'refusal' && e.code === 'forbidden')?.actor?.name).toBe('Ana');
  });
});
