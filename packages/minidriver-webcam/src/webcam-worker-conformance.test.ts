// The ks-core conformance suite over the webcam minidriver × synthetic camera with a Worker consumer.
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { cameraSubject } from './conformance-subjects.js';

describeMinidriverConformance(
  'webcam × synthetic camera YUY2 320x240@30',
  cameraSubject({ subtype: MediaSubtype.YUY2, width: 320, height: 240, frameInterval: 333333n as KsTime }),
  { consumer: 'worker', frameCounts: [1, 8, 89] },
);
