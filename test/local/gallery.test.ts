import { afterEach, describe, expect, it } from 'vitest';
import { readGallery } from '../../src/core/gallery.ts';
import type { Person } from '../../src/core/session.ts';
import type { ThreadRef } from '../../src/core/ports/chat-adapter.ts';
import { MemorySessionStore } from '../../src/storage/memory-session-store.ts';
import { GalleryLinks } from '../../src/core/gallery-links.ts';
import { getJson, startTestChat, type TestChat } from './helpers.ts';

/**
 * GET /api/gallery and GET /gallery over sessions in a session store: what each take shows, the
 * paging, the refusals, and people's text kept as text (a prompt with <script> shows as words).
 */

const ana: Person = { id: 'u-ana', name: 'Ana' };
const ben: Person = { id: 'u-ben', name: 'Ben' };
const T0 = Date.UTC(2025, 0, 1, 12);
let time = T0;

let t: TestChat | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** A session whose take 1 of v1 won its vote (and v2 by Ben when `refined`). */
async function winner(store: MemorySessionStore, id: string, thread: ThreadRef, prompt: string, refined = false): Promise<void> {
  await store.create({ id, thread, owner: ana, first: { prompt, negativePrompt: '', seed: 1, author: ana, change: 'first version' }, settings: { takes: 1 } });
  const version = refined ? (await store.appendVersion(id, { prompt: `${prompt}, slower`, negativePrompt: '', seed: 2, parent: 1, author: ben, change: 'added "slower"' })).version.n : 1;
  const jobId = `j-${id}`;
  await store.addJob(id, { jobId, version, kind: 'render', quality: 'draft', takes: 1, requestedBy: ana });
  await store.transitionJob(jobId, 'done', {
    artifacts: [{ index: 0, seed: 1, video: { key: `renders/${jobId}/take0.mp4`, bytes: 1, contentType: 'video/mp4' }, preview: { key: `renders/${jobId}/take0.png`, bytes: 1, contentType: 'image/png' } }],
  });
  await store.openRound(id, { jobId, takes: 1, deadline: time + 60_000, quorum: 0 });
  await store.closeRound(id, 1, { take: 0, by: ana });
  time += 1000;
}

async function start(): Promise<{ chat: TestChat; store: MemorySessionStore }> {
  time = T0;
  const store = new MemorySessionStore({ now: () => time });
  t = await startTestChat({ gallery: { read: (channelKey, page) => readGallery(store, channelKey, page, { anonymous: false }), links: new GalleryLinks('test-gallery-secret') } });
  await winner(store, 's1', { platform: 'local', channelId: 'general', threadId: 't_one' }, 'a red circle');
  await winner(store, 's2', { platform: 'local', channelId: 'general', threadId: 't_two' }, 'a <script>alert(1)</script> & "boat"', true);
  await winner(store, 's3', { platform: 'discord', channelId: '123', threadId: '456' }, 'a paper boat');
  return { chat: t, store };
}

async function getHtml(url: string): Promise<{ status: number; csp: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, csp: res.headers.get('content-security-policy'), body: await res.text() };
}

