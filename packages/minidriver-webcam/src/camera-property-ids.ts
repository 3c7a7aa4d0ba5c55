// KS property ids of the camera property sets (ksmedia.h enums KSPROPERTY_VIDCAP_VIDEOPROCAMP, _CAMERACONTROL, _VIDEOCONTROL).

/** KSPROPERTY_VIDCAP_VIDEOPROCAMP: ids of PROPSETID_VIDCAP_VIDEOPROCAMP (values from ksmedia.h). */
export const VideoProcAmpProperty = Object.freeze({
  Brightness: 0,
  Contrast: 1,
  Hue: 2,
  Saturation: 3,
  Sharpness: 4,
  Gamma: 5,
  ColorEnable: 6,
  WhiteBalance: 7,
  BacklightCompensation: 8,
  Gain: 9,
  DigitalMultiplier: 10,
  DigitalMultiplierLimit: 11,
  WhiteBalanceComponent: 12,
  PowerlineFrequency: 13,
});

/** KSPROPERTY_VIDCAP_CAMERACONTROL: ids of PROPSETID_VIDCAP_CAMERACONTROL (values from ksmedia.h). */
export const CameraControlProperty = Object.freeze({
  Pan: 0,
  Tilt: 1,
  Roll: 2,
  Zoom: 3,
  Exposure: 4,
  Iris: 5,
  Focus: 6,
  ScanMode: 7,
  Privacy: 8,
  PanTilt: 9,
  PanRelative: 10,
  TiltRelative: 11,
  RollRelative: 12,
  ZoomRelative: 13,
  ExposureRelative: 14,
  IrisRelative: 15,
  FocusRelative: 16,
  PanTiltRelative: 17,
  FocalLength: 18,
});

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
