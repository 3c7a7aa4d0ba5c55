// KS property ids of the camera property sets (ksmedia.h enums KSPROPERTY_VIDCAP_VIDEOPROCAMP, _CAMERACONTROL, _VIDEOCONTROL).

// VideoProcAmp and CameraControl ids are ks-core's (one table for every minidriver); re-exported
// here so webcam users find all camera ids in one place.
export { VideoProcAmpProperty, CameraControlProperty } from '@ksemu/ks-core';

/** KSPROPERTY_VIDCAP_VIDEOCONTROL: ids of PROPSETID_VIDCAP_VIDEOCONTROL (values from ksmedia.h). */
export const VideoControlProperty = Object.freeze({
  Caps: 0,
  ActualFrameRate: 1,
  FrameRates: 2,
  Mode: 3,
});

/** KS_VideoControlFlags: bits of the VIDEOCONTROL caps and mode values (ksmedia.h). */
export const VideoControlFlag = Object.freeze({
  FlipHorizontal: 0x0001,
  FlipVertical: 0x0002,
  ExternalTriggerEnable: 0x0004,
  /** Setting MODE with this bit makes the still pin capture one image. */
  Trigger: 0x0008,
});
