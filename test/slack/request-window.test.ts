import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/core/ports/chat-adapter.ts';
import { MAX_CLOCK_SKEW_SECONDS, timestampOutsideWindow } from '../../bots/slack/request-window.ts';
import { SIGNING_SECRET, startSlackHarness, type SlackHarness } from './slack-harness.ts';
import { slashCommandBody } from './stand-in/signed-requests.ts';

/**
 * Issue 11, item 7: Slack's five-minute window holds in both directions. Requests are correctly
 * signed for their timestamp, so only the timestamp can be the reason for a refusal.
 */

const FORM = 'application/x-www-form-urlencoded';
let h: SlackHarness;
const seen: ChatEvent[] = [];

beforeAll(async () => {
  h = await startSlackHarness(async (e) => {
    seen.push(e);
    return {};
  });
  h.standIn.addUser({ id: 'U100', name: 'alice', display_name: 'Alice A' });
});

afterAll(async () => {
  await h?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const body = () => slashCommandBody({ command: '/video', text: 'a boat', user_id: 'U100', channel_id: 'C100', response_url: h.standIn.responseUrl() });

async function sendAt(offsetSeconds: number) {
  const before = seen.length;
  const res = await h.send(body(), FORM, { timestamp: nowSeconds() + offsetSeconds });
  await new Promise((r) => setImmediate(r));
  await h.adapter.idle();
  return { status: res.status, text: res.text, delivered: seen.length - before };
}

describe('Slack request timestamps', () => {
  it.each([
    ['6 minutes ahead', 6 * 60],
    ['1 day ahead', 24 * 60 * 60],
    ['a year ahead', 365 * 24 * 60 * 60],
    ['6 minutes behind', -6 * 60],
    ['1 day behind', -24 * 60 * 60],
  ])('refuses a request signed %s with 401', async (_name, offset) => {
    const { status, text, delivered } = await sendAt(offset);
    expect(status).toBe(401);
    expect(text).toBe('');
    expect(delivered).toBe(0);
  });

  it.each([
    ['now', 0],
    ['4 minutes ahead', 4 * 60],
    ['4 minutes behind', -4 * 60],
  ])('accepts a request signed %s', async (_name, offset) => {
    const { status, delivered } = await sendAt(offset);
    expect(status).toBe(200);
    expect(delivered).toBe(1);
  });

  it('says why in one warning, without the signing secret', async () => {
    const before = h.logs.length;
    await sendAt(24 * 60 * 60);
    const lines = h.logs.slice(before).filter((l) => l.includes('x-slack-request-timestamp'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Failed to verify the request: x-slack-request-timestamp is 8640\d s ahead of this server's clock, more than the 300 s Slack allows/);
    for (const line of h.logs) expect(line).not.toContain(SIGNING_SECRET);
  });

  it('draws the line at exactly five minutes either way', () => {
    const now = 1_700_000_000_000;
    const at = (offset: number) => timestampOutsideWindow(String(now / 1000 + offset), now);
    expect(MAX_CLOCK_SKEW_SECONDS).toBe(300);
    expect(at(300)).toBeNull();
    expect(at(-300)).toBeNull();
    expect(at(301)).toMatch(/301 s ahead of/);
    expect(at(-301)).toMatch(/301 s behind/);
    // Left to Bolt, which refuses them itself.
    expect(timestampOutsideWindow(undefined, now)).toBeNull();
    expect(timestampOutsideWindow('soon', now)).toBeNull();
    expect(timestampOutsideWindow(['1', '2'], now)).toBeNull();
  });
});
