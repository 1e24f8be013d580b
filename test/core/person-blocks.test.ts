import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { MemoryPersonBlocks } from '../../src/storage/memory-person-blocks.ts';
import { actionKey } from '../../src/core/actions.ts';
import { alice, bob, mod, startVideo, startedHarnesses } from './fakes/harness.ts';

const make = startedHarnesses();
const ben = (u = bob) => ({ id: u.id, name: u.name });

describe('moderators block a person from the bot for a while (/block, /unblock)', () => {
  it("refuses the blocked person's commands, replies and buttons with until when and why, starts nothing, and ends by itself", async () => {
    const audit = new MemoryAuditLog();
    const h = make({ core: { blocks: new MemoryPersonBlocks(), audit } });
    const { thread } = await startVideo(h, { prompt: 'a red ball', takes: 1 });
    const session = (await h.store.getByThread(thread))!;
    const jobsBefore = h.queue.jobs.length;

    // The harness clock starts at 12:00 UTC.
    const blocked = await h.core(h.command('block', { user: ben(), for: '2h', reason: 'spamming renders.' }, mod));
    expect(blocked.error).toBeUndefined();
    expect(blocked.ephemeral).toBe('Bob is blocked from dailies until 14:00 UTC: spamming renders.');

    const sentence = 'You are blocked from dailies until 14:00 UTC by a moderator: spamming renders.';
    expect((await h.core(h.command('video', { prompt: 'a blue ball' }, bob))).error).toEqual({ code: 'forbidden', message: sentence });
    expect((await h.core(h.command('help', {}, bob))).error?.message).toBe(sentence);
    expect(await h.core(h.reply(thread, 'on a green background', bob))).toMatchObject({ thread, error: { code: 'forbidden', message: sentence } });
    const reroll = actionKey({ type: 'reroll', sessionId: session.id });
    expect((await h.core(h.action(thread, reroll, bob))).error?.message).toBe(sentence);
    expect(h.queue.jobs.length).toBe(jobsBefore);
    expect((await h.store.get(session.id))!.versions).toHaveLength(1);
    // Everyone else is unaffected.
    expect((await h.core(h.command('video', { prompt: 'a blue ball' }, alice))).error).toBeUndefined();

    // The list, for moderators only.
    expect((await h.core(h.command('block', {}, mod))).ephemeral).toBe('Blocked from dailies here:\n• Bob until 14:00 UTC, by Mo: spamming renders.');
    expect((await h.core(h.command('block', {}, alice))).error?.message).toBe('Only a moderator can block people from dailies or see who is blocked; ask one of your server or workspace moderators.');

    // Two hours on, the block has ended by itself.
    h.clock.advance(2 * 3_600_000);
    expect((await h.core(h.command('video', { prompt: 'a blue ball' }, bob))).error).toBeUndefined();
    expect((await h.core(h.command('block', {}, mod))).ephemeral).toBe('Nobody is blocked from dailies here.');

    const entries = (await audit.list({ since: 0 })).filter((e) => e.kind === 'block').map((e) => [e.actor?.name, e.what]);
    expect(entries).toEqual([['Mo', 'blocked Bob (u-bob) until 2025-01-01 14:00 UTC: spamming renders.']]);
  });

  it('/unblock ends a block early; non-moderators, self-blocks and bad lengths get one sentence', async () => {
    const audit = new MemoryAuditLog();
    const h = make({ core: { blocks: new MemoryPersonBlocks(), audit } });
    expect((await h.core(h.command('block', { user: ben(), for: '1d' }, alice))).error).toEqual({ code: 'forbidden', message: 'Only a moderator can block people from dailies or see who is blocked; ask one of your server or workspace moderators.' });
    expect((await h.core(h.command('block', { user: ben(mod), for: '1d' }, mod))).error?.message).toBe('You cannot block yourself; name someone else.');
    expect((await h.core(h.command('block', { user: ben(), for: 'soon' }, mod))).error?.message).toBe('for must be a length of time such as 30m, 2h, 1d or 7d.');
    expect((await h.core(h.command('block', { user: ben(), for: '91d' }, mod))).error?.message).toBe('for must be from 1 minute to 90 days (90d); "91d" is too long.');
    expect((await h.core(h.command('block', { user: ben() }, mod))).error?.message).toBe('Say how long to block Bob for: 30m, 2h, 1d or 7d (at most 90 days).');
    expect((await h.core(h.command('block', { user: 'Bob', for: '1d' }, mod))).error?.message).toBe('user must be one person, such as @Ben.');

    expect((await h.core(h.command('block', { user: ben(), for: '7d' }, mod))).ephemeral).toBe('Bob is blocked from dailies until 8 Jan 12:00 UTC.');
    expect((await h.core(h.command('video', { prompt: 'a ball' }, bob))).error?.message).toBe('You are blocked from dailies until 8 Jan 12:00 UTC by a moderator.');
    expect((await h.core(h.command('block', { user: ben(), for: '30m' }, mod))).ephemeral).toBe('Bob is blocked from dailies until 12:30 UTC (instead of until 8 Jan 12:00 UTC).');
    expect((await h.core(h.command('unblock', { user: ben() }, alice))).error?.code).toBe('forbidden');
    expect((await h.core(h.command('unblock', { user: ben() }, mod))).ephemeral).toBe('Bob may use dailies again.');
    expect((await h.core(h.command('video', { prompt: 'a ball' }, bob))).error).toBeUndefined();
    expect((await h.core(h.command('unblock', { user: ben() }, mod))).ephemeral).toBe('Bob is not blocked from dailies here; /block lists who is.');
    const kinds = (await audit.list({ since: 0 })).filter((e) => e.kind === 'block').map((e) => e.what);
    expect(kinds).toEqual(['blocked Bob (u-bob) until 2025-01-08 12:00 UTC', 'blocked Bob (u-bob) until 2025-01-01 12:30 UTC', 'unblocked Bob (u-bob)']);
  });

  it('holds per workspace: a block on one Discord server leaves the person free on another', async () => {
    const h = make({ core: { blocks: new MemoryPersonBlocks() } });
    const on = (workspaceId: string, name: string, options: Record<string, unknown>, user = bob) => h.core({ ...h.command(name, options, user), workspaceId });
    expect((await on('G1', 'block', { user: ben(), for: '1h' }, mod)).error).toBeUndefined();
    expect((await on('G1', 'video', { prompt: 'a ball' })).error?.code).toBe('forbidden');
    expect((await on('G2', 'video', { prompt: 'a ball' })).error).toBeUndefined();
    expect((await h.core(h.command('video', { prompt: 'a ball' }, bob))).error).toBeUndefined();
  });
});
