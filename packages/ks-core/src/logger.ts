// Logger type (pino) and the silent default; ks-core objects take a logger through options and derive one child each.
import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger that discards everything; the default when no logger is injected. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
