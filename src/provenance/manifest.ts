import { anonymize, type Credits } from './credits.ts';

/**
 * The C2PA manifest definition (c2pa-rs `ManifestDefinition` JSON) for one dailies video.
 *
 * Two audiences read it. Any C2PA viewer understands the standard part: the `c2pa.created`
 * action with the IPTC "trained algorithmic media" source type is what makes a viewer label
 * the video as AI-generated. Our own assertion carries what no standard field holds: the
 * model, the take, the prompt lineage and the people behind it.
 */

export const CREDITS_LABEL = 'org.dailies.credits';
export const ACTIONS_LABEL = 'c2pa.actions.v2';
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** `credits` must already be checked (parseCredits). */
export function buildManifest(credits: Credits, when: Date): Record<string, unknown> {
  const published = credits.anonymous ? anonymize(credits) : credits;
  const agent = { name: published.software.name, version: published.software.version };
  return {
    claim_generator_info: [agent],
    title: published.title,
    format: 'video/mp4',
    assertions: [
      {
        label: ACTIONS_LABEL,
        data: {
          actions: [
            {
              action: 'c2pa.created',
              digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
              softwareAgent: agent,
              // The only signing time a reader gets: there is no timestamp authority offline.
              when: when.toISOString(),
            },
          ],
        },
      },
      { label: CREDITS_LABEL, data: published },
    ],
  };
}
