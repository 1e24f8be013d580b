import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * Slack signs `v0:{timestamp}:{body}` and asks apps to refuse a request whose timestamp is more
 * than five minutes from their clock, in either direction, so that a captured request cannot be
 * replayed later. Bolt's HTTPReceiver verifies the signature but only refuses timestamps in the
 * past: a request signed for tomorrow stays replayable until tomorrow plus five minutes. This
 * listener runs in front of Bolt's and refuses both directions the way Bolt refuses a bad
 * signature (401, no body, one warning); everything else, including a missing or malformed
 * header, is left to Bolt's own verification.
 */

export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Why the request's timestamp is outside Slack's window, or null when it is inside (or not ours to judge). */
export function timestampOutsideWindow(header: string | string[] | undefined, nowMs: number): string | null {
  if (typeof header !== 'string' || !/^\d{1,12}$/.test(header.trim())) return null;
  const skew = Number(header.trim()) - Math.floor(nowMs / 1000);
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_SECONDS) return null;
  return `x-slack-request-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} this server's clock, more than the ${MAX_CLOCK_SKEW_SECONDS} s Slack allows`;
}

export function refuseOutsideWindow(next: RequestListener, warn: (line: string) => void, now: () => number = Date.now): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const problem = req.method === 'POST' ? timestampOutsideWindow(req.headers['x-slack-request-timestamp'], now()) : null;
    if (problem === null) {
      next(req, res);
      return;
    }
    warn(`Failed to verify the request: ${problem}`);
    // Drain the unread body so the connection can be reused.
    req.resume();
    res.writeHead(401);
    res.end();
  };
}
