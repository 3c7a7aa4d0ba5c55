// The default logger of hal objects when none is injected: pino at level 'silent'.
import { pino, type Logger } from 'pino';

/** A fresh silent pino logger (each object gets its own; there is no module-global logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