describe('GET /api/gallery', () => {
  it("answers a channel's takes, newest first, with their files, thread, lineage and credits", async () => {
    const { chat } = await start();
    const res = await getJson(`${chat.chat.url}/api/gallery?channel=local:general`);
    expect(res.status).toBe(200);
    expect(res.body.channel).toEqual({ key: 'local:general', name: '#general' });
    expect(res.body.next).toBeNull();
    expect(res.body.entries.map((e: { session: string }) => e.session)).toEqual(['s2', 's1']);
    expect(res.body.entries[0]).toEqual({
      session: 's2',
      thread: { platform: 'local', channel: 'general', id: 't_two' },
      threadUrl: '/#/general/t_two',
      kind: 'winner',
      won: true,
      version: 2,
      take: 1,
      label: 'v2#1',
      prompt: 'a <script>alert(1)</script> & "boat", slower',
      lineage: 'v1 by Ana → v2 by Ben',
      credits: [
        { name: 'Ana', roles: ['prompted'] },
        { name: 'Ben', roles: ['revised'] },
      ],
      video: '/artifacts/renders/j-s2/take0.mp4',
      poster: '/artifacts/renders/j-s2/take0.png',
      at: T0 + 1000,
    });
  });

  it('pages with next, and reads any platform\'s channel', async () => {
    const { chat } = await start();
    const first = await getJson(`${chat.chat.url}/api/gallery?channel=local:general&limit=1`);
    expect(first.body.entries.map((e: { session: string }) => e.session)).toEqual(['s2']);
    expect(first.body.next).toBe(`${T0 + 1000}.s2`);
    const second = await getJson(`${chat.chat.url}/api/gallery?channel=local:general&limit=1&before=${first.body.next}`);
    expect(second.body).toMatchObject({ entries: [{ session: 's1' }], next: null });
    // Another platform's channel opens only with the key its /gallery link carries (src/core/gallery-links.ts).
    const keyed = new GalleryLinks('test-gallery-secret').path('discord:123').replace('/gallery', '/api/gallery');
    const discord = await getJson(`${chat.chat.url}${keyed}`);
    expect(discord.body).toMatchObject({ channel: { name: 'Discord channel 123' }, entries: [{ session: 's3', threadUrl: null }] });
    for (const query of ['', '&key=AAAAAAAAAAAAAAAAAAAAAA', `&key=${new GalleryLinks('another-secret').path('discord:123').split('key=')[1]}`]) {
      const refused = await getJson(`${chat.chat.url}/api/gallery?channel=discord:123${query}`);
      expect(refused.status, query).toBe(404);
      expect(refused.body.error.message).toBe('This gallery link does not open that channel; ask for a new one with /gallery in the channel.');
    }
    // The key of one channel does not open another.
    expect((await getJson(`${chat.chat.url}${keyed.replace('discord:123', 'discord:124')}`)).status).toBe(404);
  });

  it('refuses an address it cannot read with one sentence', async () => {
    const { chat } = await start();
    const cases: Array<[string, string]> = [
      ['', 'Name the channel whose gallery to read, like /api/gallery?channel=local:general.'],
      ['?channel=general', 'The gallery address: channel must name a channel as platform:id, like local:general.'],
      ['?channel=local:general&before=yesterday', 'The gallery address: before must be the "next" of the page before, like 1735689600000.s1.'],
      ['?channel=local:general&limit=500', 'The gallery address: limit must be a whole number from 1 to 50.'],
    ];
    for (const [query, message] of cases) {
      const res = await getJson(`${chat.chat.url}/api/gallery${query}`);
      expect(res, query).toMatchObject({ status: 400, body: { error: { code: 'bad_input', message } } });
    }
  });

  it('is not served without a session store to read', async () => {
    t = await startTestChat();
    expect((await getJson(`${t.chat.url}/api/gallery?channel=local:general`)).status).toBe(404);
    expect((await fetch(`${t.chat.url}/gallery`)).status).toBe(404);
  });
});

describe('GET /gallery', () => {
  it('shows every web chat channel with its takes, people\'s text as text, and no script but its own time formatter', async () => {
    const { chat } = await start();
    const page = await getHtml(`${chat.chat.url}/gallery`);
    expect(page.status).toBe(200);
    expect(page.csp).toContain("default-src 'none'");
    // One script, this server's own file; no inline script can run.
    expect(page.csp).toContain("script-src 'self'");
    expect(page.csp).not.toContain('unsafe-inline');
    expect(page.body.match(/<script\b[^>]*>/gi)).toEqual(['<script type="module" src="/static/local-times.js">']);
    expect(page.body).toContain('<bdi>a &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;boat&quot;, slower</bdi>');
    // The default channels, in order; #studio has nothing yet. Another platform's channel is not listed.
    expect([...page.body.matchAll(/<h2 id="channel-\d+"><bdi>([^<]+)<\/bdi><\/h2>/g)].map((m) => m[1])).toEqual(['#general', '#studio']);
    expect(page.body).toContain('No winning or finalized takes yet.');
    expect(page.body).not.toContain('a paper boat');
    expect(page.body).toContain('<a class="thread-link" href="/#/general/t_two">Open the thread</a>');
    expect(page.body).toContain('<video src="/artifacts/renders/j-s2/take0.mp4" poster="/artifacts/renders/j-s2/take0.png" controls muted playsinline preload="none"');
    expect(page.body).toContain('<p class="lineage"><bdi>v1 by Ana → v2 by Ben</bdi></p>');
    expect(page.body).toContain('<p class="credits">Credits: <bdi>Ana</bdi> (prompted), <bdi>Ben</bdi> (revised)</p>');
  });

  it('shows one channel a page at a time, linking the older takes', async () => {
    const { chat } = await start();
    const first = await getHtml(`${chat.chat.url}/gallery?channel=local:general&limit=1`);
    expect(first.body).toContain('data-session="s2"');
    expect(first.body).not.toContain('data-session="s1"');
    const older = /<a href="([^"]+)">Older takes in #general<\/a>/.exec(first.body)?.[1];
    expect(older).toBe(`/gallery?channel=local:general&amp;before=${T0 + 1000}.s2`);
    const second = await getHtml(`${chat.chat.url}${older!.replaceAll('&amp;', '&')}`);
    expect(second.body).toContain('data-session="s1"');
    expect(second.body).not.toContain('Older takes');

    expect((await getHtml(`${chat.chat.url}/gallery?channel=discord:123`)).status).toBe(404);
    const discord = await getHtml(`${chat.chat.url}${new GalleryLinks('test-gallery-secret').path('discord:123')}`);
    expect(discord.body).toContain('<h1>Gallery · <bdi>Discord channel 123</bdi></h1>');
    expect(discord.body).toContain('<p class="elsewhere">In a Discord thread</p>');

    const bad = await getHtml(`${chat.chat.url}/gallery?channel=%3Cb%3E`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('The gallery address: channel must name a channel as platform:id, like local:general.');
  });
});
