// The ks-core conformance suite over the webcam minidriver × synthetic PCIe card (worker-thread DMA engine).
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { pcieSubject } from './conformance-subjects.js';

// The card's DMA engine renders in its own thread; the subject's `settle` makes the suite wait
// for the engine's acknowledgement of each frame time, so every frame time yields its frame
// however slowly that thread runs.
describeMinidriverConformance(
  'webcam × synthetic PCIe card YUY2 640x480@30',
  pcieSubject({ subtype: MediaSubtype.YUY2, width: 640, height: 480, frameInterval: 333333n as KsTime }),
  // One frame per frame time: a settled engine never starves the pin or drops a frame.
  { maxTicksPerFrame: 1 },
);
