// Conformance subjects of this package's tests: the synthetic TV tuner card under the tuner minidriver, capture pin, on the suite's clock.
import {
  HalError,
  SyntheticTuner,
  type HalOpenOptions,
  type SyntheticTunerOptions,
  type TunerCardSession,
} from '@ksemu/hal';
import { MediaSubtype, type KsTime, type ManualClock } from '@ksemu/ks-core';
import type { ConformanceSubject } from '@ksemu/ks-core/testing';
import { TvCapturePin } from './tv-capture-filter.js';
import { createTunerDevice, TvFactory } from './tuner-device.js';

/** The tuner card with a way to pull it (it only disconnects itself on a fault plan). */
export class UnpluggableTuner extends SyntheticTuner {
  private session: TunerCardSession | undefined;

  override async open(options?: HalOpenOptions): Promise<TunerCardSession> {
    const session = await super.open(options);
    this.session = session;
    return session;
  }

  /**
   * Resolves once the card's DMA engine thread has handled every frame due so far and its
   * completions are published; nothing to wait for when the card is not open.
   * @throws Error if the engine is stuck (its own watchdog gave up).
   */
  async settle(): Promise<void> {
    let engine;
    try {
      engine = this.session?.pcieEngine();
    } catch {
      return; // closed
    }
    if (engine !== undefined && !(await engine.settle())) {
      throw new Error('the DMA engine did not handle the frames due');
    }
  }

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
      settle: () => hal.settle(),
      factory: TvFactory.Capture,
      pinId: TvCapturePin.Capture,
      format: { subtype: MediaSubtype.YUY2, width: 720, height, frameInterval: interval as KsTime },
    };
  };
}
