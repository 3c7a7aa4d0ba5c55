// KS ids and constants of the analog TV property sets (ksmedia.h): PROPSETID_TUNER, _VIDCAP_VIDEODECODER, _VIDCAP_CROSSBAR, _VIDCAP_TVAUDIO.

/** KSPROPERTY_TUNER: ids of PROPSETID_TUNER (KSPROPSETID_Tuner). SCAN_* are the Vista additions. */
export const TunerProperty = Object.freeze({
  Caps: 0,
  ModeCaps: 1,
  Mode: 2,
  Standard: 3,
  Frequency: 4,
  Input: 5,
  Status: 6,
  IfMedium: 7,
  ScanCaps: 8,
  ScanStatus: 9,
  StandardMode: 10,
});

/** KSPROPERTY_TUNER_MODES bits. */
export const TunerMode = Object.freeze({ Tv: 0x1, FmRadio: 0x2, AmRadio: 0x4, Dss: 0x8, Atsc: 0x10 });

/** KS_TUNER_STRATEGY bits. */
export const TunerStrategy = Object.freeze({ Pll: 0x1, SignalStrength: 0x2, DriverTunes: 0x4 });

/** Tuner_LockType of KSPROPERTY_TUNER_SCAN_STATUS_S.LockStatus. */
export const TunerLockType = Object.freeze({ None: 0, WithinScanSensingRange: 1, Locked: 2 });

/** KSEVENT_TUNER: ids of EVENTSETID_TUNER. */
export const TunerEvent = Object.freeze({ Changed: 0 });

/** KSPROPERTY_VIDCAP_VIDEODECODER: ids of PROPSETID_VIDCAP_VIDEODECODER. */
export const VideoDecoderProperty = Object.freeze({
  Caps: 0,
  Standard: 1,
  Status: 2,
  OutputEnable: 3,
  VcrTiming: 4,
});

/** KS_VIDEODECODER_FLAGS bits. */
export const VideoDecoderFlag = Object.freeze({
  CanDisableOutput: 0x1,
  CanUseVcrLocking: 0x2,
  CanIndicateLocked: 0x4,
});

/** KSPROPERTY_VIDCAP_CROSSBAR: ids of PROPSETID_VIDCAP_CROSSBAR. */
export const CrossbarProperty = Object.freeze({ Caps: 0, PinInfo: 1, CanRoute: 2, Route: 3 });

/** KS_PhysicalConnectorType values used by the crossbar. */
export const PhysConn = Object.freeze({
  VideoTuner: 1,
  VideoComposite: 2,
  VideoSVideo: 3,
  VideoDecoder: 12,
  AudioTuner: 4096,
  AudioLine: 4097,
  AudioDecoder: 4105,
});

/** KSPROPERTY_VIDCAP_TVAUDIO: ids of PROPSETID_VIDCAP_TVAUDIO. */
export const TvAudioProperty = Object.freeze({ Caps: 0, Mode: 1, CurrentlyAvailableModes: 2 });

/** KS_TVAUDIO_MODE_* bits (LANG_B is the second audio program, SAP). */
export const TvAudioMode = Object.freeze({ Mono: 0x1, Stereo: 0x2, LangA: 0x10, LangB: 0x20, LangC: 0x40 });
