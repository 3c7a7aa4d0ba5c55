// Maps HAL failures (HalError codes, RangeError from a device) onto KsError codes, in one place, keeping the cause.
import { isHalError, type HalErrorCode } from '@ksemu/hal';
import { KsError, isKsError, type KsErrorCode } from '@ksemu/ks-core';

const CODES: Readonly<Record<HalErrorCode, KsErrorCode>> = Object.freeze({
  Busy: 'DeviceBusy',
  NotFound: 'NotFound',
  Disconnected: 'Disconnected',
  TimedOut: 'TimedOut',
  Unsupported: 'NotSupported',
  Protocol: 'DeviceFailure',
  InvalidState: 'InvalidDeviceState',
  AccessDenied: 'InvalidDeviceRequest',
  Io: 'DeviceFailure',
  Stall: 'InvalidParameter',
  NoBandwidth: 'InsufficientResources',
  StartFailed: 'DeviceFailure',
});

/** The KsError code a HAL error code stands for. */
export function ksCodeOf(code: HalErrorCode): KsErrorCode {
  return CODES[code];
}

/**
 * Wraps a failure of a HAL call as a KsError: a KsError passes through, a HalError keeps its
 * meaning (Busy → DeviceBusy, Disconnected → Disconnected …), a RangeError from the device (a
 * value it refused) becomes InvalidParameter, anything else DeviceFailure. `cause` is kept.
 */
export function toKsError(err: unknown, message: string): KsError {
  if (isKsError(err)) return err;
  if (isHalError(err)) return new KsError(ksCodeOf(err.code), `${message}: ${err.message}`, { cause: err });
  const name = (err as { name?: unknown } | null)?.name;
  const detail = err instanceof Error ? `: ${err.message}` : '';
  if (name === 'RangeError' || name === 'TypeError') {
    return new KsError('InvalidParameter', `${message}${detail}`, { cause: err });
  }
  return new KsError('DeviceFailure', `${message}${detail}`, { cause: err });
}
