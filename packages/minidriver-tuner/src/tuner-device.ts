// createTunerDevice: the KS device of a HAL TV tuner card: five filter factories (tuner, TV audio, crossbar, decoder, capture) wired by mediums.
import type { HalDevice, HalError } from '@ksemu/hal';
import {
  KsError,
  SystemClock,
  createDevice,
  silentLogger,
  type Clock,
  type KsDevice,
  type Logger,
} from '@ksemu/ks-core';
import { crossbarMinidriver } from './crossbar-filter.js';
import { tunerMinidriver } from './tuner-filter.js';
import { TvCard } from './tv-card.js';
import { tvAudioMinidriver } from './tv-audio-filter.js';
import { tvCaptureMinidriver } from './tv-capture-filter.js';
import { videoDecoderMinidriver } from './video-decoder-filter.js';

/** Filter factory indices of a tuner device. */
export const TvFactory = Object.freeze({ Tuner: 0, TvAudio: 1, Crossbar: 2, VideoDecoder: 3, Capture: 4 });

/** Options of {@link createTunerDevice}. */
export interface TunerDeviceOptions {
  /** Device clock and HAL time source (default `SystemClock`; `ManualClock` in tests). */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** True when the tuner minidriver can drive `device`: it has a TV tuner and video. */
export function matchesTuner(device: HalDevice): boolean {
  return device.capabilities.tuner !== undefined && device.capabilities.video.length > 0;
}

/**
 * Creates the KS device of a HAL tuner card, as a WDM analog TV driver registers its filters:
 * tuner, TV audio, crossbar, video decoder and capture, each a filter factory whose analog pins
 * name their wiring with mediums (connect them with `openTuner`). Takes no hardware until used;
 * hot-unplug surprise-removes the device. The caller owns and must `close()` it.
 * @throws KsError NotSupported when the device has no tuner.
 */
export function createTunerDevice(device: HalDevice, options: TunerDeviceOptions = {}): KsDevice {
  if (!matchesTuner(device))
    throw new KsError('NotSupported', `${device.identity.id} is not a TV tuner card`);
  const clock = options.clock ?? new SystemClock();
  const logger = (options.logger ?? silentLogger()).child({ minidriver: 'tuner', hal: device.identity.id });
  const card = new TvCard(device, { clock, logger });
  const ks = createDevice({
    name: device.identity.id,
    minidrivers: [
      tunerMinidriver(card),
      tvAudioMinidriver(card),
      crossbarMinidriver(card),
      videoDecoderMinidriver(card),
      tvCaptureMinidriver(card),
    ],
    clock,
    logger: options.logger ?? silentLogger(),
    onClose: async () => {
      unsubscribe();
      await card.session.shutdown();
    },
  });
  const onDisconnect = (reason: HalError | undefined): void => {
    void ks.surpriseRemoval(
      new KsError('Disconnected', `${device.identity.id} was unplugged`, { cause: reason }),
    );
  };
  const unsubscribe = device.on('disconnect', onDisconnect);
  if (device.state === 'disconnected') onDisconnect(undefined);
  return ks;
}
