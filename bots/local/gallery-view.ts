import type { GalleryEntry, GalleryPage } from '../../src/core/gallery.ts';
import type { Platform } from '../../src/core/ports/chat-adapter.ts';
import { artifactUrl } from './artifact-files.ts';
import { cursorText } from './gallery-query.ts';

/**
 * What the gallery page and GET /api/gallery show of a gallery entry: files as the addresses this
 * server serves them at, the thread as a link into the page (a web chat thread; other platforms'
 * threads are named, since their addresses need ids the session does not keep), and people by
 * name only, as the session summary beside a thread shows them.
 */

export interface GalleryEntryView extends Pick<GalleryEntry, 'kind' | 'won' | 'version' | 'take' | 'label' | 'prompt' | 'lineage' | 'credits' | 'at'> {
  session: string;
  thread: { platform: Platform; channel: string; id: string };
  /** The thread open in the web chat page; null for a Discord or Slack thread. */
  threadUrl: string | null;
  /** The take's video, at this server's address for it. */
  video: string;
  /** A still shown until the video plays; null when the take has none. */
  poster: string | null;
}

export interface GalleryPageView {
  channel: { key: string; name: string };
  entries: GalleryEntryView[];
  /** Pass as `before` for the next page; null when this page is the last. */
  next: string | null;
}

const PLATFORM_NAMES: Record<Exclude<Platform, 'local'>, string> = { discord: 'Discord', slack: 'Slack' };

/** "#general" for a web chat channel, "Discord channel 123" for another platform's. */
export function channelName(channelKey: string): string {
  const i = channelKey.indexOf(':');
  const platform = channelKey.slice(0, i) as Platform;
  const id = channelKey.slice(i + 1);
  return platform === 'local' ? `#${id}` : `${PLATFORM_NAMES[platform]} channel ${id}`;
}

/** The web chat page with the thread open: the address app.js routes (`#/<channel>/<thread>`). */
export function threadUrl(entry: Pick<GalleryEntry, 'thread'>): string | null {
  const { thread } = entry;
  return thread.platform === 'local' ? `/#/${encodeURIComponent(thread.channelId)}/${encodeURIComponent(thread.threadId)}` : null;
}

export function galleryEntryView(entry: GalleryEntry): GalleryEntryView {
  return {
    session: entry.sessionId,
    thread: { platform: entry.thread.platform, channel: entry.thread.channelId, id: entry.thread.threadId },
    threadUrl: threadUrl(entry),
    kind: entry.kind,
    won: entry.won,
    version: entry.version,
    take: entry.take,
    label: entry.label,
    prompt: entry.prompt,
    lineage: entry.lineage,
    credits: entry.credits.map((c) => ({ name: c.name, roles: [...c.roles] })),
    video: artifactUrl(entry.video.key),
    poster: entry.preview ? artifactUrl(entry.preview.key) : null,
    at: entry.at,
  };
}

export function galleryPageView(channelKey: string, page: GalleryPage): GalleryPageView {
  return { channel: { key: channelKey, name: channelName(channelKey) }, entries: page.entries.map(galleryEntryView), next: page.next ? cursorText(page.next) : null };
}
