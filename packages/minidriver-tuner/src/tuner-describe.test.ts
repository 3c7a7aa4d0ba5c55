// The describe dump (JSON and text) of the TV card's five filters and their medium links, checked against committed fixtures.
import { describe, expect, it } from '@jest/globals';
import { SyntheticTuner } from '@ksemu/hal';
import { findMediumConnections, ManualClock, MediumSetId } from '@ksemu/ks-core';
import { describeDevice, formatDescription } from '@ksemu/minidriver-webcam';
import { expectFixture } from '@ksemu/minidriver-webcam/testing';
import { createTunerDevice } from './tuner-device.js';
import { TV_CARD_MEDIUM_SET } from './tv-mediums.js';

// Tests run from dist/; fixtures live (committed) in src/__fixtures__.
const FIXTURES = new URL('../src/__fixtures__/', import.meta.url);

describe('describeDevice over the tuner card', () => {
  it('dumps tuner, TV audio, crossbar, decoder and capture filters with their mediums and links', async () => {
    const device = createTunerDevice(new SyntheticTuner(), { clock: new ManualClock(0n) });
    try {
      const d = describeDevice(device);
      expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      expect(d.factories.map((f) => f.categories.map((c) => c.name))).toEqual([
        ['KSCATEGORY_TVTUNER'],
        ['KSCATEGORY_TVAUDIO'],
        ['KSCATEGORY_CROSSBAR'],
        ['KSCATEGORY_VIDEO'],
        ['KSCATEGORY_CAPTURE', 'KSCATEGORY_VIDEO'],
      ]);
      expect(d.mediumLinks.map((l) => [l.from.factory, l.from.pin, l.to.factory, l.to.pin])).toEqual([
        [0, 0, 2, 0],
        [0, 1, 1, 0],
        [1, 1, 2, 3],
        [2, 5, 3, 0],
        [3, 1, 4, 0],
      ]);
      // The board's wires are in its own medium set; KSMEDIUMSETID_Standard never connects, so
      // ks-core's KS-strict matcher finds exactly the links the describe dump shows.
      const links = findMediumConnections(device.factories.map((f) => f.descriptor));
      expect(links.map((l) => [l.from.filter, l.from.pin, l.to.filter, l.to.pin])).toEqual(
        d.mediumLinks.map((l) => [l.from.factory, l.from.pin, l.to.factory, l.to.pin]),
      );
      expect(links.every((l) => l.medium.set === TV_CARD_MEDIUM_SET)).toBe(true);
      for (const f of device.factories)
        for (const p of f.descriptor.pins)
          for (const m of p.mediums) if (m.set === MediumSetId.Standard) expect(m.id).toBe(0);
      expectFixture(FIXTURES, 'synthetic-tuner.describe.json', `${JSON.stringify(d, null, 2)}\n`);
      expectFixture(FIXTURES, 'synthetic-tuner.describe.txt', formatDescription(d));
    } finally {
      await device.close();
    }
  });
});
