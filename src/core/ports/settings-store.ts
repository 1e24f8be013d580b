/**
 * People's and channels' render defaults (/settings). A scope is `person:<platform>:<userId>` or
 * `channel:<platform>:<channelId>`. Values are checked by the command before they are stored and
 * again by the core when read (src/core/render-defaults.ts), so a value a later release no longer
 * accepts is dropped, not used.
 */
export interface SavedDefaults {
  takes?: number;
  steps?: number;
  /** Seconds of video. */
  duration?: number;
  model?: string;
  /** A clause added to every prompt, e.g. "pixel art". */
  style?: string;
  negative?: string;
}

export type DefaultName = keyof SavedDefaults;

export interface SettingsStore {
  /** Both scopes' saved defaults, in one read. */
  read(person: string, channel: string): Promise<{ person: unknown; channel: unknown }>;
  /**
   * Writes `set` over the scope's saved defaults and removes `clear`, atomically; returns what the
   * scope holds afterwards (unchecked, as stored).
   */
  change(scope: string, set: SavedDefaults, clear: readonly DefaultName[]): Promise<unknown>;
}
