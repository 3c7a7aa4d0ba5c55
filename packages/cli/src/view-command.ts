// `ksemu view <device>`: serves a live preview page with controls for one device until Ctrl-C.
import { InvalidArgumentError, type Command } from 'commander';
import type { Logger } from 'pino';
import { ViewerServer } from '@ksemu/viewer';
import { CliError, ExitCode } from './cli-error.js';
import type { DeviceCatalog } from './device-catalog.js';

/** What the command needs from the CLI context (CliContext satisfies it). */
export interface ViewContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be 0…65535');
  return n;
};

/**
 * Adds `view` to `program`. The server listens on loopback unless `--host` says otherwise, prints
 * the page's URL, and runs until the context's signal aborts (Ctrl-C); then it disconnects the
 * pages, stops the pin (every buffer back) and closes the device.
 */
export function registerViewCommand(program: Command, ctx: ViewContext, catalog: DeviceCatalog): void {
  program
    .command('view')
    .description('live preview page with format picker, property controls, tuner and statistics')
    .argument('<device>', 'device id, e.g. synthetic:camera or synthetic:tuner')
    .option('-p, --port <N>', 'TCP port (0 picks a free one)', port, 8080)
    .option('--host <ADDR>', 'address to listen on (loopback by default; 0.0.0.0 exposes it)', '127.0.0.1')
    .action(async (id: string, opts: { port: number; host: string }) => {
      const { device: hal } = await catalog.find(id);
      let server: ViewerServer;
      try {
        server = await ViewerServer.start({ hal, port: opts.port, host: opts.host, logger: ctx.logger });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE')
          throw new CliError(
            `port ${opts.port} is in use`,
            ExitCode.Failure,
            'pick another with --port N (0 picks a free one)',
            {
              cause: err,
            },
          );
        if (code === 'EACCES')
          throw new CliError(
            `not allowed to listen on port ${opts.port}`,
            ExitCode.Permission,
            'use a port above 1023',
            {
              cause: err,
            },
          );
        throw err;
      }
      ctx.stdout.write(`viewing ${hal.identity.id} at ${server.url} (Ctrl-C to stop)\n`);
      try {
        await new Promise<void>((resolve) => {
          if (!ctx.signal) return; // no way to be stopped: serve until the process ends
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } finally {
        await server.close();
      }
      ctx.stdout.write(`stopped; ${server.hub.outstanding} buffers outstanding\n`);
    });
}
