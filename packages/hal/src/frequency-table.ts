// Broadcast and cable channel plans (vision carrier frequencies) for the US and Europe, checked against xawtv's tables.
import type { TvStandardId } from './tv-standard.js';

/** One RF channel of a plan: its name on that plan and its vision (video) carrier. */
export interface ChannelAllocation {
  /** Channel name as printed on sets of that market ("2", "E5", "S21", "K01"). */
  readonly name: string;
  /** Vision carrier frequency in Hz. */
  readonly videoCarrierHz: number;
  /** Standard broadcast on this channel (Western Europe: PAL-B on VHF, PAL-G on UHF). */
  readonly standard: TvStandardId;
}

/** Identifier of a channel plan. */
export type FrequencyTableId =
  | 'us-broadcast'
  | 'us-cable'
  | 'europe-west'
  | 'europe-west-cable'
  | 'uk-broadcast'
  | 'europe-east'
  | 'france';

/** A channel plan: the channels of one market and delivery kind, in dial order. Frozen. */
export interface FrequencyTable {
  readonly id: FrequencyTableId;
  readonly description: string;
  readonly kind: 'broadcast' | 'cable';
  readonly channels: readonly ChannelAllocation[];
}

const MHZ = 1_000_000;
const KHZ = 1_000;

/** `count` channels spaced `stepKhz` apart, named by `name(i)`, first carrier at `firstKhz`. */
function run(
  count: number,
  firstKhz: number,
  stepKhz: number,
  standard: TvStandardId,
  name: (i: number) => string,
): ChannelAllocation[] {
  const out: ChannelAllocation[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ name: name(i), videoCarrierHz: (firstKhz + i * stepKhz) * KHZ, standard });
  }
  return out;
}

function list(standard: TvStandardId, entries: readonly (readonly [string, number])[]): ChannelAllocation[] {
  return entries.map(([name, khz]) => ({ name, videoCarrierHz: khz * KHZ, standard }));
}

// US VHF low band 2-6 (note the 4 MHz gap between 4 and 5) and high band 7-13.
const usVhf = (): ChannelAllocation[] => [
  ...list('NTSC-M', [
    ['2', 55_250],
    ['3', 61_250],
    ['4', 67_250],
    ['5', 77_250],
    ['6', 83_250],
  ]),
  ...run(7, 175_250, 6_000, 'NTSC-M', (i) => String(7 + i)),
];

// FCC UHF 14-69 (70-83 were reassigned in 1983; current US tables stop at 69).
const usUhf = (): ChannelAllocation[] => run(56, 471_250, 6_000, 'NTSC-M', (i) => String(14 + i));

// EIA-542 "STD" cable plan 1-125: channels 14-22 sit in the FM/aero gap (121.25 MHz up),
// 95-99 below them (91.25 MHz up), 100-125 above 94.
const usCable = (): ChannelAllocation[] => {
  const all: ChannelAllocation[] = [
    ...list('NTSC-M', [['1', 73_250]]),
    ...usVhf(),
    ...run(9, 121_250, 6_000, 'NTSC-M', (i) => String(14 + i)),
    ...run(72, 217_250, 6_000, 'NTSC-M', (i) => String(23 + i)),
    ...run(5, 91_250, 6_000, 'NTSC-M', (i) => String(95 + i)),
    ...run(26, 649_250, 6_000, 'NTSC-M', (i) => String(100 + i)),
  ];
  return all.sort((a, b) => Number(a.name) - Number(b.name));
};

// CCIR bands I and III: E2-E4 on 7 MHz steps from 48.25, E5-E12 from 175.25 (PAL-B, 7 MHz channels).
const ccirVhf = (): ChannelAllocation[] => [
  ...run(3, 48_250, 7_000, 'PAL-B', (i) => `E${2 + i}`),
  ...run(8, 175_250, 7_000, 'PAL-B', (i) => `E${5 + i}`),
];

// CCIR UHF bands IV/V: 21-69, 8 MHz steps from 471.25 MHz.
const ccirUhf = (standard: TvStandardId, prefix: string): ChannelAllocation[] =>
  run(49, 471_250, 8_000, standard, (i) => `${prefix}${21 + i}`);

// CENELEC cable: S1-S3 (mid band), S11-S20 / S1-S10 special channels, S21-S41 hyperband (8 MHz).
const ccirCable = (): ChannelAllocation[] => [
  ...run(3, 69_250, 7_000, 'PAL-B', (i) => `S0${1 + i}`),
  ...run(10, 105_250, 7_000, 'PAL-B', (i) => `SE${1 + i}`),
  ...run(10, 231_250, 7_000, 'PAL-B', (i) => `SE${11 + i}`),
  ...run(21, 303_250, 8_000, 'PAL-G', (i) => `S${21 + i}`),
];

