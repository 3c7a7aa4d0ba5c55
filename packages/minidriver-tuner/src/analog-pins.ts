// Pin descriptors of the analog (medium-wired) pins between TV filters: no frames flow through ks-core on them.
import {
  FormatType,
  MediaSubtype,
  MediaType,
  genericRange,
  type Guid,
  type Medium,
  type PinDescriptorInit,
} from '@ksemu/ks-core';

const ANALOG_VIDEO = genericRange({
  majorType: MediaType.AnalogVideo,
  subtype: MediaSubtype.None,
  specifier: FormatType.AnalogVideo,
});
const ANALOG_AUDIO = genericRange({ majorType: MediaType.AnalogAudio, subtype: MediaSubtype.None });

/**
 * An analog pin: a physical wire named by its medium (KSPIN_COMMUNICATION_BRIDGE), which the
 * graph builder connects by matching mediums rather than by instantiating pins.
 */
export function analogPin(
  name: string,
  kind: 'video' | 'audio',
  dataFlow: 'in' | 'out',
  medium: Medium,
  category?: Guid,
): PinDescriptorInit {
  return {
    name,
    dataFlow,
    communication: 'bridge',
    instances: { possible: 1, necessary: 0 },
    mediums: [medium],
    dataRanges: [kind === 'video' ? ANALOG_VIDEO : ANALOG_AUDIO],
    ...(category === undefined ? {} : { category }),
  };
}
