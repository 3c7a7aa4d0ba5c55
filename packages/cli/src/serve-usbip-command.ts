// `ksemu serve-usbip <device>`: serves a device's capture pin as a UVC webcam over USB/IP until Ctrl-C.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ManualClock, SystemClock } from '@ksemu/ks-core';
import { createWebcamDevice } from '@ksemu/minidriver-webcam';
import { UsbIpServer, USBIP_PORT, exportCapturePin } from '@ksemu/usbip-export';
import { CliError, ExitCode } from './cli-error.js';
import type { DeviceCatalog } from './device-catalog.js';
import type { Logger } from 'pino';

/** What the command needs of the CLI context (structural, so this file does not import program.ts). */
export interface ServeUsbipContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be 0..65535');
  return n;
};

interface ServeOptions {
  host: string;
  port: number;
  transfer: 'bulk' | 'iso';
  busid: string;
  formats: string;
  maxFps?: number;
  clock: 'realtime' | 'virtual';
}

/**
 * Registers `serve-usbip`. The command runs until the context's signal aborts (Ctrl-C), then
 * closes the server (the client sees a disconnect), stops the pin (every buffer returns) and
 * closes the device.
 */
export function registerServeUsbipCommand(
  program: Command,
  ctx: ServeUsbipContext,
  catalog: DeviceCatalog,
): void {
  program
    .command('serve-usbip')
    .description('serve a capture device as a USB webcam over USB/IP (attach with `usbip attach`)')
    .argument('<device>', 'device id, e.g. synthetic:camera')
    .option(
      '--host <addr>',
      'address to listen on (USB/IP has no authentication: keep it local)',
      '127.0.0.1',
    )
    .option('--port <n>', 'TCP port', port, USBIP_PORT)
    .addOption(
      new Option('--transfer <type>', 'UVC streaming endpoint: bulk, or iso alternate settings')
        .choices(['bulk', 'iso'])
        .default('bulk'),
    )
    .option('--busid <id>', 'bus id clients import', '1-1')
    .option('--formats <list>', 'FOURCCs to export, in order', 'YUY2,NV12,MJPG')
    .option('--max-fps <n>', 'leave out frame rates above n', (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('--max-fps must be a positive number');
      return n;
    })
    .addOption(
      new Option(
        '--clock <mode>',
        'virtual: frames as fast as the client takes them, none dropped (synthetic only)',
      )
        .choices(['realtime', 'virtual'])
        .default('realtime'),
    )
    .action(async (id: string, opts: ServeOptions) => {
      const { device: hal, id: parsed } = await catalog.find(id);
      if (hal.identity.kind === 'tuner')
        throw new CliError(`${hal.identity.id} is a TV tuner, not a camera`, ExitCode.Unsupported);
      if (opts.clock === 'virtual' && parsed.kind !== 'synthetic')
        throw new CliError('--clock virtual works with synthetic devices only', ExitCode.Usage);
      const manualClock = opts.clock === 'virtual' ? new ManualClock(0n) : undefined;
      const device = createWebcamDevice(hal, { clock: manualClock ?? new SystemClock(), logger: ctx.logger });
      const server = new UsbIpServer({ host: opts.host, port: opts.port, logger: ctx.logger });
      try {
        const fourccs = opts.formats
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean);
        let exported;
        try {
          exported = await exportCapturePin(device, {
            transfer: opts.transfer,
            busid: opts.busid,
            fourccs,
            ...(opts.maxFps !== undefined ? { maxFps: opts.maxFps } : {}),
            ...(manualClock ? { manualClock } : {}),
            product: hal.identity.name,
            logger: ctx.logger.child({ export: opts.busid }),
          });
        } catch (err) {
          if (err instanceof RangeError)
            throw new CliError(err.message, ExitCode.Unsupported, 'see `ksemu describe` for its formats', {
              cause: err,
            });
          throw err;
        }
        server.addDevice(exported);
        let bound;
        try {
          bound = await server.listen();
        } catch (err) {
          throw new CliError(
            `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`,
            ExitCode.Failure,
            (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
              ? 'another USB/IP server (usbipd?) holds the port; stop it or pass --port'
              : undefined,
            { cause: err },
          );
        }
        if (!LOOPBACK.has(opts.host)) {
          ctx.stderr.write(
            `warning: listening on ${opts.host}, not loopback. USB/IP has no authentication or encryption: ` +
              `anyone who can reach port ${bound.port} can attach this camera.\n`,
          );
        }
        const formats = [...new Set(exported.source.formats.map((f) => f.fourcc))].join(', ');
        ctx.stdout.write(
          `serving ${hal.identity.id} (${formats}, ${opts.transfer}) as USB/IP bus id ${opts.busid} on ${bound.host}:${bound.port}\n` +
            `attach:  sudo modprobe vhci-hcd && sudo usbip ${bound.port === USBIP_PORT ? '' : `--tcp-port ${bound.port} `}attach -r ${
              LOOPBACK.has(opts.host) || opts.host === '0.0.0.0' || opts.host === '::'
                ? '127.0.0.1'
                : opts.host
            } -b ${opts.busid}\n` +
            `detach:  sudo usbip detach -p <port from \`usbip port\`>;  Ctrl-C stops the server\n`,
        );
        await new Promise<void>((resolve) => {
          if (!ctx.signal) return; // no signal: serve until the process is killed
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await server.close();
        await exported.close();
        const s = exported.source.stats;
        ctx.stdout.write(
          `stopped: ${exported.stats.framesSent} frames sent, ${exported.stats.framesDropped} dropped, ` +
            `${s.framesLent - s.framesReturned} buffers outstanding\n`,
        );
      } finally {
        if (server.state !== 'closed') await server.close().catch(() => undefined);
        await device.close();
      }
    });
}
