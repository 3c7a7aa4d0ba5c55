// The ks-core conformance suite over the tuner minidriver's capture pin × the synthetic TV tuner card (PAL, the 625-line picture).
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { tunerSubject } from './conformance-subjects.js';

// `settle` waits for the card's DMA thread after each frame time: one frame per frame time.
describeMinidriverConformance(
  'tuner capture × synthetic tuner PAL-B 720x576@25',
  tunerSubject(
    {
      id: 'synthetic:tuner-eu',
      antenna: { table: 'europe-west', channels: ['E5', 'E21'] },
      cable: { table: 'europe-west-cable', channels: ['S21'] },
    },
    576,
    400000n,
  ),
  { frameCounts: [3], maxTicksPerFrame: 1 },
);
