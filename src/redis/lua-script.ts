import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The two scripting calls a LuaScript needs; structural, so callers need not import ioredis. */
export interface RedisScripting {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/** A line `-- #include <file>` in a .lua file: replaced by that file (relative to it) when read. */
const INCLUDE = /^--[ \t]*#include[ \t]+(\S+)[ \t]*$/gm;

/**
 * The text of a .lua file, with its `-- #include` lines replaced by the files they name (shared
 * fragments such as src/queue/lua/prelude.lua). Pass a URL made from the caller's module,
 * `new URL('./lua/x-2.lua', import.meta.url)`, so it works wherever the tree is installed.
 */
export function readLua(url: URL): string {
  return readFileSync(url, 'utf8').replace(INCLUDE, (_line, name: string) => readLua(new URL(name, url)).replace(/\n$/, ''));
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when Redis does not know it yet
 * (first use, or after a restart emptied its script cache). Sending only the hash keeps every
 * call small: the scripts here are kilobytes long and run on every command.
 *
 * Scripts live in `lua/` folders next to the modules that run them, one file each, named for the
 * number of KEYS they take (`settle-2.lua`; `-n` when the count varies) and headed by a comment
 * listing KEYS and ARGV. Each is read once, when its module loads (`LuaScript.fromFile`).
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Reads the script once (see readLua); call at module level. */
  static fromFile(url: URL): LuaScript {
    return new LuaScript(readLua(url));
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
