// Runs the minidriver conformance suite on the test minidriver, with a main-thread and a Worker consumer.
import { describeMinidriverConformance } from './conformance.js';
import { createTestDevice } from './test-minidriver.js';
import { MediaSubtype } from '../known-guids.js';

describeMinidriverConformance('test minidriver', (clock) => {
  const { device, hardware } = createTestDevice(clock);
  return { device, unplug: () => hardware.unplug() };
});

describeMinidriverConformance(
  'test minidriver',
  (clock) => {
    const { device, hardware } = createTestDevice(clock);
    return { device, unplug: () => hardware.unplug() };
  },
  { consumer: 'worker', frameCounts: [1, 2, 3, 5, 8, 89] },
);

describeMinidriverConformance(
  'test minidriver, 3 mappings per frame, NV12',
  (clock) => {
    const { device, hardware } = createTestDevice(clock, { faults: { maxMappingBytes: 2048 } });
    return { device, unplug: () => hardware.unplug(), format: { subtype: MediaSubtype.NV12 } };
  },
  { frameCounts: [3, 8] },
);
