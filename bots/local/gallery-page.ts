import type { Context } from 'hono';
import { galleryPath } from '../../src/core/gallery.ts';
import { GALLERY_KEY_REFUSAL, type GalleryAccess } from './api/gallery.ts';
import { clip } from '../../src/core/text.ts';
import { html, scriptlessPageCsp } from './credentials-page.ts';
import { GALLERY_PAGE_MAX, parseGalleryQuery } from './gallery-query.ts';
import { galleryPageView, type GalleryEntryView, type GalleryPageView } from './gallery-view.ts';

/**
 * GET /gallery: every web chat channel's winning and finalized takes, newest first; with
 * `?channel=` one channel (any platform's: the link /gallery answers on Discord and Slack), a page
 * at a time. Rendered on the server, like the credentials page: prompts and names are people's
 * text, so each one is HTML-escaped (control and bidi-override characters shown as escapes) and
 * isolated. The only script the CSP allows is this server's /static/local-times.js, which shows
 * the times in the viewer's zone and reads nothing but their datetime attributes.
 */

/** Takes per channel on the page of all channels; each links its channel's own pages for the rest. */
const OVERVIEW_PER_CHANNEL = 12;

const STYLE = `
:root { color-scheme: light dark; --text: #1d1f24; --muted: #646b78; --line: #e3e5ea; --bg: #f7f7f9; --pane: #fff; --accent: #5b5bd6; }
@media (prefers-color-scheme: dark) { :root { --text: #e6e8ee; --muted: #9aa1b0; --line: #2c3039; --bg: #15171d; --pane: #1b1e25; --accent: #9d9df5; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--text); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 18px 48px; }
.brand { margin: 0 0 12px; font-size: 13px; color: var(--muted); font-weight: 600; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { margin: 28px 0 10px; font-size: 18px; overflow-wrap: anywhere; }
.lede, .empty { color: var(--muted); margin: 0 0 8px; }
.takes { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 14px; }
.take { background: var(--pane); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; display: flex; flex-direction: column; }
.take video { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: contain; background: #000; }
.about { padding: 10px 12px 12px; display: flex; flex-direction: column; gap: 4px; }
.about p { margin: 0; overflow-wrap: anywhere; }
.what { font-size: 13px; color: var(--muted); }
.what strong { color: var(--text); }
.prompt { font-weight: 600; }
.lineage, .credits, .elsewhere { font-size: 13px; color: var(--muted); }
a { color: var(--accent); }
.more { margin: 10px 0 0; }
`;

const CSP = `${scriptlessPageCsp(STYLE)}; script-src 'self'`;

const KIND_TEXT: Record<GalleryEntryView['kind'], string> = { winner: 'won its vote', final: 'final', film: 'film' };
const PLATFORM_THREADS: Record<GalleryEntryView['thread']['platform'], string> = { local: 'a web chat thread', discord: 'a Discord thread', slack: 'a Slack thread' };

/** Text that may be written in a right-to-left script, isolated so it cannot reorder what is around it. */
const bdi = (text: string) => `<bdi>${html(text)}</bdi>`;

