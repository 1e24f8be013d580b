import type { PersonBlock, PersonBlocks } from '../core/ports/person-blocks.ts';

/** Blocks in memory, for tests and single-process runs; an ended block is dropped when next read. */
export class MemoryPersonBlocks implements PersonBlocks {
  private readonly blocks = new Map<string, Map<string, PersonBlock>>();

  async get(scope: string, personId: string, now: number): Promise<PersonBlock | null> {
    const block = this.blocks.get(scope)?.get(personId);
    if (!block) return null;
    if (block.until > now) return structuredClone(block);
    this.blocks.get(scope)!.delete(personId);
    return null;
  }

  async put(scope: string, block: PersonBlock): Promise<void> {
    const inScope = this.blocks.get(scope) ?? new Map<string, PersonBlock>();
    inScope.set(block.person.id, structuredClone(block));
    this.blocks.set(scope, inScope);
  }

  async remove(scope: string, personId: string): Promise<boolean> {
    return this.blocks.get(scope)?.delete(personId) ?? false;
  }

  async list(scope: string, now: number): Promise<PersonBlock[]> {
    const inScope = this.blocks.get(scope);
    if (!inScope) return [];
    for (const [id, block] of inScope) if (block.until <= now) inScope.delete(id);
    return [...inScope.values()].sort((a, b) => a.until - b.until).map((b) => structuredClone(b));
  }
}
