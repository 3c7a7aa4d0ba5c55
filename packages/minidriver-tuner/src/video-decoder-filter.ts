// The analog video decoder filter: PROPSETID_VIDCAP_VIDEODECODER caps, standard, status (lines, lock) and output enable.
import {
  KsCategory,
  PinName,
  PropSetId,
  defineFilterDescriptor,
  guid,
  type Minidriver,
  type PropertyItem,
} from '@ksemu/ks-core';
import { ksStandardOf, ksStandardsMask, pictureOf } from './analog-standard.js';
import { analogPin } from './analog-pins.js';
import { KsStruct } from './ks-struct.js';
import { CrossbarInput, CrossbarOutput, type TvCard } from './tv-card.js';
import { setStandard } from './tuner-filter.js';
import { VideoDecoderFlag, VideoDecoderProperty } from './tv-property-ids.js';

/** ReferenceGuid of the video decoder filter type. */
export const VIDEO_DECODER_FILTER_GUID = guid('6b73656d-6465-636f-6465-720000000001');

/**
 * The decoder's minidriver. Its standard is the card's (setting it here or on the tuner is the
 * same). It reports lock only for the tuner input: the synthetic card has no baseband source
 * behind its composite and S-video connectors.
 */
export function videoDecoderMinidriver(card: TvCard): Minidriver {
  const items: PropertyItem<TvCard>[] = [
    {
      id: VideoDecoderProperty.Caps,
      name: 'VideoDecoderCaps',
      type: 'bytes',
      size: 16,
      access: 'readonly',
      get: () =>
        new KsStruct(16)
          .ulong(ksStandardsMask(card.caps.standards))
          .ulong(VideoDecoderFlag.CanIndicateLocked | VideoDecoderFlag.CanDisableOutput)
          .ulong(Number(card.caps.settleTime / 10_000n))
          .ulong(pictureOf(card.standard).lines).bytes,
    },
    {
      id: VideoDecoderProperty.Standard,
      name: 'VideoDecoderStandard',
      type: 'uint32',
      default: ksStandardOf(card.standard) ?? 0,
      get: () => ksStandardOf(card.standard) ?? 0,
      set: (_ctx, value) => setStandard(card, value),
    },
    {
      id: VideoDecoderProperty.Status,
      name: 'VideoDecoderStatus',
      type: 'bytes',
      size: 8,
      access: 'readonly',
      get: () =>
        card.withTuner('reading decoder status', (fe) => {
          const fromTuner = card.routes[CrossbarOutput.VideoDecoder] === CrossbarInput.VideoTuner;
          const locked = fromTuner && fe.status().locked;
          return new KsStruct(8).ulong(pictureOf(card.standard).lines).ulong(locked ? 1 : 0).bytes;
        }),
    },
    { id: VideoDecoderProperty.OutputEnable, name: 'VideoDecoderOutputEnable', type: 'bool', default: true },
  ];
  return {
    descriptor: defineFilterDescriptor({
      referenceGuid: VIDEO_DECODER_FILTER_GUID,
      name: `${card.device.identity.name} Video Decoder`,
      categories: [KsCategory.VIDEO],
      pins: [
        analogPin('Analog Video In', 'video', 'in', card.mediums.decoderIn, PinName.ANALOGVIDEOIN),
        analogPin('Analog Video Out', 'video', 'out', card.mediums.decoderOut),
      ],
      automation: { properties: [{ set: PropSetId.VideoDecoder, items: items as PropertyItem[] }] },
    }),
    create: () => card,
  };
}
