import { describe, expect, it } from 'vitest';
import { NOT_RUNNING_MESSAGE, STILL_RUNNING, callCore, withinDeadline } from '../../src/core/call-core.ts';
import { INTERNAL_MESSAGE } from '../../src/core/outcome.ts';
import type { ChatEvent } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';

const event: ChatEvent = { kind: 'command', id: 'e1', platform: 'local', receivedAt: 0, user: { id: 'u', name: 'U' }, channelId: 'c', name: 'video', options: {} };

function recordingLog() {
  const lines: string[] = [];
  return { lines, warn: (m: string) => void lines.push(`warn ${m}`), error: (m: string) => void lines.push(`error ${m}`) };
}

describe('callCore', () => {
  it('passes the outcome through', async () => {
    const log = recordingLog();
    expect(await callCore(async () => ({ ephemeral: 'ok' }), event, log)).toEqual({ ephemeral: 'ok' });
    expect(log.lines).toEqual([]);
  });

  it('keeps a refusal’s own sentence and code, without logging it as a crash', async () => {
    const log = recordingLog();
    const outcome = await callCore(async () => {
      throw new DailiesError('unavailable', 'The queue is unreachable right now; try again in a minute.');
    }, event, log);
    expect(outcome.error).toEqual({ code: 'unavailable', message: 'The queue is unreachable right now; try again in a minute.' });
    expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('turns anything else into the one internal sentence, and logs which event it was', async () => {
    const log = recordingLog();
    const outcome = await callCore(async () => {
      throw new TypeError('x is undefined');
    }, event, log);
    expect(outcome.error).toEqual({ code: 'internal', message: INTERNAL_MESSAGE });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain('local command e1');
  });

  it('answers "not running" when no handler is attached', async () => {
    expect((await callCore(undefined, event, recordingLog())).error).toEqual({ code: 'unavailable', message: NOT_RUNNING_MESSAGE });
  });
});

describe('withinDeadline', () => {
  it('gives the outcome when it comes in time, STILL_RUNNING when not', async () => {
    expect(await withinDeadline(Promise.resolve({ ephemeral: 'fast' }), 1000)).toEqual({ ephemeral: 'fast' });
    let finish: (v: { ephemeral: string }) => void = () => {};
    const slow = new Promise<{ ephemeral: string }>((resolve) => (finish = resolve));
    expect(await withinDeadline(slow, 20)).toBe(STILL_RUNNING);
    finish({ ephemeral: 'late' });
    expect(await slow).toEqual({ ephemeral: 'late' });
  });
});