function when(at: number): string {
  const iso = new Date(at).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

function takeItem(entry: GalleryEntryView): string {
  const kind = entry.kind === 'final' && entry.won ? 'final, won its vote' : KIND_TEXT[entry.kind];
  const poster = entry.poster ? ` poster="${html(entry.poster)}"` : '';
  const credits = entry.credits.map((c) => `${bdi(c.name)} (${html(c.roles.join(', '))})`).join(', ');
  const thread = entry.threadUrl
    ? `<p><a class="thread-link" href="${html(entry.threadUrl)}">Open the thread</a></p>`
    : `<p class="elsewhere">In ${PLATFORM_THREADS[entry.thread.platform]}</p>`;
  return [
    `<li class="take" data-kind="${html(entry.kind)}" data-session="${html(entry.session)}">`,
    `<video src="${html(entry.video)}"${poster} controls muted playsinline preload="none" aria-label="${html(`${entry.label}: ${clip(entry.prompt, 80)}`)}"></video>`,
    '<div class="about">',
    `<p class="what"><strong>${html(entry.label)}</strong> · ${kind} · ${when(entry.at)}</p>`,
    `<p class="prompt">${bdi(entry.prompt)}</p>`,
    `<p class="lineage">${bdi(entry.lineage)}</p>`,
    credits ? `<p class="credits">Credits: ${credits}</p>` : '',
    thread,
    '</div>',
    '</li>',
  ].join('');
}

/** One channel: its takes, and a link to the rest when there are more than shown. */
function channelSection(view: GalleryPageView, n: number, more: { href: string; text: string } | null): string {
  const id = `channel-${n}`;
  const takes = view.entries.length === 0 ? '<p class="empty">No winning or finalized takes yet.</p>' : `<ol class="takes">${view.entries.map(takeItem).join('')}</ol>`;
  const link = more ? `<p class="more"><a href="${html(more.href)}">${html(more.text)}</a></p>` : '';
  return `<section class="channel" aria-labelledby="${id}" data-channel="${html(view.channel.key)}"><h2 id="${id}">${bdi(view.channel.name)}</h2>${takes}${link}</section>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand"><a href="/">dailies</a> · Gallery</p>
${body}
</main>
<script type="module" src="/static/local-times.js"></script>
</body>
</html>
`;
}

/** Every web chat channel, each with its newest takes and a link to the rest. */
export function renderGalleryOverview(views: readonly GalleryPageView[]): string {
  const sections = views.map((v, i) => channelSection(v, i + 1, v.next ? { href: galleryPath(v.channel.key), text: `All takes in ${v.channel.name}` } : null));
  const body = [
    '<h1>Gallery</h1>',
    '<p class="lede">Takes that won their vote, finals and films, newest first. Open a thread to see how one was made.</p>',
    views.length === 0 ? '<p class="empty">There are no channels yet.</p>' : sections.join('\n'),
  ].join('\n');
  return page('Gallery · dailies', body);
}

/** One channel, one page of it, with the link to the older takes. */
export function renderGalleryChannel(view: GalleryPageView, path = galleryPath(view.channel.key)): string {
  const older = view.next ? { href: `${path}&before=${encodeURIComponent(view.next)}`, text: `Older takes in ${view.channel.name}` } : null;
  const body = [
    `<h1>Gallery · ${bdi(view.channel.name)}</h1>`,
    '<p class="lede">Takes that won their vote, finals and films, newest first. <a href="/gallery">All channels</a></p>',
    channelSection(view, 1, older),
  ].join('\n');
  return page(`Gallery · ${html(view.channel.name)} · dailies`, body);
}

function renderGalleryError(message: string): string {
  return page('Gallery · dailies', `<h1>Gallery</h1>\n<p class="empty">${html(message)}</p>`);
}

/** GET /gallery. `channels`: the web chat's own channel ids, listed when no channel is asked for. */
export function galleryPageRoute({ read, links }: GalleryAccess, channels: () => Promise<string[]>) {
  return async (c: Context) => {
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', 'no-cache');
    const parsed = parseGalleryQuery(c.req.query());
    if (!parsed.ok) return c.html(renderGalleryError(parsed.message), 400);
    const { channel, before, limit, key } = parsed.query;
    if (channel) {
      if (!links.allows(channel, key)) return c.html(renderGalleryError(GALLERY_KEY_REFUSAL), 404);
      const view = galleryPageView(channel, await read(channel, { limit: limit ?? GALLERY_PAGE_MAX, ...(before && { before }) }));
      return c.html(renderGalleryChannel(view, links.path(channel)));
    }
    const keys = (await channels()).map((id) => `local:${id}`);
    const views = await Promise.all(keys.map(async (key) => galleryPageView(key, await read(key, { limit: OVERVIEW_PER_CHANNEL }))));
    return c.html(renderGalleryOverview(views));
  };
}
