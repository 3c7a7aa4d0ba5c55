// What every command needs from its surroundings: output streams, a logger and the stop signal.
import type { Logger } from 'pino';

/** What a command needs from its surroundings; tests pass their own streams. */
export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly logger: Logger;
  /** Aborted on Ctrl-C: long-running commands stop cleanly. */
  readonly signal?: AbortSignal;
}
