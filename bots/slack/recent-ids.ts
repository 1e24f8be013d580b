/**
 * Deliveries seen lately, each with the delivery that claimed it. Slack retries an event it
 * thinks went unanswered (up to three times within about an hour), and one mention arrives as two
 * events (message and app_mention) with different ids; the adapter uses this to hand each to the
 * core once. Bounded so a flood cannot grow memory.
 */
export type Claim = 'new' | 'same' | 'other';

export class RecentIds {
  private readonly seen = new Map<string, { owner: string; until: number }>();

  constructor(
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `id` for `owner`: 'new' the first time, then 'same' for that owner and 'other' for any other. */
  claim(id: string, owner = ''): Claim {
    const t = this.now();
    const hit = this.seen.get(id);
    if (hit && hit.until > t) return hit.owner === owner ? 'same' : 'other';
    this.seen.delete(id);
    this.seen.set(id, { owner, until: t + this.ttlMs });
    // Map keeps insertion order, so the first entries are the oldest.
    for (const [key, entry] of this.seen) {
      if (this.seen.size <= this.maxEntries && entry.until > t) break;
      this.seen.delete(key);
    }
    return 'new';
  }

  has(id: string): boolean {
    const hit = this.seen.get(id);
    return hit !== undefined && hit.until > this.now();
  }

  get size(): number {
    return this.seen.size;
  }
}
