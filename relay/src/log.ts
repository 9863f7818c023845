/**
 * Structured logging: one JSON object per line on stdout (pino), written synchronously so the
 * "relay started" line is visible to a parent process at once and nothing is lost on exit.
 *
 * @example
 * ```ts
 * const log = createLogger('info');
 * log.info({ peerId }, 'relay started');
 * ```
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination: number | string = 1): Logger {
  return pino(
    {
      level,
      base: { name: 'p2p4e-relay', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) }
    },
    pino.destination({ dest: destination, sync: true })
  );
}
