/**
 * Where the core and the adapters say what happened while nobody was asking: a failed edit, a
 * sweep that gave up, a platform warning. `detail` (an error or any value) travels beside the
 * message as structured data, never pasted into it. The process logger (src/logging, pino)
 * satisfies this port; tests pass fakes that record the lines.
 */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
  info?(message: string, detail?: unknown): void;
  debug?(message: string, detail?: unknown): void;
}

/** For code run without a process around it (a test, a bench); every process passes its own logger. */
export const silentLogger: Logger = { warn: () => {}, error: () => {} };
