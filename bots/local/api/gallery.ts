import { Hono } from 'hono';
import type { GalleryReader } from '../../../src/core/gallery.ts';
import type { GalleryLinks } from '../../../src/core/gallery-links.ts';
import { GALLERY_PAGE_MAX, parseGalleryQuery } from '../gallery-query.ts';
import { galleryPageView } from '../gallery-view.ts';
import { fail } from './context.ts';

/**
 * GET /api/gallery?channel=<platform:id>[&before=<next>][&limit=N]: one page of a channel's
 * winning and finalized takes, newest first, as `{channel, entries, next}` (../gallery-view.ts);
 * what GET /gallery shows, for scripts and tests.
 */
export interface GalleryAccess {
  read: GalleryReader;
  /** Which keys open which channel's gallery (a Discord or Slack channel's needs its /gallery link's key). */
  links: GalleryLinks;
}

/** The one sentence for a Discord or Slack channel's gallery asked for without its link's key. */
export const GALLERY_KEY_REFUSAL = "This gallery link does not open that channel; ask for a new one with /gallery in the channel.";

export function galleryApi({ read, links }: GalleryAccess): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const parsed = parseGalleryQuery(c.req.query());
    if (!parsed.ok) return fail(c, 400, 'bad_input', parsed.message);
    const { channel, before, limit, key } = parsed.query;
    if (!channel) return fail(c, 400, 'bad_input', 'Name the channel whose gallery to read, like /api/gallery?channel=local:general.');
    if (!links.allows(channel, key)) return fail(c, 404, 'not_found', GALLERY_KEY_REFUSAL);
    c.header('Cache-Control', 'no-cache');
    return c.json(galleryPageView(channel, await read(channel, { limit: limit ?? GALLERY_PAGE_MAX, ...(before && { before }) })));
  });
  return app;
}
