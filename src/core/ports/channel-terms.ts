/**
 * Terms a channel's moderators block on top of the server's list (`/policy`). Keyed by
 * `platform:channelId`; a term is stored as typed (matching normalises it, as for the server's).
 */
export interface ChannelTerms {
  list(channel: string): Promise<string[]>;
  /** False when the channel already had it. */
  add(channel: string, term: string): Promise<boolean>;
  /** False when the channel did not have it. */
  remove(channel: string, term: string): Promise<boolean>;
}

/** Most terms one channel may hold: each is matched against every prompt typed there. */
export const MAX_CHANNEL_TERMS = 200;
