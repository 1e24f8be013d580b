/**
 * One error type for everything a user can cause or fix. `code` is stable (tests and adapters
 * branch on it); `message` is one sentence for a human: what is wrong and how to fix it.
 * `retryable` tells the job queue whether trying again could help (bad input never can).
 */
export class DailiesError extends Error {
  override readonly name = 'DailiesError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
}

export type ErrorCode =
  | 'bad_input'
  | 'policy_refused'
  | 'rate_limited'
  | 'not_found'
  | 'forbidden'
  | 'conflict'
  | 'model_invalid'
  | 'missing_dependency'
  | 'cancelled'
  | 'unavailable'
  | 'internal';

export function isDailiesError(e: unknown): e is DailiesError {
  return e instanceof DailiesError;
}

/** Formats a zod error as one sentence naming the first offending field. */
export function describeZodIssues(
  what: string,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  const first = issues[0];
  if (!first) return `${what} is invalid.`;
  const field = first.path.length ? first.path.map(String).join('.') : what;
  return `${what}: ${field} ${first.message.replace(/^Invalid input: /, '').replace(/\.$/, '')}.`;
}
