import { isMainThread, threadId } from 'node:worker_threads';
import { pino, stdSerializers, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { logSettings, type LogLevel } from '../config.ts';
import { redactUrl } from '../redact-url.ts';
import { secretScrubber } from './scrub-secrets.ts';

/**
 * The one logger of every dailies process and worker thread: pino, JSON lines on stderr (stdout
 * stays for a command's own output: help, tables, `--json` results), the level from LOG_LEVEL.
 * Credentials never reach a line, three ways: keys that hold them are censored (`redact`),
 * errors and URLs pass serializers that drop or blank them, and the finished line is scrubbed of
 * every credential variable's value and of token- and password-shaped text (scrub-secrets.ts).
 */

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * pino's logger, also typed for the Logger port's message-first calls (`warn(message, error)`),
 * which the `logMethod` hook below turns into pino's fields-first form.
 */
export type AppLogger = Omit<PinoLogger, 'child'> & { [L in Level]: (message: string, detail?: unknown) => void } & {
  child(bindings: Record<string, unknown>): AppLogger;
};

// Keys that hold credentials, at the top of a log call's fields and up to two levels down
// (`{ config: { token } }`, `{ detail: { headers: { authorization } } }`).
const SECRET_KEYS = [
  'token', 'botToken', 'appToken', 'adminToken', 'accessToken', 'refreshToken', 'sessionToken', 'signingSecret',
  'clientSecret', 'secret', 'secretAccessKey', 'password', 'authorization', 'Authorization', 'cookie', 'Cookie',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

// A library error can carry the request that failed: its headers hold the token and its body is
// large, and neither says more than the message does.
const REQUEST_KEYS = new Set(['config', 'request', 'response', 'headers', 'options']);

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const out = stdSerializers.errWithCause(error) as unknown as Record<string, unknown>;
  for (const key of Object.keys(out)) if (REQUEST_KEYS.has(key)) delete out[key];
  return out;
}

const serializeUrl = (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url);

export interface LoggerOptions {
  level: LogLevel;
  /** Literal values to blank out of every line (the credential variables' values). */
  secrets?: readonly string[];
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty?: boolean;
  /** Where lines go (default: stderr, written synchronously so none is lost at exit). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): AppLogger {
  const scrub = secretScrubber(options.secrets ?? []);
  const out = options.destination ?? pino.destination({ fd: 2, sync: true });
  // Formatted in this thread, not in a pino transport's worker thread: lines keep their order
  // with the process's own stderr and none is lost when the process exits.
  const format = options.pretty ? prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : null;
  const sink: DestinationStream = {
    write: (line: string) => {
      const clean = scrub(line);
      out.write(format ? format(clean) : clean);
    },
  };
  const logger = pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError, url: serializeUrl, redisUrl: serializeUrl },
      hooks: {
        // The core's Logger port is message-first, `warn(message, detail)`; pino would drop a
        // detail that no %s in the message asks for, so it becomes a field here.
        logMethod(args, method) {
          const [message, detail, ...rest] = args as unknown[];
          if (typeof message === 'string' && args.length >= 2 && rest.length === 0 && !message.includes('%')) {
            if (detail === undefined || detail === '') return method.call(this, message);
            return method.call(this, detail instanceof Error ? { err: detail } : { detail }, message);
          }
          return method.apply(this, args);
        },
      },
    },
    sink,
  );
  return logger as unknown as AppLogger;
}

let root: AppLogger | undefined;

/**
 * This process's (or worker thread's) logger, made on first use from LOG_LEVEL and LOG_FORMAT;
 * a worker thread's lines carry its `thread` id.
 */
export function processLogger(): AppLogger {
  if (!root) {
    const settings = logSettings();
    const logger = createLogger({ level: settings.level, secrets: settings.secrets, pretty: settings.format === 'pretty' || (settings.format === undefined && process.stderr.isTTY === true) });
    root = isMainThread ? logger : logger.child({ thread: threadId });
  }
  return root;
}
