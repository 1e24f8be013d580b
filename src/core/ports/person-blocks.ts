/**
 * People a moderator has blocked from the bot for a while (`/block`), per workspace: a Discord
 * server, a Slack workspace, the web chat. A block ends by itself at `until`; the Redis
 * implementation lets the key expire then, so nothing has to sweep. Every implementation passes
 * test/conformance/person-blocks.test.ts.
 */

export interface PersonBlock {
  /** The blocked person: platform user id and the name the platform showed when they were blocked. */
  person: { id: string; name: string };
  /** When the block ends, ms since the epoch. */
  until: number;
  /** The moderator's reason, shown to the blocked person; absent when none was given. */
  reason?: string;
  by: { id: string; name: string };
  /** When the block was made, ms since the epoch. */
  at: number;
}

export interface PersonBlocks {
  /**
   * The person's block in `scope` if it lasts past `now`, else null. Asked once per chat event,
   * so implementations answer it with one read.
   */
  get(scope: string, personId: string, now: number): Promise<PersonBlock | null>;
  /** Blocks the person, replacing any block they had in `scope`. */
  put(scope: string, block: PersonBlock): Promise<void>;
  /** Ends a block early; false when the person was not blocked. */
  remove(scope: string, personId: string): Promise<boolean>;
  /** Every block lasting past `now`, the soonest to end first. */
  list(scope: string, now: number): Promise<PersonBlock[]>;
}

/** The longest block: a longer one is a ban, which belongs to the platform's own tools. */
export const MAX_BLOCK_MS = 90 * 24 * 3_600_000;
