import { describe, expect, it } from 'vitest';
import { describeBlocks } from './blocks.suite.ts';
import { coreRigPerTest } from './core-rig.ts';
import { getJson, postJson, startTestChat } from './helpers.ts';
import { LocalHttpDriver } from './local-driver.ts';
import { LOCAL_TIME } from './shown-times.ts';

// The web chat's moderators are the names DAILIES_LOCAL_MODERATORS lists; a person option is a name.
describeBlocks('local web chat (HTTP API)', async () => {
  const t = await startTestChat({ moderators: ['Mo'] });
  return { adapter: t.chat.adapter, driver: new LocalHttpDriver(t.chat.url), channel: 'general', users: ['Ana', 'Ben'], moderator: 'Mo', person: (user) => user, time: LOCAL_TIME, artifacts: t.store, cleanup: t.cleanup };
});

describe('a person typed in the web chat', () => {
  let chat = '';
  const { rig } = coreRigPerTest(async () => {
    const t = await startTestChat({ moderators: ['Mo'] });
    chat = t.chat.url;
    return { adapter: t.chat.adapter, driver: new LocalHttpDriver(t.chat.url), channel: 'general', users: ['Ana', 'Ben'], moderator: 'Mo', artifacts: t.store, cleanup: t.cleanup };
  });
  const typed = (user: string, text: string) => postJson(`${chat}/api/commands`, { channel: 'general', user, text });

  it('is a display name, with or without @, however it is cased; an impossible name gets one sentence', async () => {
    const blockedAt = Date.now();
    const blocked = await typed('Mo', '/block @ben for:30m reason:cool off');
    expect(blocked.status).toBe(200);
    // The end is written as the core writes times: with the day when 30 minutes from now is
    // tomorrow (a run at 23:42 UTC read "until 6 Dec 00:12 UTC").
    const until = new RegExp(`^ben is blocked from dailies until (${LOCAL_TIME.pattern}): cool off\\.$`).exec(blocked.body.ephemeral);
    expect(until, blocked.body.ephemeral).not.toBeNull();
    expect(Math.abs(LOCAL_TIME.at(until![1]!) - (blockedAt + 30 * 60_000))).toBeLessThanOrEqual(2 * 60_000);
    // "Ben" is the same person as "ben" here.
    const refused = await typed('Ben', '/video a red circle');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(new RegExp(`^You are blocked from dailies until ${LOCAL_TIME.pattern} by a moderator: cool off\\.$`));
    const help = (await getJson(`${chat}/api/commands/help`)).body.commands as { name: string; options: { name: string; type: string }[] }[];
    expect(help.find((c) => c.name === 'block')!.options.map((o) => [o.name, o.type])).toEqual([['user', 'person'], ['for', 'string'], ['reason', 'string']]);
    const bad = await postJson(`${chat}/api/commands`, { channel: 'general', user: 'Mo', name: 'unblock', options: { user: 'x'.repeat(41) } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe("user must be a person's name as the web chat shows it (1 to 40 characters), such as Ben.");
    expect((await typed('Mo', '/unblock BEN')).body.ephemeral).toBe('BEN may use dailies again.');
    expect(rig().queue.jobs).toHaveLength(0);
    expect((await typed('Ben', '/video a red circle')).status).toBe(200);
  });
});
