import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

/** The frame check, signing and credits settings: defaults, and one sentence for a bad value. */
describe('safety and provenance settings', () => {
  it('default to the shipped frame check, a local signing folder, names in credits and no public address', () => {
    const config = loadConfig({});
    expect(config.DAILIES_FRAME_CHECK).toBeUndefined();
    // No text classifier ships: the prompt check is off unless a folder is named.
    expect(config.DAILIES_PROMPT_CHECK).toBeUndefined();
    expect(config.DAILIES_SIGNING_DIR).toBe('.dailies/signing');
    expect(config.DAILIES_CREDIT_NAMES).toBe('on');
    expect(config.DAILIES_PUBLIC_URL).toBeUndefined();
  });

  it('take an empty public address (as compose passes an unset variable) as unset, and refuse a bad one with one sentence', () => {
    expect(loadConfig({ DAILIES_PUBLIC_URL: '' }).DAILIES_PUBLIC_URL).toBeUndefined();
    expect(loadConfig({ DAILIES_PUBLIC_URL: 'https://dailies.example.com' }).DAILIES_PUBLIC_URL).toBe('https://dailies.example.com');
    expect(() => loadConfig({ DAILIES_PUBLIC_URL: 'ftp://x' })).toThrow(/DAILIES_PUBLIC_URL must be an http\(s\) URL such as https:\/\/dailies\.example\.com; fix the variable and restart\.$/);
    expect(() => loadConfig({ DAILIES_CREDIT_NAMES: 'maybe' })).toThrow(/DAILIES_CREDIT_NAMES must be on or off/);
  });
});
