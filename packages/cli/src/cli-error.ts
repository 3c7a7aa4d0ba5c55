// Turns every failure into one clear line with the reason and the fix, plus an exit code that means something.

/** Exit codes of `ksemu`. */
export const ExitCode = {
  Ok: 0,
  /** The device or the pipeline failed at run time. */
  Failure: 1,
  /** The command line was wrong (unknown option, bad format spec, bad device id). */
  Usage: 2,
  /** The device named does not exist. */
  NotFound: 3,
  /** Golden verification found differences. */
  Mismatch: 4,
  /** The OS refused access (USB permissions, device held by a kernel driver). */
  Permission: 5,
  /** The device does not support what was asked (format, control, standard). */
  Unsupported: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A user-facing error: `message` says what went wrong, `hint` says what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

const UDEV_HINT =
  'add a udev rule, e.g. echo \'SUBSYSTEM=="usb", ATTR{idVendor}=="<vid>", MODE="0666"\' | sudo tee /etc/udev/rules.d/99-ksemu.rules && sudo udevadm control --reload && sudo udevadm trigger';

/** Maps HalError/KsError codes and plain errors to a CliError; other errors keep their message. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof RangeError || err instanceof TypeError) {
    return new CliError(err.message, ExitCode.Usage, undefined, { cause: err });
  }
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  const message = e?.message ?? String(err);
  if (e?.name === 'GoldenIntegrityError')
    return new CliError(message, ExitCode.Mismatch, undefined, { cause: err });
  switch (e?.code) {
    case 'NotFound':
      return new CliError(message, ExitCode.NotFound, 'run `ksemu list` to see the devices present', {
        cause: err,
      });
    case 'AccessDenied':
      return new CliError(message, ExitCode.Permission, UDEV_HINT, { cause: err });
    case 'Busy':
    case 'DeviceBusy':
      return new CliError(
        message,
        ExitCode.Permission,
        'another program or a kernel driver (uvcvideo) holds the device; close it, or pass --detach-kernel-driver',
        { cause: err },
      );
    case 'Unsupported':
    case 'NotSupported':
    case 'NoMatch':
      return new CliError(message, ExitCode.Unsupported, undefined, { cause: err });
    case 'InvalidParameter':
      return new CliError(message, ExitCode.Usage, undefined, { cause: err });
    default:
      return new CliError(message, ExitCode.Failure, undefined, { cause: err });
  }
}

/** The one line (two with a hint) printed for an error; stack traces only with KSEMU_DEBUG=1. */
export function formatCliError(err: CliError): string {
  const lines = [`ksemu: error: ${err.message}`];
  if (err.hint) lines.push(`  fix: ${err.hint}`);
  if (process.env.KSEMU_DEBUG === '1' && err.cause instanceof Error && err.cause.stack)
    lines.push(err.cause.stack);
  return lines.join('\n') + '\n';
}
