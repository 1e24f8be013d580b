import { expect } from 'vitest';
import { DailiesError } from '../../src/errors.ts';

/** The DailiesError a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function refusal(p: Promise<unknown>): Promise<DailiesError> {
  const error = await p.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DailiesError);
  return error as DailiesError;
}
