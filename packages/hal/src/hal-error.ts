// Typed device-failure errors of the hardware layer; per-frame problems never use these.

/**
 * Device-failure codes. Bad arguments throw `TypeError`/`RangeError` instead, and per-frame
 * problems are reported in a completion's status, never as a `HalError`.
 */
export const HalErrorCode = {
  /** The device is already opened (exclusively) or the resource is taken. */
  Busy: 'Busy',
  /** No device, control, format or entity with that identity. */
  NotFound: 'NotFound',
  /** The device went away (unplugged, or a fault plan disconnected it). */
  Disconnected: 'Disconnected',
  /** The device did not answer in time. */
  TimedOut: 'TimedOut',
  /** The device does not support the request (format, control, operation). */
  Unsupported: 'Unsupported',
  /** The device answered with something the protocol does not allow. */
  Protocol: 'Protocol',
  /** The call is not allowed in the object's current state; the message names both states. */
  InvalidState: 'InvalidState',
  /** The operating system refused access (permissions, kernel driver attached). */
  AccessDenied: 'AccessDenied',
  /** Input/output failure reported by the transport. */
  Io: 'Io',
  /** The device stalled the request (USB STALL) — the request was refused. */
  Stall: 'Stall',
  /** Not enough bandwidth on the bus for the requested format. */
  NoBandwidth: 'NoBandwidth',
  /** The device rejected the start of streaming (e.g. a fault plan's `fail-start`). */
  StartFailed: 'StartFailed',
} as const;

/** One of {@link HalErrorCode}'s values. */
export type HalErrorCode = (typeof HalErrorCode)[keyof typeof HalErrorCode];

/** Options of {@link HalError}. */
export interface HalErrorOptions {
  /** The underlying error (transport error, errno, nested HalError); kept, never swallowed. */
  cause?: unknown;
  /** Id of the device the failure belongs to, when known. */
  deviceId?: string;
}

/**
 * A device failure with a stable {@link HalErrorCode}. `cause` keeps the original error.
 * Callers branch on `code`, never on the message text.
 */
export class HalError extends Error {
  readonly code: HalErrorCode;
  readonly deviceId: string | undefined;

  constructor(code: HalErrorCode, message: string, options: HalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HalError';
    this.code = code;
    this.deviceId = options.deviceId;
  }

  /**
   * The error for a call made in the wrong state: names the current and the required states.
   * @param operation - the refused call, e.g. `'start()'`.
   */
  static invalidState(
    operation: string,
    current: string,
    required: string | readonly string[],
    deviceId?: string,
  ): HalError {
    const need = typeof required === 'string' ? required : required.join("' or '");
    return new HalError(
      HalErrorCode.InvalidState,
      `${operation} requires state '${need}', current state is '${current}'`,
      { deviceId },
    );
  }
}

/**
 * True when `value` is a {@link HalError} (optionally with the given code). Works across
 * realms (jest vm, workers) because it checks the shape, not the prototype.
 */
export function isHalError(value: unknown, code?: HalErrorCode): value is HalError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { name?: unknown; code?: unknown };
  if (v.name !== 'HalError' || typeof v.code !== 'string') return false;
  return code === undefined || v.code === code;
}
