// Property and event ids of the standard KS video-capture sets (the KSPROPERTY_* / KSEVENT_* enums of ksmedia.h and ks.h).

/** KSPROPERTY_VIDCAP_VIDEOPROCAMP (set `PropSetId.VideoProcAmp`). */
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

/** KSPROPERTY_VIDCAP_CAMERACONTROL (set `PropSetId.CameraControl`). */
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

/** KSPROPERTY_TUNER (set `PropSetId.Tuner`). */
export const TunerProperty = Object.freeze({
  Caps: 0,
  ModeCaps: 1,
  Mode: 2,
  Standard: 3,
  Frequency: 4,
  Input: 5,
  Status: 6,
  IfMedium: 7,
});

/** KSPROPERTY_VIDCAP_CROSSBAR (set `PropSetId.CrossBar`). */
export const CrossbarProperty = Object.freeze({ Caps: 0, PinInfo: 1, CanRoute: 2, Route: 3 });

/** KSPROPERTY_VIDCAP_TVAUDIO (set `PropSetId.TVAudio`). */
export const TvAudioProperty = Object.freeze({ Caps: 0, Mode: 1, CurrentlyAvailableModes: 2 });

/** KSPROPERTY_VIDCAP_VIDEODECODER (set `PropSetId.VideoDecoder`). */
export const VideoDecoderProperty = Object.freeze({
  Caps: 0,
  Standard: 1,
  Status: 2,
  OutputEnable: 3,
  VcrTiming: 4,
});

/** KSPROPERTY_PIN (set `PropSetId.Pin`). */
export const PinProperty = Object.freeze({
  CInstances: 0,
  CTypes: 1,
  DataFlow: 2,
  DataRanges: 3,
  DataIntersection: 4,
  Interfaces: 5,
  Mediums: 6,
  Communication: 7,
  GlobalCInstances: 8,
  NecessaryInstances: 9,
  PhysicalConnection: 10,
  Category: 11,
  Name: 12,
  ConstrainedDataRanges: 13,
  ProposeDataFormat: 14,
});

/** KSPROPERTY_CONNECTION (set `PropSetId.Connection`). */
export const ConnectionProperty = Object.freeze({
  State: 0,
  Priority: 1,
  DataFormat: 2,
  AllocatorFraming: 3,
  ProposeDataFormat: 4,
  AcquireOrdering: 5,
  AllocatorFramingEx: 6,
  StartAt: 7,
});

/** KSEVENT_TUNER / KSEVENT_CROSSBAR / KSEVENT_VIDEODECODER: each set's single "changed" event. */
export const ChangedEvent = Object.freeze({ TunerChanged: 0, CrossbarChanged: 0, VideoDecoderChanged: 0 });

/** KSSTATE numbering (KSSTATE_STOP = 0 … KSSTATE_RUN = 3), for raw KSPROPERTY_CONNECTION_STATE. */
export const KsStateValue = Object.freeze({ stop: 0, acquire: 1, pause: 2, run: 3 });
