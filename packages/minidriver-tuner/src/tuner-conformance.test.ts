// The ks-core conformance suite over the tuner minidriver's capture pin × the synthetic TV tuner card (NTSC, every frame count).
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { tunerSubject } from './conformance-subjects.js';

// The card's DMA engine renders in its own thread; the subject's `settle` makes the suite wait
// for the engine's acknowledgement of each frame time (no wall-clock budget).
describeMinidriverConformance(
  'tuner capture × synthetic tuner NTSC-M 720x480@29.97',
  tunerSubject({}, 480, 333667n),
  { frameCounts: [1, 2, 3, 5, 8, 89], maxTicksPerFrame: 1 },
);
