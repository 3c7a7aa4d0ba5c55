// The ks-core conformance suite over the webcam minidriver × synthetic camera at more formats: NV12 and MJPEG.
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { cameraSubject } from './conformance-subjects.js';

describeMinidriverConformance(
  'webcam × synthetic camera NV12 320x240@30',
  cameraSubject({ subtype: MediaSubtype.NV12, width: 320, height: 240, frameInterval: 333333n as KsTime }),
  { frameCounts: [1, 8] },
);
describeMinidriverConformance(
  'webcam × synthetic camera MJPEG 320x240@30',
  cameraSubject({ subtype: MediaSubtype.MJPG, width: 320, height: 240, frameInterval: 333333n as KsTime }),
  { frameCounts: [1, 5] },
);
