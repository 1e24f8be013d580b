import type { ChatUser } from '../../src/core/ports/chat-adapter.ts';

/** The users.info fields this adapter reads. */
export interface SlackUserInfo {
  id?: string;
  name?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  profile?: { display_name?: string; real_name?: string };
}

export type LookupUser = (userId: string) => Promise<SlackUserInfo | undefined>;

/**
 * Who a Slack user is and whether they may moderate (workspace admins and owners). users.info is
 * Tier 4, but every click would otherwise cost a call, so answers are kept for a while; a lookup
 * that fails yields a plain user rather than blocking the event.
 */
export class UserDirectory {
  private readonly cache = new Map<string, { user: ChatUser; until: number }>();
  private readonly pending = new Map<string, Promise<ChatUser>>();

  constructor(
    private readonly lookup: LookupUser,
    private readonly ttlMs = 10 * 60 * 1000,
    private readonly onError: (userId: string, error: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  async get(userId: string, fallbackName?: string): Promise<ChatUser> {
    const hit = this.cache.get(userId);
    if (hit && hit.until > this.now()) return hit.user;
    const inFlight = this.pending.get(userId);
    if (inFlight) return inFlight;
    const p = this.fetch(userId, fallbackName).finally(() => this.pending.delete(userId));
    this.pending.set(userId, p);
    return p;
  }

  private async fetch(userId: string, fallbackName?: string): Promise<ChatUser> {
    try {
      const info = await this.lookup(userId);
      const name = info?.profile?.display_name || info?.profile?.real_name || info?.name || fallbackName || userId;
      const user: ChatUser = { id: userId, name, canModerate: Boolean(info?.is_admin || info?.is_owner || info?.is_primary_owner) };
      this.cache.set(userId, { user, until: this.now() + this.ttlMs });
      if (this.cache.size > 5_000) this.cache.delete(this.cache.keys().next().value!);
      return user;
    } catch (error) {
      this.onError(userId, error);
      // Not cached: the next event asks again, and moderation stays off until Slack answers.
      return { id: userId, name: fallbackName || userId, canModerate: false };
    }
  }
}
