// The describe dump (JSON and text) of the webcam filter over the synthetic camera and PCIe card, checked against committed fixtures.
import { describe, expect, it } from '@jest/globals';
import { SyntheticCamera, SyntheticPcieCard, type HalDevice } from '@ksemu/hal';
import { ManualClock } from '@ksemu/ks-core';
import { describeDevice, formatDescription } from './describe.js';
import { expectFixture } from './testing/fixture.js';
import { createWebcamDevice } from './webcam-device.js';

// Tests run from dist/; fixtures live (committed) in src/__fixtures__.
const FIXTURES = new URL('../src/__fixtures__/', import.meta.url);

async function dump(hal: HalDevice): Promise<{ json: string; text: string }> {
  const device = createWebcamDevice(hal, { clock: new ManualClock(0n) });
  try {
    const d = describeDevice(device);
    // The JSON must survive a round trip (no bigint, no Infinity, no undefined holes).
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    return { json: `${JSON.stringify(d, null, 2)}\n`, text: formatDescription(d) };
  } finally {
    await device.close();
  }
}

describe('describeDevice / formatDescription', () => {
  it('dumps the synthetic camera filter: categories, capture and still pins, ranges, nodes, property sets', async () => {
    const { json, text } = await dump(new SyntheticCamera());
    expectFixture(FIXTURES, 'synthetic-camera.describe.json', json);
    expectFixture(FIXTURES, 'synthetic-camera.describe.txt', text);
    expect(text).toContain('Categories: KSCATEGORY_VIDEO_CAMERA, KSCATEGORY_CAPTURE, KSCATEGORY_VIDEO');
    expect(text).toContain('Node 0 Camera Terminal: KSNODETYPE_VIDEO_CAMERA_TERMINAL');
    expect(text).toContain('MJPG 3840x2160 @ 60,50,30,25,24,15,10,5,1 fps (default 30) max 16592896 B');
  });

  it('dumps the synthetic PCIe card filter: no camera category, no controls, no still pin', async () => {
    const { json, text } = await dump(new SyntheticPcieCard());
    expectFixture(FIXTURES, 'synthetic-pcie.describe.json', json);
    expectFixture(FIXTURES, 'synthetic-pcie.describe.txt', text);
    expect(text).not.toContain('VIDEO_CAMERA');
    expect(text).not.toContain('Still');
  });
});
