// The ks-core conformance suite over the tuner minidriver's capture pin × the synthetic TV tuner card (NTSC, every frame count).
import { jest } from '@jest/globals';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { tunerSubject } from './conformance-subjects.js';

// The card's DMA engine renders in its own thread: give each frame time event-loop turns to
// land, and tolerate starved frame times (counted as drops, not failures).
// A loaded machine can starve the card's worker thread; hal's stop waits for it in bounded slices.
jest.setTimeout(90_000);

describeMinidriverConformance(
  'tuner capture × synthetic tuner NTSC-M 720x480@29.97',
  tunerSubject({}, 480, 333667n),
  {
    settleTurns: 300,
    maxTicksPerFrame: 100,
    frameCounts: [1, 2, 3, 5, 8, 89],
  },
);
