import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

/** The queue dashboard's settings: off and read-only by default, one sentence for a bad value. */
describe('queue dashboard settings', () => {
  it('leave the dashboard off and read-only by default, and take an empty token (compose) as unset', () => {
    expect(loadConfig({}).DAILIES_ADMIN_TOKEN).toBeUndefined();
    expect(loadConfig({}).DAILIES_ADMIN_WRITE).toBe('off');
    expect(loadConfig({ DAILIES_ADMIN_TOKEN: '' }).DAILIES_ADMIN_TOKEN).toBeUndefined();
    const config = loadConfig({ DAILIES_ADMIN_TOKEN: 'a'.repeat(16), DAILIES_ADMIN_WRITE: 'on' });
    expect(config.DAILIES_ADMIN_TOKEN).toBe('a'.repeat(16));
    expect(config.DAILIES_ADMIN_WRITE).toBe('on');
  });

  it('refuse a short token and a write setting other than on or off, in one sentence', () => {
    expect(() => loadConfig({ DAILIES_ADMIN_TOKEN: 'secret' })).toThrow(
      /^Environment: DAILIES_ADMIN_TOKEN must be at least 16 characters \(for example the output of `openssl rand -hex 24`\); fix the variable and restart\.$/,
    );
    expect(() => loadConfig({ DAILIES_ADMIN_WRITE: 'yes' })).toThrow(/^Environment: DAILIES_ADMIN_WRITE must be on or off; fix the variable and restart\.$/);
  });
});
