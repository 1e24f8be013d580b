import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { parseRenderJob } from '../../src/queue/render-job-schema.ts';
import { renderJob } from '../workers/fixtures/redis-test-env.ts';

describe('render job schema', () => {
  it('accepts a v1 job and drops fields it does not know', () => {
    const job = { ...renderJob({ jobId: 'abc-1' }), extra: true };
    const parsed = parseRenderJob(job);
    expect(parsed.jobId).toBe('abc-1');
    expect('extra' in parsed).toBe(false);
  });

  it.each([
    ['a wrong version', { v: 2 }, /v/],
    ['a numeric job id (BullMQ refuses them)', { jobId: '12345' }, /jobId/],
    ['a job id with a colon', { jobId: 'a:b' }, /jobId/],
    ['an empty prompt', { request: { prompt: '  ' } }, /request\.prompt/],
    ['zero takes', { request: { takes: 0 } }, /request\.takes/],
    ['an unknown quality', { request: { quality: 'ultra' } }, /request\.quality/],
    ['an image strength of 0', { request: { image: { artifact: { key: 'a.png', bytes: 1, contentType: 'image/png' }, strength: 0 } } }, /strength/],
  ])('refuses %s with bad_input naming the field', (_what, patch, field) => {
    const base = renderJob();
    const job = { ...base, ...patch, request: { ...base.request, ...((patch as { request?: object }).request ?? {}) } };
    let error: unknown;
    try {
      parseRenderJob(job);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DailiesError);
    expect((error as DailiesError).code).toBe('bad_input');
    expect((error as DailiesError).message).toMatch(field);
  });
});
