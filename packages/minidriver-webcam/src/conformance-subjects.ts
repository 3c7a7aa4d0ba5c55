// Conformance subjects of this package's tests: a fresh synthetic HAL device under the webcam minidriver on the suite's clock.
import { SyntheticCamera, SyntheticPcieCard, HalError, type SyntheticPcieCardOptions } from '@ksemu/hal';
import type { FormatRequest, ManualClock } from '@ksemu/ks-core';
import type { ConformanceSubject } from '@ksemu/ks-core/testing';
import { createWebcamDevice } from './webcam-device.js';

/** A subject maker for the synthetic camera streaming `format`. */
export function cameraSubject(format: FormatRequest): (clock: ManualClock) => ConformanceSubject {
  return (clock) => {
    const hal = new SyntheticCamera({ pattern: 'moving-box' });
    return { device: createWebcamDevice(hal, { clock }), unplug: () => hal.unplug(), format };
  };
}

/** The PCIe card with a way to pull it (the card only disconnects itself on a fault plan). */
export class UnpluggablePcieCard extends SyntheticPcieCard {
  constructor(options: SyntheticPcieCardOptions = {}) {
    super(options);
  }

  /** Link down, as when the card falls off the bus. */
  unplug(): void {
    this.disconnect(new HalError('Disconnected', `${this.identity.id} fell off the bus`));
  }
}

/** A subject maker for the synthetic PCIe card streaming `format`. */
export function pcieSubject(format: FormatRequest): (clock: ManualClock) => ConformanceSubject {
  return (clock) => {
    const hal = new UnpluggablePcieCard({ pattern: 'moving-box' });
    return { device: createWebcamDevice(hal, { clock }), unplug: () => hal.unplug(), format };
  };
}
