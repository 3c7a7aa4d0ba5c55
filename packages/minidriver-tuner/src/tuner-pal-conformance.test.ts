// The ks-core conformance suite over the tuner minidriver's capture pin × the synthetic TV tuner card (PAL, the 625-line picture).
import { jest } from '@jest/globals';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { tunerSubject } from './conformance-subjects.js';

// A loaded machine can starve the card's worker thread; hal's stop waits for it in bounded slices.
jest.setTimeout(90_000);

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
  { settleTurns: 300, maxTicksPerFrame: 100, frameCounts: [3] },
);
