import type { DefaultName, SavedDefaults, SettingsStore } from '../core/ports/settings-store.ts';

/** Render defaults in this process's memory: tests and the single-process embedding. */
export class MemorySettingsStore implements SettingsStore {
  private readonly scopes = new Map<string, SavedDefaults>();

  async read(person: string, channel: string): Promise<{ person: unknown; channel: unknown }> {
    return { person: structuredClone(this.scopes.get(person) ?? {}), channel: structuredClone(this.scopes.get(channel) ?? {}) };
  }

  async change(scope: string, set: SavedDefaults, clear: readonly DefaultName[]): Promise<unknown> {
    const next: SavedDefaults = { ...this.scopes.get(scope), ...set };
    for (const name of clear) delete next[name];
    if (Object.keys(next).length) this.scopes.set(scope, next);
    else this.scopes.delete(scope);
    return structuredClone(next);
  }
}
