import { LogLevel, type Logger } from '@slack/bolt';
import type { Logger as LoggerPort } from '../../src/core/ports/logger.ts';
import { secretScrubber } from '../../src/logging/scrub-secrets.ts';

/** The Logger port with every level: the process logger's `{ platform: 'slack' }` child by default. */
export type SlackAdapterLogger = Required<LoggerPort>;

const RANK: Record<LogLevel, number> = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 };

function describe(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}`;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}

/**
 * Bolt's and WebClient's log lines, routed to the app's logger. Every line passes through
 * `redact`: Bolt logs request details at debug level and error objects can carry headers, and a
 * signing secret or token in a log is a leaked credential.
 */
export function boltLogger(sink: SlackAdapterLogger, level: LogLevel, secrets: () => readonly string[]): Logger {
  let current = level;
  let name = 'slack';
  const redact = (line: string) => secretScrubber(secrets())(line);
  const at = (lvl: LogLevel, out: (line: string) => void) => (...msg: unknown[]) => {
    if (RANK[lvl] < RANK[current]) return;
    out(redact(`${name}: ${msg.map(describe).join(' ')}`));
  };
  return {
    debug: at(LogLevel.DEBUG, (l) => sink.debug(l)),
    info: at(LogLevel.INFO, (l) => sink.info(l)),
    warn: at(LogLevel.WARN, (l) => sink.warn(l)),
    error: at(LogLevel.ERROR, (l) => sink.error(l)),
    setLevel: (l: LogLevel) => {
      current = l;
    },
    getLevel: () => current,
    setName: (n: string) => {
      name = n;
    },
  };
}
