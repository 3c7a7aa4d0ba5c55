// Public entry point of minidriver-tuner: the WDM analog TV model (tuner, TV audio, crossbar, decoder, capture filters wired by mediums) and its graph builder.
export { createTunerDevice, matchesTuner, TvFactory, type TunerDeviceOptions } from './tuner-device.js';
export {
  openTuner,
  TunerControl,
  CrossbarControl,
  VideoDecoderControl,
  TvAudioControl,
  type TunerGraph,
  type GraphConnection,
  type OpenTunerOptions,
  type TunerStatusReport,
} from './tuner-graph.js';
export { TvCard, CrossbarInput, CrossbarOutput, type TvCardOptions } from './tv-card.js';
export { tunerMinidriver, TUNER_FILTER_GUID } from './tuner-filter.js';
export { tvAudioMinidriver, TV_AUDIO_FILTER_GUID, TV_AUDIO_MODES } from './tv-audio-filter.js';
export {
  crossbarMinidriver,
  crossbarPins,
  canRoute,
  CROSSBAR_FILTER_GUID,
  type CrossbarPinInfo,
} from './crossbar-filter.js';
export { videoDecoderMinidriver, VIDEO_DECODER_FILTER_GUID } from './video-decoder-filter.js';
export { tvCaptureMinidriver, TvCapturePin, TV_CAPTURE_FILTER_GUID } from './tv-capture-filter.js';
export { tvMediums, TV_CARD_MEDIUM_SET, type TvMediums } from './tv-mediums.js';
export {
  AnalogVideoStandard,
  ksStandardOf,
  standardOfKs,
  ksStandardsMask,
  pictureOf,
} from './analog-standard.js';
export {
  TunerProperty,
  TunerMode,
  TunerStrategy,
  TunerLockType,
  TunerEvent,
  VideoDecoderProperty,
  VideoDecoderFlag,
  CrossbarProperty,
  PhysConn,
  TvAudioProperty,
  TvAudioMode,
} from './tv-property-ids.js';
