// KsError: typed device/stream failures with NTSTATUS-like codes, and the wrong-state error that names current and required states.

/**
 * Failure codes, each the KS-level meaning of one NTSTATUS (see {@link ntStatusOf}). Minidrivers
 * map their HAL errors onto these in one place.
 */
export type KsErrorCode =
  | 'NotFound' // unknown property set/id, pin id, node id (STATUS_NOT_FOUND)
  | 'InvalidParameter' // a request that is well-typed but not acceptable here (STATUS_INVALID_PARAMETER)
  | 'InvalidDeviceRequest' // an operation the object does not support in this role (STATUS_INVALID_DEVICE_REQUEST)
  | 'InvalidDeviceState' // wrong state for the call (STATUS_INVALID_DEVICE_STATE); see KsStateError
  | 'NotSupported' // recognised but unsupported (STATUS_NOT_SUPPORTED)
  | 'NoMatch' // format intersection found nothing (STATUS_NO_MATCH)
  | 'BufferTooSmall' // raw property buffer smaller than the value (STATUS_BUFFER_TOO_SMALL)
  | 'DeviceBusy' // hardware in use by someone else (STATUS_DEVICE_BUSY)
  | 'InsufficientResources' // instance limit reached, allocation failed (STATUS_INSUFFICIENT_RESOURCES)
  | 'Disconnected' // device removed (STATUS_DEVICE_NOT_CONNECTED)
  | 'Closed' // object closed (STATUS_FILE_CLOSED)
  | 'Cancelled' // request cancelled by stop/close (STATUS_CANCELLED)
  | 'TimedOut' // hardware did not answer (STATUS_IO_TIMEOUT)
  | 'DeviceFailure'; // anything else from the hardware (STATUS_IO_DEVICE_ERROR)

const NTSTATUS: Readonly<Record<KsErrorCode, number>> = Object.freeze({
  NotFound: 0xc0000225,
  InvalidParameter: 0xc000000d,
  InvalidDeviceRequest: 0xc0000010,
  InvalidDeviceState: 0xc0000184,
  NotSupported: 0xc00000bb,
  NoMatch: 0xc0000272,
  BufferTooSmall: 0xc0000023,
  DeviceBusy: 0x80000011,
  InsufficientResources: 0xc000009a,
  Disconnected: 0xc000009d,
  Closed: 0xc0000128,
  Cancelled: 0xc0000120,
  TimedOut: 0xc00000b5,
  DeviceFailure: 0xc0000185,
});

/** The NTSTATUS value (as an unsigned 32-bit number) a Windows KS driver would return for `code`. */
export function ntStatusOf(code: KsErrorCode): number {
  return NTSTATUS[code];
}

/** Options of {@link KsError}. */
export interface KsErrorOptions {
  /** The underlying error (HAL error, thrown minidriver error), kept for diagnosis. */
  cause?: unknown;
  /** For `BufferTooSmall`: the size the caller must supply. */
  requiredSize?: number;
}

/**
 * A typed KS failure. Check `code`, never the message. `cause` keeps the original error.
 */
export class KsError extends Error {
  /** What went wrong, machine-readable. */
  readonly code: KsErrorCode;
  /** For `BufferTooSmall`: the size needed. */
  readonly requiredSize: number | undefined;

  constructor(code: KsErrorCode, message: string, options: KsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KsError';
    this.code = code;
    this.requiredSize = options.requiredSize;
  }

  /** The NTSTATUS equivalent of {@link code}. */
  get ntStatus(): number {
    return NTSTATUS[this.code];
  }

  /** Plain fields for logs, `--json` output and postMessage (Error objects lose custom fields when cloned). */
  toJSON(): { name: string; code: KsErrorCode; message: string; ntStatus: number; requiredSize?: number } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ntStatus: this.ntStatus,
      ...(this.requiredSize === undefined ? {} : { requiredSize: this.requiredSize }),
    };
  }

  /**
   * Wraps any thrown value as a KsError: a KsError passes through unchanged, anything else
   * becomes `fallback` with the value as `cause`. Used where minidriver code is called.
   */
  static from(err: unknown, fallback: KsErrorCode, message: string): KsError {
    if (isKsError(err)) return err;
    const detail = err instanceof Error ? `: ${err.message}` : '';
    return new KsError(fallback, `${message}${detail}`, { cause: err });
  }
}

/**
 * A call made in the wrong state. The message and fields name the object, the operation, its
 * current state and the states that would have allowed the call, e.g.
 * `pin 0 (Capture): setFormat() requires state stop, but the pin is in run`.
 */
export class KsStateError extends KsError {
  /** State of the object when the call was made. */
  readonly current: string;
  /** States in which the call is allowed. */
  readonly required: readonly string[];
  /** The refused operation. */
  readonly operation: string;

  constructor(
    object: string,
    operation: string,
    current: string,
    required: readonly string[],
    code: KsErrorCode = 'InvalidDeviceState',
  ) {
    const need = required.length === 1 ? `state ${required[0]}` : `one of the states ${required.join(', ')}`;
    super(code, `${object}: ${operation}() requires ${need}, but it is ${current}`);
    this.name = 'KsStateError';
    this.current = current;
    this.required = Object.freeze([...required]);
    this.operation = operation;
  }
}

/** A pin type of a filter with fewer open instances than its descriptor's `instances.necessary`. */
export interface MissingPinInstances {
  /** Pin type id (index into the filter descriptor's pins). */
  readonly pinId: number;
  /** The pin type's display name. */
  readonly pinName: string;
  /** `instances.necessary` of the pin type (KSPIN_DESCRIPTOR_EX.InstancesNecessary). */
  readonly necessary: number;
  /** Instances open on the filter when the check ran. */
  readonly current: number;
}

/**
 * A pin was asked to leave STOP while its filter lacks instances its descriptor says are necessary
 * (KSPIN_DESCRIPTOR_EX.InstancesNecessary; AVStream will not stream such a filter). A wrong-state
 * error (code `InvalidDeviceState`): the pin stays in STOP, nothing was allocated, and the same call
 * succeeds once the missing pins are created. `missing` lists every pin type short of its count.
 */
export class KsNecessaryInstancesError extends KsStateError {
  /** Every pin type below its necessary count, in pin id order (never empty). */
  readonly missing: readonly MissingPinInstances[];

  constructor(pin: string, operation: string, missing: readonly MissingPinInstances[]) {
    const detail = missing
      .map(
        (m) => `pin type ${m.pinId} (${m.pinName}) has ${m.current} of ${m.necessary} necessary instance(s)`,
      )
      .join('; ');
    super(pin, operation, `stop, the filter lacking necessary pins (${detail})`, [
      'stop with every pin type at its necessary instance count',
    ]);
    this.name = 'KsNecessaryInstancesError';
    this.message = `${pin}: ${operation}() cannot leave stop: ${detail}`;
    this.missing = Object.freeze(missing.map((m) => Object.freeze({ ...m })));
  }
}

const KS_ERROR_NAMES: ReadonlySet<unknown> = new Set([
  'KsError',
  'KsStateError',
  'KsNecessaryInstancesError',
]);

/**
 * Realm-independent KsError check (errors thrown inside a jest vm realm or a Worker fail
 * `instanceof`).
 */
export function isKsError(err: unknown): err is KsError {
  return (
    err instanceof KsError ||
    (typeof err === 'object' &&
      err !== null &&
      KS_ERROR_NAMES.has((err as { name?: unknown }).name) &&
      typeof (err as { code?: unknown }).code === 'string')
  );
}
