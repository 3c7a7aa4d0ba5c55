// Public entry point of hal.
export type {
  UsbTransport,
  UsbTransportProvider,
  UsbDeviceInfo,
  UsbDeviceFilter,
  UsbCapabilities,
  UsbSpeed,
  ControlSetup,
  ControlOptions,
  UsbTransferStatus,
  UsbStreamEnd,
  InStreamOptions,
  UsbTransferResult,
  UsbInStream,
  IsoInStreamOptions,
  IsoTransferView,
  UsbIsoInStream,
  UsbTransportState,
  UsbHotplugEvent,
} from './usb/usb-transport.js';
export { matchesFilter, formatLocation } from './usb/usb-transport.js';
// --- device model (synthetic-camera helper) ---
export { HalError, HalErrorCode, isHalError, type HalErrorOptions } from './hal-error.js';
export {
  SystemTimeSource,
  ManualTimeSource,
  type TimeSource,
  type ScheduledCallback,
} from './time-source.js';
export {
  Fourcc,
  ALL_FOURCCS,
  isFourcc,
  bitsPerPixel,
  imageLayout,
  intervalForRate,
  rateForInterval,
  validateVideoFormat,
  UNITS_PER_SECOND,
  type PlaneLayout,
  type ImageLayout,
  type VideoFormat,
} from './pixel-format.js';
export type {
  HalDevice,
  HalDeviceKind,
  HalTransportKind,
  HalDeviceIdentity,
  HalDeviceCapabilities,
  HalDeviceEvents,
  HalDeviceState,
  HalOpenOptions,
  OpenedHalDevice,
  FrameSizeCapability,
  VideoFormatCapability,
  StillCapability,
  StillResult,
  ControlId,
  ControlType,
  ControlCapability,
  TunerCapability,
  AnalogVideoStandard,
} from './hal-device.js';
export {
  FrameStatus,
  FrameFlag,
  frameStatusName,
  slotDataOffset,
  validatePoolGeometry,
  type CaptureEngine,
  type CaptureEngineState,
  type CaptureEngineStats,
  type CaptureStartOptions,
  type DmaMapping,
  type PoolGeometry,
} from './capture-engine.js';
export {
  CompletionRing,
  emptyCompletionRecord,
  type CompletionRecord,
  type CompletionRingHandle,
} from './completion-ring.js';
export {
  Enumerator,
  type EnumeratorConfig,
  type EnumeratorEvents,
  type DeviceProvider,
  type SyntheticDeviceConfig,
  type SyntheticDeviceFactory,
} from './enumerator.js';
export {
  FaultInjector,
  FrameFault,
  faultHash,
  validateFaultPlan,
  type Fault,
  type FaultPlan,
} from './fault-plan.js';
export { EventHub, type EventSource, type EventMap } from './event-hub.js';
