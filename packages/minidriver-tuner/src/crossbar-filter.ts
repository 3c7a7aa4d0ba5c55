// The crossbar filter (KSCATEGORY_CROSSBAR): PROPSETID_VIDCAP_CROSSBAR caps, pin info, route; routing tuner / composite / S-video to the decoder.
import {
  KsCategory,
  KsError,
  PropSetId,
  defineFilterDescriptor,
  guid,
  type Medium,
  type Minidriver,
  type PropertyItem,
} from '@ksemu/ks-core';
import { analogPin } from './analog-pins.js';
import { KsStruct, ulongAt } from './ks-struct.js';
import { CrossbarInput, CrossbarOutput, type TvCard } from './tv-card.js';
import { CrossbarProperty, PhysConn } from './tv-property-ids.js';

/** ReferenceGuid of the crossbar filter type. */
export const CROSSBAR_FILTER_GUID = guid('6b73656d-7862-6172-0000-000000000001');

/** One crossbar pin as KSPROPERTY_CROSSBAR_PININFO describes it. */
export interface CrossbarPinInfo {
  readonly direction: 'in' | 'out';
  /** Index among the pins of its direction. */
  readonly index: number;
  /** KS_PhysicalConnectorType. */
  readonly pinType: number;
  /** The pin carrying the other half of the same source (video ↔ audio), same direction. */
  readonly relatedPinIndex: number;
  readonly medium: Medium;
}

/** The crossbar's pins: five inputs, then two outputs (filter pin ids follow this order). */
export function crossbarPins(card: TvCard): readonly CrossbarPinInfo[] {
  const m = card.mediums;
  return [
    {
      direction: 'in',
      index: CrossbarInput.VideoTuner,
      pinType: PhysConn.VideoTuner,
      relatedPinIndex: CrossbarInput.AudioTuner,
      medium: m.tunerVideo,
    },
    {
      direction: 'in',
      index: CrossbarInput.VideoComposite,
      pinType: PhysConn.VideoComposite,
      relatedPinIndex: CrossbarInput.AudioLine,
      medium: m.connector,
    },
    {
      direction: 'in',
      index: CrossbarInput.VideoSVideo,
      pinType: PhysConn.VideoSVideo,
      relatedPinIndex: CrossbarInput.AudioLine,
      medium: m.connector,
    },
    {
      direction: 'in',
      index: CrossbarInput.AudioTuner,
      pinType: PhysConn.AudioTuner,
      relatedPinIndex: CrossbarInput.VideoTuner,
      medium: m.tvAudioOut,
    },
    {
      direction: 'in',
      index: CrossbarInput.AudioLine,
      pinType: PhysConn.AudioLine,
      relatedPinIndex: CrossbarInput.VideoComposite,
      medium: m.connector,
    },
    {
      direction: 'out',
      index: CrossbarOutput.VideoDecoder,
      pinType: PhysConn.VideoDecoder,
      relatedPinIndex: CrossbarOutput.AudioDecoder,
      medium: m.decoderIn,
    },
    {
      direction: 'out',
      index: CrossbarOutput.AudioDecoder,
      pinType: PhysConn.AudioDecoder,
      relatedPinIndex: CrossbarOutput.VideoDecoder,
      medium: m.audioOut,
    },
  ];
}

const INPUTS = 5;
const OUTPUTS = 2;
const PIN_INFO_BYTES = 40; // Direction, Index, PinType, RelatedPinIndex, KSPIN_MEDIUM

/** Whether input `input` can be routed to output `output`: video to video, audio to audio. */
export function canRoute(input: number, output: number): boolean {
  if (!Number.isInteger(input) || !Number.isInteger(output)) return false;
  if (input < 0 || input >= INPUTS || output < 0 || output >= OUTPUTS) return false;
  const videoIn = input <= CrossbarInput.VideoSVideo;
  return videoIn === (output === CrossbarOutput.VideoDecoder);
}

/**
 * Routes `input` to `output` on the card.
 * @throws KsError InvalidParameter for pins that do not exist or a route the crossbar cannot
 *   make (audio to video), as KS answers a bad KSPROPERTY_CROSSBAR_ROUTE.
 */
export function route(card: TvCard, input: number, output: number): void {
  if (!Number.isInteger(output) || output < 0 || output >= OUTPUTS)
    throw new KsError('InvalidParameter', `crossbar has no output ${output}`);
  if (!Number.isInteger(input) || input < 0 || input >= INPUTS)
    throw new KsError('InvalidParameter', `crossbar has no input ${input}`);
  if (!canRoute(input, output))
    throw new KsError('InvalidParameter', `crossbar cannot route input ${input} to output ${output}`);
  card.routes[output] = input;
}

/**
 * The crossbar's minidriver. KS passes PININFO and CAN_ROUTE their pin indices in the request;
 * ks-core items take no request parameters, so PININFO returns the table of every pin and
 * ROUTE reads and writes the video output's route; the typed handle (`openTuner`) offers the
 * per-pin queries.
 */
export function crossbarMinidriver(card: TvCard): Minidriver {
  const pins = crossbarPins(card);
  const items: PropertyItem<TvCard>[] = [
    {
      id: CrossbarProperty.Caps,
      name: 'CrossbarCaps',
      type: 'bytes',
      size: 8,
      access: 'readonly',
      get: () => new KsStruct(8).ulong(INPUTS).ulong(OUTPUTS).bytes,
    },
    {
      id: CrossbarProperty.PinInfo,
      name: 'CrossbarPinInfo',
      type: 'bytes',
      size: PIN_INFO_BYTES * pins.length,
      access: 'readonly',
      get: () => {
        const s = new KsStruct(PIN_INFO_BYTES * pins.length);
        // KSPIN_DATAFLOW_IN = 1, KSPIN_DATAFLOW_OUT = 2.
        for (const p of pins)
          s.ulong(p.direction === 'in' ? 1 : 2)
            .ulong(p.index)
            .ulong(p.pinType)
            .ulong(p.relatedPinIndex)
            .medium(p.medium);
        return s.bytes;
      },
    },
    {
      id: CrossbarProperty.Route,
      name: 'CrossbarRoute',
      type: 'bytes',
      size: 12,
      get: () =>
        new KsStruct(12)
          .ulong(card.routes[CrossbarOutput.VideoDecoder] ?? 0xffffffff)
          .ulong(CrossbarOutput.VideoDecoder)
          .ulong(1).bytes,
      set: (_ctx, value) => route(card, ulongAt(value as Uint8Array, 0), ulongAt(value as Uint8Array, 1)),
    },
  ];
  return {
    descriptor: defineFilterDescriptor({
      referenceGuid: CROSSBAR_FILTER_GUID,
      name: `${card.device.identity.name} Crossbar`,
      categories: [KsCategory.CROSSBAR],
      pins: [
        analogPin('Video Tuner In', 'video', 'in', card.mediums.tunerVideo),
        analogPin('Video Composite In', 'video', 'in', card.mediums.connector),
        analogPin('Video SVideo In', 'video', 'in', card.mediums.connector),
        analogPin('Audio Tuner In', 'audio', 'in', card.mediums.tvAudioOut),
        analogPin('Audio Line In', 'audio', 'in', card.mediums.connector),
        analogPin('Video Decoder Out', 'video', 'out', card.mediums.decoderIn),
        analogPin('Audio Decoder Out', 'audio', 'out', card.mediums.audioOut),
      ],
      automation: { properties: [{ set: PropSetId.CrossBar, items: items as PropertyItem[] }] },
    }),
    create: () => card,
  };
}
