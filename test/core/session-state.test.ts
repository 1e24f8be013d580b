import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import type { JobRecord, JobStateName, Session } from '../../src/core/session.ts';
import { JOB_TRANSITIONS, addJob, appendVersion, baseSeed, createSession, currentVersion, pathTo, transitionJob } from '../../src/core/session-state.ts';

const owner = { id: 'u1', name: 'Ann' };
const T0 = 1_000_000;

function session() {
  return createSession({ id: 's1', thread: { platform: 'discord', channelId: 'c9', threadId: 't1' }, owner, first: { prompt: 'a cat', negativePrompt: '', seed: 7, author: owner, change: 'first version' }, settings: { takes: 2 } }, T0);
}

function job(state: JobStateName): JobRecord {
  return { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, state, attempt: 1, artifacts: [], error: null, requestedBy: owner, createdAt: T0, updatedAt: T0 };
}

const ALL: JobStateName[] = ['queued', 'rendering', 'previewed', 'done', 'failed', 'cancelled'];

describe('sessions', () => {
  it('starts with v1 as the current version and a channel key', () => {
    const s = session();
    expect(s.channelKey).toBe('discord:c9');
    expect(currentVersion(s)).toMatchObject({ n: 1, parent: null, prompt: 'a cat', createdAt: T0 });
    expect(s.rev).toBe(1);
  });

  it('appends versions with the next number, makes them current and consumes the base pick', () => {
    let s: Session = { ...session(), base: { jobId: 'j1', version: 1, take: 1, seed: 8, roundId: 1 } };
    expect(baseSeed(s).seed).toBe(8);
    const res = appendVersion(s, { prompt: 'a dog', negativePrompt: '', seed: 8, parent: 1, author: owner, change: "prompt 'a cat' -> 'a dog'" }, T0 + 5);
    s = res.session;
    expect(res.version).toMatchObject({ n: 2, parent: 1, createdAt: T0 + 5 });
    expect(s.current).toBe(2);
    expect(s.base).toBeNull();
    expect(session().versions).toHaveLength(1);
  });

  it('refuses a version whose parent does not exist and a duplicate job id', () => {
    expect(() => appendVersion(session(), { prompt: 'x', negativePrompt: '', seed: 1, parent: 4, author: owner, change: '' }, T0)).toThrow(/no v4/);
    const once = addJob(session(), { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner }, T0).session;
    expect(() => addJob(once, { jobId: 'j1', version: 1, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner }, T0)).toThrow(DailiesError);
    expect(() => addJob(session(), { jobId: 'j2', version: 3, kind: 'render', quality: 'draft', takes: 2, requestedBy: owner }, T0)).toThrow(/no v3/);
  });
});

describe('job transitions', () => {
  const legal: Array<[JobStateName, JobStateName]> = [
    ['queued', 'rendering'],
    ['queued', 'failed'],
    ['queued', 'cancelled'],
    ['rendering', 'previewed'],
    ['rendering', 'done'],
    ['rendering', 'failed'],
    ['rendering', 'cancelled'],
    ['rendering', 'queued'],
    ['previewed', 'done'],
    ['previewed', 'failed'],
    ['previewed', 'cancelled'],
    ['previewed', 'queued'],
  ];

  it('allows exactly the documented steps', () => {
    const table = ALL.flatMap((from) => JOB_TRANSITIONS[from].map((to) => [from, to] as [JobStateName, JobStateName]));
    expect(table.sort()).toEqual([...legal].sort());
  });

  for (const from of ALL) {
    for (const to of ALL) {
      if (from === to) continue;
      const ok = legal.some(([f, t]) => f === from && t === to);
      it(`${from} -> ${to} is ${ok ? 'allowed' : 'a conflict'}`, () => {
        if (ok) {
          const res = transitionJob(job(from), to, T0 + 1);
          expect(res).toMatchObject({ changed: true, job: { state: to, updatedAt: T0 + 1 } });
        } else {
          try {
            transitionJob(job(from), to, T0 + 1);
            expect.unreachable();
          } catch (e) {
            expect(e).toBeInstanceOf(DailiesError);
            expect((e as DailiesError).code).toBe('conflict');
            expect((e as DailiesError).message).toMatch(/^Job j1 is .+; start a new render instead\.$/);
          }
        }
      });
    }
  }

  it('treats the same state as a no-op unless the patch changes something', () => {
    const j = job('rendering');
    expect(transitionJob(j, 'rendering', T0 + 9)).toEqual({ job: j, changed: false });
    const patched = transitionJob(j, 'rendering', T0 + 9, { attempt: 2 });
    expect(patched).toMatchObject({ changed: true, job: { attempt: 2, updatedAt: T0 + 9 } });
    expect(transitionJob(job('done'), 'done', T0)).toMatchObject({ changed: false });
  });

  it('finds the path through skipped steps and refuses impossible ones', () => {
    expect(pathTo('queued', 'done')).toEqual(['rendering', 'done']);
    expect(pathTo('queued', 'previewed')).toEqual(['rendering', 'previewed']);
    expect(pathTo('rendering', 'done')).toEqual(['done']);
    expect(pathTo('done', 'done')).toEqual([]);
    expect(() => pathTo('cancelled', 'done')).toThrow(DailiesError);
  });
});
