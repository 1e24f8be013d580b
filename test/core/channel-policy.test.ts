import { describe, expect, it } from 'vitest';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { MemoryChannelTerms } from '../../src/storage/memory-channel-terms.ts';
import { MemoryAuditLog } from '../../src/storage/memory-audit-log.ts';
import { alice, mod, startVideo, startedHarnesses } from './fakes/harness.ts';

const make = startedHarnesses();

describe("a channel's own blocked terms (/policy)", () => {
  it('are set by moderators, checked with the same matching as the server list, and named in the refusal', async () => {
    const audit = new MemoryAuditLog();
    const h = make({ core: { channelTerms: new MemoryChannelTerms(), policy: createPromptPolicy({ blockedTerms: ['gore'] }), audit } });
    expect((await h.core(h.command('policy', { action: 'add', term: 'dragon' }, alice))).error).toMatchObject({ code: 'forbidden' });
    expect((await h.core(h.command('policy', { action: 'add', term: 'dragon' }, mod))).ephemeral).toBe('Prompts in this channel may no longer mention "dragon".');
    expect((await h.core(h.command('policy', {}, mod))).ephemeral).toBe('This channel blocks 1 term on top of the server\'s list: "dragon".');

    const refused = await h.core(h.command('video', { prompt: 'a red d r a g o n flying' }));
    expect(refused.error).toEqual({ code: 'policy_refused', message: 'Your prompt was refused because it mentions "dragon", which this channel does not allow; rephrase it without that term.' });
    const server = await h.core(h.command('video', { prompt: 'lots of gore' }));
    expect(server.error?.message).toBe('Your prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.');
    // Another channel has its own list.
    expect((await h.core({ ...h.command('video', { prompt: 'a red dragon' }), channelId: 'c2' })).error).toBeUndefined();

    // Replies in the channel's threads are checked too.
    const { thread } = await startVideo(h, { prompt: 'a red ball', takes: 1 });
    const reply = await h.core(h.reply(thread, 'with a dragon'));
    expect(reply.error?.message).toMatch(/"dragon", which this channel does not allow/);

    expect((await h.core(h.command('policy', { action: 'remove', term: 'dragon' }, mod))).ephemeral).toBe('This channel no longer blocks "dragon" (the server\'s list still applies).');
    expect((await h.core(h.command('video', { prompt: 'a red dragon' }))).error).toBeUndefined();
    const changes = (await audit.list({ since: 0 })).filter((e) => e.kind === 'policy').map((e) => [e.actor?.name, e.channelId, e.what]);
    expect(changes).toEqual([
      ['Mo', 'c1', 'blocked "dragon" in this channel'],
      ['Mo', 'c1', 'unblocked "dragon" in this channel'],
    ]);
  });
});
