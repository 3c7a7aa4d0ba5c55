// The TV tuner filter (KSCATEGORY_TVTUNER): PROPSETID_TUNER caps, mode caps, mode, standard, frequency, input, status, scan status; tuner change events.
import {
  EventSetId,
  KsCategory,
  KsError,
  PropSetId,
  defineFilterDescriptor,
  guid,
  type KsFilter,
  type Minidriver,
  type PropertyItem,
  type PropertyValue,
} from '@ksemu/ks-core';
import { ksStandardOf, ksStandardsMask, pictureOf, standardOfKs } from './analog-standard.js';
import { analogPin } from './analog-pins.js';
import { KsStruct } from './ks-struct.js';
import type { TvCard } from './tv-card.js';
import { TunerEvent, TunerLockType, TunerMode, TunerProperty, TunerStrategy } from './tv-property-ids.js';

/** ReferenceGuid of the tuner filter type. */
export const TUNER_FILTER_GUID = guid('6b73656d-7475-6e65-7200-000000000001');

/** Number of RF inputs of the tuner (antenna, cable), as KSPROPERTY_TUNER_INPUT indexes them. */
const INPUTS = 2;

/** Applies a KS standard bit to the card; shared by the tuner and decoder STANDARD properties. */
export async function setStandard(card: TvCard, value: PropertyValue): Promise<void> {
  const id = standardOfKs(value as number);
  if (id === undefined || !card.caps.standards.includes(id)) {
    throw new KsError(
      'NotSupported',
      `standard 0x${(value as number).toString(16)} is not supported by ${card.device.identity.id}`,
    );
  }
  if (pictureOf(id).lines !== pictureOf(card.standard).lines && card.captureBusy()) {
    throw new KsError(
      'InvalidDeviceState',
      `changing to ${id} changes the picture size; stop the capture pin first`,
    );
  }
  card.standard = id;
  if (card.session.opened !== undefined) {
    await card.withTuner(`setting standard ${id}`, (fe) => fe.setStandard(id));
    card.markRetune();
  }
}

/** The tuner filter's minidriver. */
export function tunerMinidriver(card: TvCard): Minidriver {
  const caps = card.caps;
  const items: PropertyItem<TvCard>[] = [
    {
      id: TunerProperty.Caps,
      name: 'TunerCaps',
      type: 'bytes',
      size: 76,
      access: 'readonly',
      get: () =>
        new KsStruct(76)
          .ulong(TunerMode.Tv)
          .medium(card.mediums.tunerVideo)
          .medium(card.mediums.tunerAudio)
          .medium(card.mediums.connector).bytes,
    },
    {
      id: TunerProperty.ModeCaps,
      name: 'TunerModeCaps',
      type: 'bytes',
      size: 32,
      access: 'readonly',
      get: () =>
        new KsStruct(32)
          .ulong(TunerMode.Tv)
          .ulong(ksStandardsMask(caps.standards))
          .ulong(caps.minFrequencyHz)
          .ulong(caps.maxFrequencyHz)
          .ulong(caps.tuningStepHz)
          .ulong(INPUTS)
          .ulong(Number(caps.settleTime / 10_000n))
          .ulong(TunerStrategy.Pll | TunerStrategy.SignalStrength).bytes,
    },
    // Only analog TV: FM/AM radio, DSS and ATSC are out of range.
    {
      id: TunerProperty.Mode,
      name: 'TunerMode',
      type: 'uint32',
      min: TunerMode.Tv,
      max: TunerMode.Tv,
      step: 1,
      default: TunerMode.Tv,
    },
    {
      id: TunerProperty.Standard,
      name: 'TunerStandard',
      type: 'uint32',
      default: ksStandardOf(card.standard) ?? 0,
      get: () => ksStandardOf(card.standard) ?? 0,
      set: (_ctx, value) => setStandard(card, value),
    },
    {
      id: TunerProperty.Frequency,
      name: 'TunerFrequency',
      type: 'uint32',
      min: caps.minFrequencyHz,
      max: caps.maxFrequencyHz,
      step: caps.tuningStepHz,
      default: caps.minFrequencyHz,
      get: () => card.withTuner('reading the frequency', (fe) => fe.status().frequencyHz),
      set: (_ctx, value) =>
        card.withTuner(`tuning to ${String(value)} Hz`, (fe) => {
          fe.tune(value as number);
          card.frequencyHz = value as number;
          card.markRetune();
        }),
    },
    {
      id: TunerProperty.Input,
      name: 'TunerInput',
      type: 'uint32',
      min: 0,
      max: INPUTS - 1,
      step: 1,
      default: 0,
      get: () => card.input,
      set: (_ctx, value) =>
        card.withTuner(`selecting input ${String(value)}`, (fe) => {
          fe.setInput(value as number);
          card.input = value as number;
          card.markRetune();
        }),
    },
    {
      id: TunerProperty.Status,
      name: 'TunerStatus',
      type: 'bytes',
      size: 16,
      access: 'readonly',
      get: () =>
        card.withTuner('reading tuner status', (fe) => {
          const s = fe.status();
          // PLLOffset 0 means "on the carrier"; Busy while the PLL settles.
          return new KsStruct(16)
            .ulong(s.frequencyHz)
            .ulong(0)
            .ulong(s.signalStrength)
            .ulong(s.settling ? 1 : 0).bytes;
        }),
    },
    {
      id: TunerProperty.ScanStatus,
      name: 'TunerScanStatus',
      type: 'bytes',
      size: 8,
      access: 'readonly',
      get: () =>
        card.withTuner('reading scan status', (fe) => {
          const s = fe.status();
          return new KsStruct(8)
            .ulong(s.locked ? TunerLockType.Locked : TunerLockType.None)
            .ulong(s.frequencyHz).bytes;
        }),
    },
  ];
  const descriptor = defineFilterDescriptor({
    referenceGuid: TUNER_FILTER_GUID,
    name: `${card.device.identity.name} Tuner`,
    categories: [KsCategory.TVTUNER],
    pins: [
      analogPin('Analog Video Out', 'video', 'out', card.mediums.tunerVideo),
      analogPin('Analog Audio Out', 'audio', 'out', card.mediums.tunerAudio),
    ],
    automation: {
      properties: [{ set: PropSetId.Tuner, items: items as PropertyItem[] }],
      events: [{ set: EventSetId.Tuner, items: [{ id: TunerEvent.Changed, name: 'TunerChanged' }] }],
    },
  });
  return {
    descriptor,
    create(filter: KsFilter): TvCard {
      card.tunerFilters.add(filter);
      return card;
    },
    async close(filter: KsFilter): Promise<void> {
      card.tunerFilters.delete(filter);
      await card.powerDown();
    },
  };
}
