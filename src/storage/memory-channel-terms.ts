import { DailiesError } from '../errors.ts';
import { MAX_CHANNEL_TERMS, type ChannelTerms } from '../core/ports/channel-terms.ts';

/** Channel terms in memory, for tests and single-process runs. */
export class MemoryChannelTerms implements ChannelTerms {
  private readonly terms = new Map<string, Set<string>>();

  async list(channel: string): Promise<string[]> {
    return [...(this.terms.get(channel) ?? [])].sort();
  }

  async add(channel: string, term: string): Promise<boolean> {
    const set = this.terms.get(channel) ?? new Set<string>();
    if (set.has(term)) return false;
    if (set.size >= MAX_CHANNEL_TERMS) throw tooMany();
    set.add(term);
    this.terms.set(channel, set);
    return true;
  }

  async remove(channel: string, term: string): Promise<boolean> {
    return this.terms.get(channel)?.delete(term) ?? false;
  }
}

export function tooMany(): DailiesError {
  return new DailiesError('bad_input', `This channel already blocks ${MAX_CHANNEL_TERMS} terms, the most it may; remove one with /policy remove before adding another.`);
}
