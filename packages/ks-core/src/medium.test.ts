// Tests of medium construction, comparison and cross-filter connection discovery.
import { describe, it, expect } from '@jest/globals';
import { findMediumConnections, isStandardMedium, medium, mediumEquals } from './medium.js';
import { defineFilterDescriptor } from './descriptors.js';
import { genericRange } from './data-range.js';
import { guid } from './guid.js';
import { FormatType, KsCategory, MediaSubtype, MediaType, MediumSetId } from './known-guids.js';

const board = guid('a1b2c3d4-0000-4000-8000-000000000001');
const analog = genericRange({
  majorType: MediaType.AnalogVideo,
  subtype: MediaSubtype.None,
  specifier: FormatType.AnalogVideo,
});

describe('mediums', () => {
  it('compares by set and id, not flags', () => {
    expect(mediumEquals(medium(board, 1, 0), medium(board, 1, 5))).toBe(true);
    expect(mediumEquals(medium(board, 1), medium(board, 2))).toBe(false);
    expect(isStandardMedium(medium(MediumSetId.Standard, 0))).toBe(true);
    expect(() => medium('x' as never, 1)).toThrow(TypeError);
    expect(() => medium(board, -1)).toThrow(TypeError);
  });

  it('finds tuner → crossbar → capture wiring across filters', () => {
    const tuner = defineFilterDescriptor({
      referenceGuid: guid('a1b2c3d4-0000-4000-8000-000000000010'),
      name: 'tuner',
      categories: [KsCategory.TVTUNER],
      pins: [
        {
          name: 'Analog Video',
          dataFlow: 'out',
          communication: 'bridge',
          mediums: [medium(board, 1)],
          dataRanges: [analog],
        },
      ],
    });
    const crossbar = defineFilterDescriptor({
      referenceGuid: guid('a1b2c3d4-0000-4000-8000-000000000011'),
      name: 'crossbar',
      categories: [KsCategory.CROSSBAR],
      pins: [
        {
          name: 'Tuner In',
          dataFlow: 'in',
          communication: 'bridge',
          mediums: [medium(board, 1)],
          dataRanges: [analog],
        },
        {
          name: 'Video Out',
          dataFlow: 'out',
          communication: 'bridge',
          mediums: [medium(board, 2), medium(MediumSetId.Standard, 0)],
          dataRanges: [analog],
        },
      ],
    });
    const capture = defineFilterDescriptor({
      referenceGuid: guid('a1b2c3d4-0000-4000-8000-000000000012'),
      name: 'capture',
      categories: [KsCategory.CAPTURE],
      pins: [
        {
          name: 'Analog In',
          dataFlow: 'in',
          communication: 'bridge',
          mediums: [medium(board, 2), medium(MediumSetId.Standard, 0)],
          dataRanges: [analog],
        },
      ],
    });
    const wires = findMediumConnections([tuner, crossbar, capture]);
    expect(wires.map((w) => `${w.from.filter}.${w.from.pin}->${w.to.filter}.${w.to.pin}`)).toEqual([
      '0.0->1.0',
      '1.1->2.0',
    ]);
  });

  it('never connects by KSMEDIUMSETID_Standard, even with equal non-zero ids (Standard means no particular medium)', () => {
    const pin = (dataFlow: 'in' | 'out', id: number) => ({
      name: `${dataFlow} ${id}`,
      dataFlow,
      communication: 'bridge' as const,
      mediums: [medium(MediumSetId.Standard, id)],
      dataRanges: [analog],
    });
    const a = defineFilterDescriptor({
      referenceGuid: guid('a1b2c3d4-0000-4000-8000-000000000020'),
      name: 'a',
      categories: [KsCategory.TVTUNER],
      pins: [pin('out', 7), pin('out', 0)],
    });
    const b = defineFilterDescriptor({
      referenceGuid: guid('a1b2c3d4-0000-4000-8000-000000000021'),
      name: 'b',
      categories: [KsCategory.CROSSBAR],
      pins: [pin('in', 7), pin('in', 0)],
    });
    expect(findMediumConnections([a, b])).toEqual([]);
  });
});
