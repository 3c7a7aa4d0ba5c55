// Public entry point of ks-core.
export {};
// Streaming: frame pool, stream headers, mappings, hand-off rings.
export { FramePool, SlotState, SlotStateError, SLOT_HEADER_BYTES, slotStateName } from './frame-pool.js';
export type {
  FramePoolAllocateOptions,
  FramePoolGeometry,
  FramePoolHandle,
  FramePoolLayout,
} from './frame-pool.js';
export {
  StreamHeader,
  FrameFlags,
  FrameStatus,
  KEY_FRAME,
  STREAM_HEADER_LAYOUT,
  frameStatusName,
} from './stream-header.js';
export { CompletionChannel, MappingList, MAPPING_END_OF_FRAME } from './mapping.js';
export type { Mapping, CompletionChannelHandle } from './mapping.js';
export { SlotRing } from './slot-ring.js';
export type { SlotRingHandle } from './slot-ring.js';
export { KsQueue, DEFAULT_STOP_GRACE } from './queue.js';
export type {
  KsQueueOptions,
  QueueObserver,
  QueueState,
  QueueStats,
  QueueStopOptions,
  QueueTiming,
} from './queue.js';
export { StreamPointer } from './stream-pointer.js';
export type { StreamPointerKind } from './stream-pointer.js';
export { Frame, FrameStream, attachFrameStream } from './frame-stream.js';
export type { FrameStreamHandle, FrameStreamState } from './frame-stream.js';

// Object model: GUIDs, time, clocks, errors, events, formats, descriptors, properties, device/filter/pin.
export {
  guid,
  tryParseGuid,
  isGuid,
  guidEquals,
  compareGuids,
  guidToBytes,
  guidFromBytes,
  fourccGuid,
  fourccOf,
} from './guid.js';
export type { Guid } from './guid.js';
export {
  GuidRegistry,
  knownGuids,
  KsCategory,
  MediaType,
  MediaSubtype,
  FormatType,
  PropSetId,
  EventSetId,
  NodeType,
  PinName,
  MediumSetId,
  InterfaceSetId,
  MemoryType,
  PropTypeSetId,
} from './known-guids.js';
export {
  ksTime,
  KS_TIME_ZERO,
  UNITS_PER_SECOND,
  fromNanoseconds,
  fromMicroseconds,
  fromMilliseconds,
  fromSeconds,
  toNanoseconds,
  toMilliseconds,
  toSeconds,
  frameIntervalFromRate,
  rateFromFrameInterval,
  frameTime,
  addTime,
  subTime,
} from './ks-time.js';
export type { KsTime } from './ks-time.js';
export { SystemClock, correlate } from './clock.js';
export type { Clock, CorrelatedTime, ScheduledCallback } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { PinClock } from './pin-clock.js';
export { KsError, KsNecessaryInstancesError, KsStateError, isKsError, ntStatusOf } from './ks-error.js';
export type { KsErrorCode, KsErrorOptions, MissingPinInstances } from './ks-error.js';
export { TypedEmitter } from './event.js';
export type { EventMap, Listener, EmitterBaseEvents } from './event.js';
export { silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export {
  videoFormat,
  imageSize,
  subtypeGeometry,
  subtypeName,
  formatEquals,
  describeFormat,
} from './video-format.js';
export type {
  VideoFormat,
  GenericFormat,
  DataFormat,
  SubtypeGeometry,
  VideoFormatInit,
} from './video-format.js';
export { videoRange, genericRange, onGrid } from './data-range.js';
export type { DataRange, VideoDataRange, GenericDataRange, VideoRangeInit } from './data-range.js';
export { intersect, intersectVideo, intersectGeneric, intersectRanges, requestOf } from './intersection.js';
export type { FormatRequest, IntersectionResult, Adjustment } from './intersection.js';
export {
  encodeVideoFormat,
  decodeVideoFormat,
  encodeVideoRange,
  decodeVideoRange,
  KSDATAFORMAT_SIZE,
  KS_VIDEOINFOHEADER_SIZE,
  KS_DATAFORMAT_VIDEOINFOHEADER_SIZE,
  KS_VIDEO_STREAM_CONFIG_CAPS_SIZE,
  KS_DATARANGE_VIDEO_SIZE,
} from './ks-data-format.js';
export { simpleFraming, resolveFraming, DEFAULT_FRAMING } from './allocator-framing.js';
export type { AllocatorFraming, ResolvedFraming } from './allocator-framing.js';
export { checkPropertyValue, valueSize, validateAutomationTable } from './property-set.js';
export type {
  PropertyType,
  PropertyValue,
  PropertyMode,
  PropertyAccess,
  PropertyControl,
  PropertyContext,
  PropertyItem,
  PropertySetDescriptor,
  EventItem,
  EventSetDescriptor,
  AutomationTable,
} from './property-set.js';
export { PropertyHandler, PropertyRequestFlags, ControlFlags, rawSize } from './property-handler.js';
export type {
  RawPropertyRequest,
  RawPropertyResult,
  PropertyDescription,
  PropertyChange,
  PropertyAddress,
} from './property-handler.js';
export {
  VideoProcAmpProperty,
  CameraControlProperty,
  TunerProperty,
  CrossbarProperty,
  TvAudioProperty,
  VideoDecoderProperty,
  PinProperty,
  ConnectionProperty,
  ChangedEvent,
  KsStateValue,
} from './property-ids.js';
export { EventSets } from './event-set.js';
export type { EventSubscription } from './event-set.js';
export { defineFilterDescriptor, definePin, deepFreeze, FILTER_NODE } from './descriptors.js';
export { medium, mediumEquals, isStandardMedium, findMediumConnections } from './medium.js';
export type { MediumConnection } from './medium.js';
export type {
  DataFlow,
  Communication,
  Medium,
  PinDescriptor,
  PinDescriptorInit,
  NodeDescriptor,
  TopologyConnection,
  FilterDescriptor,
  FilterDescriptorInit,
} from './descriptors.js';
export type { Minidriver, PinDispatch, KsState } from './minidriver.js';
export { KsPin, KS_STATES } from './pin.js';
export type { PinStatus, PinEvents } from './pin.js';
export { KsFilter } from './filter.js';
export type { FilterEvents } from './filter.js';
export { KsFilterFactory } from './filter-factory.js';
export { KsDevice, createDevice } from './device.js';
export type { KsDeviceOptions, DeviceEvents } from './device.js';
