// Conformance subjects of this package's tests: a fresh synthetic HAL device under the webcam minidriver on the suite's clock.
import {
  SyntheticCamera,
  SyntheticPcieCard,
  HalError,
  type HalOpenOptions,
  type PcieCardSession,
  type SyntheticPcieCardOptions,
} from '@ksemu/hal';
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

/**
 * Waits until the card's DMA engine thread has handled every frame due so far and its
 * completions are published (the conformance suite's `settle`). Nothing to wait for when the
 * card is not open.
 * @throws Error if the engine is stuck (its own watchdog gave up).
 */
async function settleCard(session: PcieCardSession | undefined): Promise<void> {
  let engine;
  try {
    engine = session?.pcieEngine();
  } catch {
    return; // closed
  }
  if (engine !== undefined && !(await engine.settle())) {
    throw new Error('the DMA engine did not handle the frames due');
  }
}

/** The PCIe card with a way to pull it (the card only disconnects itself on a fault plan). */
export class UnpluggablePcieCard extends SyntheticPcieCard {
  private session: PcieCardSession | undefined;

  constructor(options: SyntheticPcieCardOptions = {}) {
    super(options);
  }

  override async open(options?: HalOpenOptions): Promise<PcieCardSession> {
    const session = await super.open(options);
    this.session = session;
    return session;
  }

  /** See {@link settleCard}: the open session's engine has handled every frame due so far. */
  settle(): Promise<void> {
    return settleCard(this.session);
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
    return {
      device: createWebcamDevice(hal, { clock }),
      unplug: () => hal.unplug(),
      settle: () => hal.settle(),
      format,
    };
  };
}
