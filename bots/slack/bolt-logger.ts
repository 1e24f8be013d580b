import { LogLevel, type Logger } from '@slack/bolt';

export type SlackAdapterLogger = Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;

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
  const redact = (line: string) =>
    secrets()
      .filter((s) => s.length >= 8)
      .reduce((acc, s) => acc.split(s).join('[redacted]'), line)
      .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
      .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]');
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
