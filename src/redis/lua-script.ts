import { createHash } from 'node:crypto';

/** The two scripting calls a LuaScript needs; structural, so callers need not import ioredis. */
export interface RedisScripting {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when Redis does not know it yet
 * (first use, or after a restart emptied its script cache). Sending only the hash keeps every
 * call small: the scripts here are kilobytes long and run on every command.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisScripting, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
