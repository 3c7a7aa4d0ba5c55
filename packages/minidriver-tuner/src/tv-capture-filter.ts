// The TV capture filter: an analog video input wired to the decoder and a DMA capture pin delivering the tuned channel (720x480@29.97 or 720x576@25).
import {
  KsCategory,
  PinName,
  defineFilterDescriptor,
  guid,
  intersectRanges,
  simpleFraming,
  type FormatRequest,
  type IntersectionResult,
  type KsPin,
  type Minidriver,
  type PinDispatch,
} from '@ksemu/ks-core';
import {
  dmaCapturePin,
  largestFrame,
  videoRangesFor,
  type DmaCaptureContext,
} from '@ksemu/minidriver-webcam';
import { pictureOf } from './analog-standard.js';
import { analogPin } from './analog-pins.js';
import type { TvCard } from './tv-card.js';

/** ReferenceGuid of the TV capture filter type. */
export const TV_CAPTURE_FILTER_GUID = guid('6b73656d-7476-6361-7074-000000000001');

/** Pin ids of the TV capture filter. */
export const TvCapturePin = Object.freeze({ AnalogVideoIn: 0, Capture: 1 });

/**
 * The capture filter's minidriver. The capture pin is the webcam package's DMA pin (same path
 * as every hal video device) with two TV twists: formats follow the selected standard (the data
 * ranges list both pictures; intersection only offers the current one), and the first frame
 * after a channel change carries DataDiscontinuity.
 */
export function tvCaptureMinidriver(card: TvCard): Minidriver {
  const ranges = videoRangesFor(card.device.capabilities.video);
  const dma = dmaCapturePin({
    session: card.session,
    clock: card.clock,
    logger: card.logger,
    frameFlags: card.frameFlags,
  });
  const capture: PinDispatch<unknown, DmaCaptureContext> = {
    ...dma,
    create(pin: KsPin) {
      card.capturePins.add(pin);
      return dma.create!(pin, undefined);
    },
    intersect(pin: KsPin, request: FormatRequest, proposed: IntersectionResult): IntersectionResult {
      const pic = pictureOf(card.standard);
      const result = intersectRanges(pin.dataRanges, {
        width: pic.width,
        height: pic.height,
        frameInterval: pic.frameInterval as never,
        ...request,
      });
      if (result.status === 'invalid' || result.format.kind !== 'video')
        return proposed.status === 'invalid' ? proposed : result;
      const f = result.format;
      if (f.width !== pic.width || f.height !== pic.height || f.frameInterval !== pic.frameInterval) {
        return {
          status: 'invalid',
          adjustments: [],
          reason: `${card.standard} delivers ${pic.width}x${pic.height} at interval ${pic.frameInterval}, not ${f.width}x${f.height} at ${f.frameInterval}`,
        };
      }
      return result;
    },
    async close(pin: KsPin, ctx: DmaCaptureContext) {
      card.capturePins.delete(pin);
      await dma.close?.(pin, ctx);
    },
  };
  return {
    descriptor: defineFilterDescriptor({
      referenceGuid: TV_CAPTURE_FILTER_GUID,
      name: `${card.device.identity.name} Capture`,
      categories: [KsCategory.CAPTURE, KsCategory.VIDEO],
      pins: [
        analogPin('Analog Video In', 'video', 'in', card.mediums.decoderOut, PinName.ANALOGVIDEOIN),
        {
          name: 'Capture',
          category: PinName.CAPTURE,
          dataFlow: 'out',
          communication: 'both',
          instances: { possible: 1, necessary: 0 },
          dataRanges: ranges,
          framing: simpleFraming({ frames: 4, alignment: 64, maxFrameSize: largestFrame(ranges) }),
        },
      ],
    }),
    pins: [undefined, capture as PinDispatch],
    create: () => card,
  };
}
