import { z } from 'zod';
import { describeZodIssues } from '../../src/errors.ts';
import type { FiledSession } from '../../src/core/ports/session-store.ts';

/**
 * The query of GET /gallery and GET /api/gallery: which channel (`platform:id`, as
 * `galleryPath` writes it), where the page starts (`before`, the `next` of the page before) and how
 * many takes it holds. Parameters it does not know are ignored, as links pick some up on the way.
 */

/** The most takes a page holds, so a channel with years of takes still answers fast. */
export const GALLERY_PAGE_MAX = 50;

const CURSOR = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/;

/** `next` of a page as it travels in a link: "<ms>.<session id>". */
export function cursorText(cursor: FiledSession): string {
  return `${cursor.at}.${cursor.sessionId}`;
}

export const GalleryQuery = z.object({
  channel: z
    .string()
    .regex(/^(?:local|discord|slack):[A-Za-z0-9._-]{1,100}$/, { error: 'must name a channel as platform:id, like local:general' })
    .optional(),
  before: z
    .string()
    .regex(CURSOR, { error: 'must be the "next" of the page before, like 1735689600000.s1' })
    .transform((text): FiledSession => {
      const [, at, sessionId] = CURSOR.exec(text)!;
      return { at: Number(at), sessionId: sessionId! };
    })
    .optional(),
  /** A Discord or Slack channel's page needs the key its /gallery link carries (src/core/gallery-links.ts). */
  key: z.string().regex(/^[A-Za-z0-9_-]{22}$/, { error: 'must be the key of a /gallery link' }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: `must be a whole number from 1 to ${GALLERY_PAGE_MAX}` })
    .transform(Number)
    .refine((n) => n >= 1 && n <= GALLERY_PAGE_MAX, { error: `must be a whole number from 1 to ${GALLERY_PAGE_MAX}` })
    .optional(),
});

/** The query, or the one sentence saying what is wrong with it. */
export function parseGalleryQuery(query: Record<string, string>): { ok: true; query: z.output<typeof GalleryQuery> } | { ok: false; message: string } {
  const parsed = GalleryQuery.safeParse(query);
  return parsed.success ? { ok: true, query: parsed.data } : { ok: false, message: describeZodIssues('The gallery address', parsed.error.issues) };
}
