// Conformance subjects of this package's tests: the synthetic TV tuner card under the tuner minidriver, capture pin, on the suite's clock.
import { HalError, SyntheticTuner, type SyntheticTunerOptions } from '@ksemu/hal';
import { MediaSubtype, type KsTime, type ManualClock } from '@ksemu/ks-core';
import type { ConformanceSubject } from '@ksemu/ks-core/testing';
import { TvCapturePin } from './tv-capture-filter.js';
import { createTunerDevice, TvFactory } from './tuner-device.js';

/** The tuner card with a way to pull it (it only disconnects itself on a fault plan). */
export class UnpluggableTuner extends SyntheticTuner {
  unplug(): void {
    this.disconnect(new HalError('Disconnected', `${this.identity.id} was pulled`));
  }
}

/** A subject maker streaming 720 × `height` at `interval` from the card's capture pin. */
export function tunerSubject(
  options: SyntheticTunerOptions,
  height: number,
  interval: bigint,
): (clock: ManualClock) => ConformanceSubject {
  return (clock) => {
    const hal = new UnpluggableTuner(options);
    return {
      device: createTunerDevice(hal, { clock }),
      unplug: () => hal.unplug(),
      factory: TvFactory.Capture,
      pinId: TvCapturePin.Capture,
      format: { subtype: MediaSubtype.YUY2, width: 720, height, frameInterval: interval as KsTime },
    };
  };
}
