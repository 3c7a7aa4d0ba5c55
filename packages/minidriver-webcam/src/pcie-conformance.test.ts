// The ks-core conformance suite over the webcam minidriver × synthetic PCIe card (worker-thread DMA engine).
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { jest } from '@jest/globals';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { pcieSubject } from './conformance-subjects.js';

// The card's DMA engine renders in its own thread: give each frame time a few event-loop turns
// to land, and tolerate starved frame times (they are counted as drops, not failures).
// A loaded machine can starve the card's worker thread; hal's stop waits for it in bounded slices.
jest.setTimeout(90_000);

describeMinidriverConformance(
  'webcam × synthetic PCIe card YUY2 640x480@30',
  pcieSubject({ subtype: MediaSubtype.YUY2, width: 640, height: 480, frameInterval: 333333n as KsTime }),
  { settleTurns: 300, maxTicksPerFrame: 100 },
);
