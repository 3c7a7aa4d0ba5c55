// The TV audio filter (KSCATEGORY_TVAUDIO): PROPSETID_VIDCAP_TVAUDIO caps, mode (mono/stereo/SAP) and currently available modes.
import {
  KsCategory,
  KsError,
  PropSetId,
  defineFilterDescriptor,
  guid,
  type Minidriver,
  type PropertyItem,
} from '@ksemu/ks-core';
import { analogPin } from './analog-pins.js';
import { KsStruct } from './ks-struct.js';
import type { TvCard } from './tv-card.js';
import { TvAudioMode, TvAudioProperty } from './tv-property-ids.js';

/** ReferenceGuid of the TV audio filter type. */
export const TV_AUDIO_FILTER_GUID = guid('6b73656d-7476-6175-6469-6f0000000001');

/** Modes the card decodes: mono, stereo, and the second audio program (LANG_B). */
export const TV_AUDIO_MODES = TvAudioMode.Mono | TvAudioMode.Stereo | TvAudioMode.LangB;

/** The TV audio filter's minidriver. */
export function tvAudioMinidriver(card: TvCard): Minidriver {
  const items: PropertyItem<TvCard>[] = [
    {
      id: TvAudioProperty.Caps,
      name: 'TvAudioCaps',
      type: 'bytes',
      size: 52,
      access: 'readonly',
      get: () =>
        new KsStruct(52).ulong(TV_AUDIO_MODES).medium(card.mediums.tunerAudio).medium(card.mediums.tvAudioOut)
          .bytes,
    },
    {
      id: TvAudioProperty.Mode,
      name: 'TvAudioMode',
      type: 'uint32',
      default: TvAudioMode.Stereo,
      get: () => card.tvAudioMode,
      set: (_ctx, value) => {
        const v = value as number;
        // One mode at a time, and one the card has.
        if (v === 0 || (v & (v - 1)) !== 0 || (v & TV_AUDIO_MODES) !== v) {
          throw new KsError('NotSupported', `TV audio mode 0x${v.toString(16)} is not supported`);
        }
        card.tvAudioMode = v;
      },
    },
    {
      id: TvAudioProperty.CurrentlyAvailableModes,
      name: 'TvAudioCurrentlyAvailableModes',
      type: 'uint32',
      access: 'readonly',
      // Without a carrier only mono (silence) is there; a locked channel carries stereo and SAP.
      get: () =>
        card.withTuner('reading audio modes', (fe) =>
          fe.status().locked ? TV_AUDIO_MODES : TvAudioMode.Mono,
        ),
    },
  ];
  return {
    descriptor: defineFilterDescriptor({
      referenceGuid: TV_AUDIO_FILTER_GUID,
      name: `${card.device.identity.name} TV Audio`,
      categories: [KsCategory.TVAUDIO],
      pins: [
        analogPin('Analog Audio In', 'audio', 'in', card.mediums.tunerAudio),
        analogPin('Analog Audio Out', 'audio', 'out', card.mediums.tvAudioOut),
      ],
      automation: { properties: [{ set: PropSetId.TVAudio, items: items as PropertyItem[] }] },
    }),
    create: () => card,
  };
}
