// The ks-core conformance suite over the webcam minidriver × synthetic camera, YUY2 VGA, main-thread consumer.
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { cameraSubject } from './conformance-subjects.js';

describeMinidriverConformance(
  'webcam × synthetic camera YUY2 640x480@30',
  cameraSubject({ subtype: MediaSubtype.YUY2, width: 640, height: 480, frameInterval: 333333n as KsTime }),
);
