import { afterEach, describe, expect, test } from 'vitest';
import { startRig, type DiscordRig } from './discord-harness.ts';
import type { RecordedCall } from './stand-in/discord-stand-in.ts';

/**
 * Discord allows two renames per thread in ten minutes. The stand-in enforces it as Discord does
 * (a 429 with retry_after, the bucket still showing room) over a short window, and the adapter
 * must apply the newest name once the window allows, never a stale one, without making the
 * caller wait.
 */

const WINDOW_MS = 900;

let rig: DiscordRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function session(r: DiscordRig) {
  const sent = r.standIn.command('video', { prompt: 'a red circle', takes: 1 });
  const thread = (await r.waitSettled(sent.id)).outcome?.thread;
  if (!thread) throw new Error('no session thread');
  return thread;
}

const renamesOf = (r: DiscordRig, threadId: string) => r.standIn.calls.filter((c: RecordedCall) => c.method === 'PATCH' && c.path === `/channels/${threadId}` && c.json?.name !== undefined);

describe('thread renames', () => {
  test('the stand-in refuses a third rename inside the window with a 429 and retry_after, and allows it after', async () => {
    rig = await startRig({ standIn: { renameWindowMs: WINDOW_MS } });
    const thread = await session(rig);
    const rename = (name: string) =>
      fetch(`${rig!.standIn.apiUrl}/v10/channels/${thread.threadId}`, { method: 'PATCH', headers: { authorization: `Bot ${rig!.standIn.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    expect((await rename('one')).status).toBe(200);
    expect((await rename('two')).status).toBe(200);
    const refused = await rename('three');
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { retry_after: number; global: boolean };
    expect(body.global).toBe(false);
    expect(body.retry_after).toBeGreaterThan(0);
    expect(body.retry_after).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(refused.headers.get('retry-after')).toEqual(expect.any(String));
    expect(rig.standIn.channels.get(thread.threadId)?.name).toBe('two');
    await new Promise((r) => setTimeout(r, body.retry_after * 1000 + 20));
    expect((await rename('three')).status).toBe(200);
  });

  test('five retitles: two use the window up, the last three wait and only the newest is applied, after the window', async () => {
    rig = await startRig({ standIn: { renameWindowMs: WINDOW_MS }, adapter: { renameWindowMs: WINDOW_MS } });
    const thread = await session(rig);
    const shows = (name: string) => rig!.standIn.waitUntil(() => rig!.standIn.channels.get(thread.threadId)?.name === name, 3 * WINDOW_MS, `the name "${name}"`);
    const settle = () => new Promise((r) => setTimeout(r, 30));
    await rig.adapter.retitle(thread, { title: 'v2 · a blue circle' });
    await shows('v2 · a blue circle');
    await settle();
    await rig.adapter.retitle(thread, { title: 'v3 · a blue circle moving' });
    await shows('v3 · a blue circle moving');
    await settle();
    const quick = performance.now();
    for (const n of [4, 5, 6]) await rig.adapter.retitle(thread, { title: `v${n} · a blue circle moving ${n}` });
    // Nobody waited for the window.
    expect(performance.now() - quick).toBeLessThan(WINDOW_MS / 3);
    await shows('v6 · a blue circle moving 6');
    const ok = renamesOf(rig, thread.threadId).filter((c) => c.status === 200);
    expect(ok.map((c) => c.json.name)).toEqual(['v2 · a blue circle', 'v3 · a blue circle moving', 'v6 · a blue circle moving 6']);
    expect(ok[2]!.time - ok[0]!.time).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    // The adapter counted the window itself: Discord never had to refuse it.
    expect(renamesOf(rig, thread.threadId).filter((c) => c.status === 429)).toEqual([]);
    // A stale name never lands after the newest.
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    expect(rig.standIn.channels.get(thread.threadId)?.name).toBe('v6 · a blue circle moving 6');
    expect(renamesOf(rig, thread.threadId)).toHaveLength(3);
  });

  test('renames made before a restart: the 429 holds the newest name until retry_after, then applies it', async () => {
    rig = await startRig({ standIn: { renameWindowMs: WINDOW_MS }, adapter: { renameWindowMs: WINDOW_MS } });
    const thread = await session(rig);
    // Another process (this bot before a restart) used the window up.
    for (const name of ['old 1', 'old 2']) {
      const res = await fetch(`${rig.standIn.apiUrl}/v10/channels/${thread.threadId}`, { method: 'PATCH', headers: { authorization: `Bot ${rig.standIn.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      expect(res.status).toBe(200);
    }
    await rig.adapter.retitle(thread, { title: 'v2 · stale', header: 'Ada started a video: "a red circle"\nNow at v2 by Ben: "stale"' });
    await rig.standIn.waitUntil(() => renamesOf(rig!, thread.threadId).some((c) => c.status === 429), 2000, 'the 429');
    await rig.adapter.retitle(thread, { title: 'v3 · newest', header: 'Ada started a video: "a red circle"\nNow at v3 by Ben: "newest"' });
    await rig.standIn.waitUntil(() => rig!.standIn.channels.get(thread.threadId)?.name === 'v3 · newest', 4 * WINDOW_MS, 'the newest name');
    const names = renamesOf(rig, thread.threadId).map((c) => `${c.status} ${c.json.name}`);
    expect(names.filter((n) => n.startsWith('200 v'))).toEqual(['200 v3 · newest']);
    // The starter message (the session header) changed at once, without the window.
    expect(rig.standIn.messages.get(thread.threadId)?.content).toContain('Now at v3 by Ben: "newest"');
    expect(rig.logs.filter((l) => l.level !== 'info' && l.message.includes('rename'))).toEqual([]);
  });
});