// OIRT band I/III plan (PAL-D/K, Eastern Europe): irregular low band, 8 MHz steps from R6.
const oirtVhf = (): ChannelAllocation[] => [
  ...list('PAL-D', [
    ['R1', 49_750],
    ['R2', 59_250],
    ['R3', 77_250],
    ['R4', 84_250],
    ['R5', 93_250],
  ]),
  ...run(7, 175_250, 8_000, 'PAL-D', (i) => `R${6 + i}`),
];

// French VHF (SECAM-L, 8 MHz but with its own carrier positions; L' on band I).
const franceVhf = (): ChannelAllocation[] =>
  list('SECAM-L', [
    ['K01', 47_750],
    ['K02', 55_750],
    ['K03', 60_500],
    ['K04', 63_750],
    ['K05', 176_000],
    ['K06', 184_000],
    ['K07', 192_000],
    ['K08', 200_000],
    ['K09', 208_000],
    ['K10', 216_000],
  ]);

function freezeTable(t: FrequencyTable): FrequencyTable {
  return Object.freeze({ ...t, channels: Object.freeze(t.channels.map((c) => Object.freeze(c))) });
}

/** Every channel plan, keyed by id. Frozen. */
export const FREQUENCY_TABLES: Readonly<Record<FrequencyTableId, FrequencyTable>> = Object.freeze({
  'us-broadcast': freezeTable({
    id: 'us-broadcast',
    description: 'US terrestrial NTSC-M, VHF 2-13 and UHF 14-69',
    kind: 'broadcast',
    channels: [...usVhf(), ...usUhf()],
  }),
  'us-cable': freezeTable({
    id: 'us-cable',
    description: 'US cable, EIA-542 standard (STD) plan, channels 1-125',
    kind: 'cable',
    channels: usCable(),
  }),
  'europe-west': freezeTable({
    id: 'europe-west',
    description: 'Western Europe terrestrial: PAL-B E2-E12 (VHF), PAL-G E21-E69 (UHF)',
    kind: 'broadcast',
    channels: [...ccirVhf(), ...ccirUhf('PAL-G', 'E')],
  }),
  'europe-west-cable': freezeTable({
    id: 'europe-west-cable',
    description: 'Western Europe cable: E2-E12, S01-S03, SE1-SE20, S21-S41, E21-E69',
    kind: 'cable',
    channels: [...ccirVhf(), ...ccirCable(), ...ccirUhf('PAL-G', 'E')].sort(
      (a, b) => a.videoCarrierHz - b.videoCarrierHz,
    ),
  }),
  'uk-broadcast': freezeTable({
    id: 'uk-broadcast',
    description: 'UK and Ireland terrestrial PAL-I, UHF 21-69',
    kind: 'broadcast',
    channels: ccirUhf('PAL-I', ''),
  }),
  'europe-east': freezeTable({
    id: 'europe-east',
    description: 'Eastern Europe terrestrial PAL-D/K: OIRT R1-R12 (VHF), UHF 21-69',
    kind: 'broadcast',
    channels: [...oirtVhf(), ...ccirUhf('PAL-K', '')],
  }),
  france: freezeTable({
    id: 'france',
    description: 'France terrestrial SECAM-L: K01-K10 (VHF), UHF 21-69',
    kind: 'broadcast',
    channels: [...franceVhf(), ...ccirUhf('SECAM-L', '')],
  }),
});

/** All plan ids in a stable order. */
export const FREQUENCY_TABLE_IDS: readonly FrequencyTableId[] = Object.freeze(
  Object.keys(FREQUENCY_TABLES) as FrequencyTableId[],
);

/**
 * Looks up a plan by id.
 * @throws RangeError for an unknown id.
 */
export function frequencyTable(id: string): FrequencyTable {
  if (!Object.prototype.hasOwnProperty.call(FREQUENCY_TABLES, id)) {
    throw new RangeError(`unknown frequency table '${id}' (known: ${FREQUENCY_TABLE_IDS.join(', ')})`);
  }
  return FREQUENCY_TABLES[id as FrequencyTableId];
}

/**
 * Finds a channel of `table` by name (case-insensitive).
 * @throws RangeError when the plan has no such channel.
 */
export function channelByName(table: FrequencyTable, name: string): ChannelAllocation {
  const want = name.toUpperCase();
  const found = table.channels.find((c) => c.name.toUpperCase() === want);
  if (found === undefined) throw new RangeError(`table '${table.id}' has no channel '${name}'`);
  return found;
}

/**
 * The channel of `table` whose vision carrier is nearest to `frequencyHz` and within
 * `toleranceHz` (default 1 MHz, which no two channels of one plan share), or undefined.
 */
export function channelAtFrequency(
  table: FrequencyTable,
  frequencyHz: number,
  toleranceHz = 1 * MHZ,
): ChannelAllocation | undefined {
  let best: ChannelAllocation | undefined;
  let bestDistance = Infinity;
  for (const c of table.channels) {
    const d = Math.abs(c.videoCarrierHz - frequencyHz);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= toleranceHz ? best : undefined;
}
