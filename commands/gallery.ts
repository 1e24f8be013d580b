import { channelOf, defineCommand } from '../src/core/command-context.ts';
import { optionsObject } from '../src/core/command-options.ts';
import { galleryPath, readGallery, type GalleryEntry } from '../src/core/gallery.ts';
import { clip } from '../src/core/text.ts';
import { GalleryLinks } from '../src/core/gallery-links.ts';

/** Takes listed in the answer when the gallery page cannot be linked. */
const TOP_TAKES = 5;

/**
 * /gallery, in a channel or a thread: where to see the channel's winning and finalized takes. The
 * web chat shows them (GET /gallery); Discord and Slack get a link to it when the server has a
 * public address (DAILIES_PUBLIC_URL), keyed so only it opens the channel's page, and the newest
 * few as text when it has none.
 */
export const galleryCommand = defineCommand({
  name: 'gallery',
  description: "Show this channel's winning and finalized takes: a link to the gallery, or the newest few.",
  options: optionsObject({}),
  async handler(ctx) {
    const thread = ctx.session?.thread;
    const where = thread ? { thread } : {};
    const channel = channelOf(ctx);
    const path = galleryPath(channel);
    if (ctx.event.platform === 'local') return { ...where, ephemeral: `This channel's gallery: ${path}` };
    if (ctx.config.publicUrl && ctx.config.galleryKey) {
      // Only this link opens the channel's page: its ids are no secret, its prompts are (../src/core/gallery-links.ts).
      return { ...where, ephemeral: `This channel's gallery (the link opens it for anyone who has it): ${ctx.config.publicUrl.replace(/\/+$/, '')}${new GalleryLinks(ctx.config.galleryKey).path(channel)}` };
    }
    const { entries } = await readGallery(ctx.store, channel, { limit: TOP_TAKES }, { anonymous: !ctx.config.creditNames });
    if (entries.length === 0) return { ...where, ephemeral: 'This channel has no winning or finalized takes yet; a take shows here once a vote picks it or it is finalized.' };
    return { ...where, ephemeral: ['The newest winning and finalized takes in this channel:', ...entries.slice(0, TOP_TAKES).map(takeLine)].join('\n') };
  },
});

/** `• v2#1 (won its vote): "a red circle" · v1 by Ana → v2 by Ben` */
function takeLine(entry: GalleryEntry): string {
  const what = entry.kind === 'film' ? 'film' : entry.kind === 'winner' ? 'won its vote' : entry.won ? 'final, won its vote' : 'final';
  return `• ${entry.label} (${what}): "${clip(entry.prompt, 120)}" · ${entry.lineage}`;
}
