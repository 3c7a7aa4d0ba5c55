// Tests the channel plans against known carrier frequencies and channel counts.
import { describe, expect, it } from '@jest/globals';
import {
  FREQUENCY_TABLES,
  FREQUENCY_TABLE_IDS,
  channelAtFrequency,
  channelByName,
  frequencyTable,
} from './frequency-table.js';
import { TV_STANDARDS, tvStandard } from './tv-standard.js';

const MHz = (v: number): number => Math.round(v * 1_000_000);

describe('frequency tables', () => {
  it('US broadcast: 2-69, known carriers', () => {
    const t = frequencyTable('us-broadcast');
    expect(t.channels).toHaveLength(68);
    expect(channelByName(t, '2').videoCarrierHz).toBe(MHz(55.25));
    expect(channelByName(t, '4').videoCarrierHz).toBe(MHz(67.25));
    expect(channelByName(t, '5').videoCarrierHz).toBe(MHz(77.25));
    expect(channelByName(t, '7').videoCarrierHz).toBe(MHz(175.25));
    expect(channelByName(t, '13').videoCarrierHz).toBe(MHz(211.25));
    expect(channelByName(t, '14').videoCarrierHz).toBe(MHz(471.25));
    expect(channelByName(t, '69').videoCarrierHz).toBe(MHz(801.25));
    expect(t.channels.every((c) => c.standard === 'NTSC-M')).toBe(true);
  });

  it('US cable STD: 1-125 with the mid-band and 95-99 placements', () => {
    const t = frequencyTable('us-cable');
    expect(t.channels).toHaveLength(125);
    expect(t.channels.map((c) => c.name)).toEqual(Array.from({ length: 125 }, (_, i) => String(i + 1)));
    expect(channelByName(t, '1').videoCarrierHz).toBe(MHz(73.25));
    expect(channelByName(t, '14').videoCarrierHz).toBe(MHz(121.25));
    expect(channelByName(t, '22').videoCarrierHz).toBe(MHz(169.25));
    expect(channelByName(t, '23').videoCarrierHz).toBe(MHz(217.25));
    expect(channelByName(t, '94').videoCarrierHz).toBe(MHz(643.25));
    expect(channelByName(t, '95').videoCarrierHz).toBe(MHz(91.25));
    expect(channelByName(t, '99').videoCarrierHz).toBe(MHz(115.25));
    expect(channelByName(t, '100').videoCarrierHz).toBe(MHz(649.25));
    expect(channelByName(t, '125').videoCarrierHz).toBe(MHz(799.25));
  });

  it('Western Europe: E2-E12 PAL-B and E21-E69 PAL-G', () => {
    const t = frequencyTable('europe-west');
    expect(t.channels).toHaveLength(11 + 49);
    expect(channelByName(t, 'E2')).toEqual({ name: 'E2', videoCarrierHz: MHz(48.25), standard: 'PAL-B' });
    expect(channelByName(t, 'E4').videoCarrierHz).toBe(MHz(62.25));
    expect(channelByName(t, 'E5').videoCarrierHz).toBe(MHz(175.25));
    expect(channelByName(t, 'E12').videoCarrierHz).toBe(MHz(224.25));
    expect(channelByName(t, 'E21')).toEqual({ name: 'E21', videoCarrierHz: MHz(471.25), standard: 'PAL-G' });
    expect(channelByName(t, 'e69').videoCarrierHz).toBe(MHz(855.25));
  });

  it('other plans carry their known first/last channels', () => {
    expect(channelByName(frequencyTable('europe-west-cable'), 'S21').videoCarrierHz).toBe(MHz(303.25));
    expect(channelByName(frequencyTable('europe-west-cable'), 'SE20').videoCarrierHz).toBe(MHz(294.25));
    expect(channelByName(frequencyTable('france'), 'K03')).toEqual({
      name: 'K03',
      videoCarrierHz: MHz(60.5),
      standard: 'SECAM-L',
    });
    expect(channelByName(frequencyTable('uk-broadcast'), '21').standard).toBe('PAL-I');
    expect(channelByName(frequencyTable('europe-east'), 'R1').videoCarrierHz).toBe(MHz(49.75));
  });

  it('no plan has two channels within 1 MHz, so frequency lookup is unambiguous', () => {
    for (const id of FREQUENCY_TABLE_IDS) {
      const t = FREQUENCY_TABLES[id];
      for (const c of t.channels) {
        expect(channelAtFrequency(t, c.videoCarrierHz + 400_000)).toBe(c);
      }
      expect(new Set(t.channels.map((c) => c.name)).size).toBe(t.channels.length);
      expect(Object.isFrozen(t.channels)).toBe(true);
    }
    expect(channelAtFrequency(frequencyTable('us-broadcast'), MHz(100))).toBeUndefined();
  });

  it('rejects unknown plans and channels with RangeError', () => {
    expect(() => frequencyTable('mars')).toThrow(RangeError);
    expect(() => channelByName(frequencyTable('us-broadcast'), '1')).toThrow(RangeError);
  });
});

describe('TV standards', () => {
  it('have the BT.470 timing of their line system', () => {
    const ntsc = tvStandard('NTSC-M');
    expect([ntsc.width, ntsc.height, ntsc.linesPerFrame]).toEqual([720, 480, 525]);
    expect(ntsc.frameRate).toEqual({ numerator: 30000, denominator: 1001 });
    expect(ntsc.lineRateHz).toBeCloseTo(15734.2657, 3);
    expect(ntsc.frameInterval100ns).toBe(Math.round(1e7 / (30000 / 1001)));
    for (const id of ['PAL-B', 'PAL-G', 'PAL-I', 'PAL-D', 'PAL-K', 'SECAM-L'] as const) {
      const s = TV_STANDARDS[id];
      expect([s.width, s.height, s.linesPerFrame, s.lineRateHz, s.frameInterval100ns]).toEqual([
        720, 576, 625, 15625, 400000,
      ]);
      expect(s.frameRate).toEqual({ numerator: 25, denominator: 1 });
    }
    expect(TV_STANDARDS['PAL-B'].channelBandwidthHz).toBe(7_000_000);
    expect(TV_STANDARDS['SECAM-L'].visionModulation).toBe('positive');
    expect(() => tvStandard('PAL-Z')).toThrow(RangeError);
  });
});
