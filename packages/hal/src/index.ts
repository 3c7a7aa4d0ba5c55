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
// USB/IP wire protocol (codecs and incremental decoders)
export {
  USBIP_VERSION,
  UsbIpOpCode,
  UsbIpCommand,
  UsbIpSpeed,
  UsbIpErrno,
  OP_HEADER_SIZE as USBIP_OP_HEADER_SIZE,
  URB_HEADER_SIZE as USBIP_URB_HEADER_SIZE,
  DEVICE_RECORD_SIZE as USBIP_DEVICE_RECORD_SIZE,
  ISO_DESCRIPTOR_SIZE as USBIP_ISO_DESCRIPTOR_SIZE,
  MAX_ISO_PACKETS as USBIP_MAX_ISO_PACKETS,
  NON_ISO_PACKETS as USBIP_NON_ISO_PACKETS,
  isNonIsoPacketCount,
  usbIpProtocolError,
  encodeOpReqDevlist,
  encodeOpReqImport,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeCmdSubmit,
  encodeRetSubmit,
  writeRetSubmitHeader,
  encodeCmdUnlink,
  encodeRetUnlink,
  concatParts,
  type UsbIpDeviceRecord,
  type UsbIpInterfaceRecord,
  type UsbIpExportedDevice,
  type IsoPacketDescriptor,
  type UsbIpDirection,
  type OpReqDevlist,
  type OpRepDevlist,
  type OpReqImport,
  type OpRepImport,
  type CmdSubmit,
  type CmdSubmitFields,
  type RetSubmit,
  type RetSubmitFields,
  type CmdUnlink,
  type RetUnlink,
  type UsbIpRequest,
  type UsbIpReply,
} from './usbip/usbip-protocol.js';
export {
  UsbIpRequestDecoder,
  UsbIpReplyDecoder,
  DEFAULT_MAX_TRANSFER_LENGTH as USBIP_DEFAULT_MAX_TRANSFER_LENGTH,
  type UsbIpRequestDecoderOptions,
  type UsbIpReplyDecoderOptions,
  type SubmittedUrb,
} from './usbip/usbip-stream-decoder.js';
// UVC protocol (pure; shared by the host driver and the USB/IP device side).
export { parseUvcConfiguration, summarizeUvcDescriptors } from './uvc/uvc-configuration.js';
export type {
  UvcConfiguration,
  UvcConfigurationFunction,
  UvcConfigurationStreamingInterface,
  UvcConfigurationFormat,
  UvcConfigurationFormatType,
  UvcConfigurationFrame,
} from './uvc/uvc-configuration.js';
export { parseUvcDescriptors } from './uvc/descriptor-parser.js';
export {
  UvcClass,
  VcSubtype,
  VsSubtype,
  TerminalType,
  uvcGuid,
  guidFromBytes,
  guidToBytes,
  fourccGuid,
  fourccFromGuidBytes,
  formatBcd,
} from './uvc/descriptor-types.js';
export type * from './uvc/descriptor-types.js';
export {
  UsbDescriptorType,
  walkDescriptors,
  parseUsbConfiguration,
  parseUsbDeviceDescriptor,
  endpointBytesPerInterval,
} from './uvc/usb-descriptor.js';
export type {
  RawDescriptor,
  DescriptorWalk,
  UsbDeviceDescriptor,
  UsbInterfaceAssociation,
  UsbEndpoint,
  UsbInterface,
  UsbConfiguration,
  UsbTransferType,
} from './uvc/usb-descriptor.js';
export {
  UvcRequestCode,
  VcInterfaceSelector,
  VsSelector,
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  UVC15_CONTROL_NAMES,
  controlNames,
  findControl,
  extensionUnitSelectors,
  buildGetRequest,
  buildSetCurRequest,
  buildRequestErrorCodeRequest,
  encodeSetupPacket,
  decodeSetupPacket,
  decodeControlInfo,
  encodeControlInfo,
  decodeControlValue,
  encodeControlValue,
  decodeGetLen,
  decodeStall,
  requestErrorName,
  requestErrorCode,
  streamErrorName,
  UvcControlError,
} from './uvc/controls.js';
export type {
  UvcGetRequest,
  UvcControlField,
  UvcControlDef,
  UvcControlRequest,
  ControlAddress,
  UvcControlInfo,
  UvcControlValue,
  UvcRequestErrorName,
  ResponderAnswer,
  UvcStreamErrorName,
} from './uvc/controls.js';
export {
  probeCommitSize,
  emptyProbeCommit,
  encodeProbeCommit,
  decodeProbeCommit,
  interpretProbeReply,
  fixupProbe,
  selectAltSetting,
  buildProbeGet,
  buildProbeSet,
  validateProbeAnswer,
  nearestInterval,
  estimatePayloadSize,
  negotiateProbe,
  ProbeCommitResponder,
  ProbeNegotiation,
} from './uvc/probe-commit.js';
export type {
  ProbeCommit,
  ProbeQuery,
  ProbeReply,
  NegotiationFormat,
  NegotiationFrame,
  FixupOptions,
  FixupResult,
  AltSettingBandwidth,
  AltSelection,
  DeviceNegotiationOptions,
  HostNegotiationOptions,
  NegotiationRequest,
  NegotiationReply,
  NegotiationResult,
  NegotiationStep,
} from './uvc/probe-commit.js';
export {
  UsbIpClientTransport,
  UsbIpTransportProvider,
  listUsbIpDevices,
  usbIpDeviceInfo,
  type UsbIpClientOptions,
  type UsbIpEndpoint,
} from './usbip/usbip-client-transport.js';
export { PayloadReassembler, PayloadHeaderBit, UvcFrameFlag } from './uvc/payload-reassembler.js';
export type {
  ReassembledFrame,
  ReassemblerStats,
  PayloadReassemblerOptions,
} from './uvc/payload-reassembler.js';
export { PayloadWriter } from './uvc/payload-writer.js';
export type { PayloadWriterOptions, FrameStamps, PayloadPlan } from './uvc/payload-writer.js';
export {
  buildUvcDescriptors,
  buildStringDescriptors,
  encodeIsoMaxPacketSize,
} from './uvc/descriptor-builder.js';
export type {
  UvcCameraDescription,
  UvcFormatDescription,
  UvcFrameDescription,
  UvcDescriptorLayout,
  BuiltUvcDescriptors,
} from './uvc/descriptor-builder.js';
// --- synthetic camera and pattern renderers (synthetic-camera helper) ---
export {
  SyntheticCamera,
  createSyntheticCamera,
  CAMERA_SIZES,
  CAMERA_RATES,
  CAMERA_STILL_SIZES,
  CAMERA_CONTROLS,
  type SyntheticCameraOptions,
} from './synthetic-camera.js';
export { BUILT_IN_SYNTHETIC_KINDS } from './synthetic-kinds.js';
export { ScheduledCaptureEngine, type ScheduledCaptureEngineOptions } from './scheduled-capture-engine.js';
export { DeviceControls } from './device-controls.js';
export { PATTERN_KINDS, isPatternKind, type PatternKind, type PatternOptions } from './pattern.js';
export {
  PatternRenderer,
  renderReference,
  validatePatternOptions,
  type FrameRenderer,
} from './pattern-renderer.js';
export { MjpegRenderer, createFrameRenderer } from './mjpeg-renderer.js';
export { JpegEncoder, type PlanarImage } from './jpeg-encoder.js';
export { NEUTRAL_ADJUSTMENTS, type PictureAdjustments } from './colour-palette.js';
export { ControlResponder, numericDeviceControl } from './uvc/control-responder.js';
export type { DeviceControl, NumericControlOptions } from './uvc/control-responder.js';
export { decodeStatusPacket, encodeControlStatus, encodeButtonStatus } from './uvc/status-packet.js';
export type { UvcStatusPacket } from './uvc/status-packet.js';
// --- synthetic PCIe capture card and analog TV tuner (pcie/tuner helper) ---
export {
  SyntheticPcieCard,
  PcieCardDevice,
  PcieCardSession,
  pcieCardFactory,
  capabilitiesSupport,
  type SyntheticPcieCardOptions,
} from './pcie-card.js';
export { PcieCaptureEngine } from './pcie-capture-engine.js';
export { PCIE_FORMAT_CODES } from './dma-engine.js';
export {
  SyntheticTuner,
  SyntheticTunerFrontend,
  TunerCardSession,
  tunerFactory,
  TUNING_STEP_HZ,
  type SyntheticTunerOptions,
  type BroadcastSpec,
} from './synthetic-tuner.js';
export {
  hasTuner,
  type TunerFrontend,
  type TunerFrontendCapabilities,
  type TunerFrontendEvents,
  type TunerStatus,
  type TunerMode,
  type TunerInput,
  type ScanRange,
  type ScannedChannel,
  type OpenedTunerDevice,
} from './tuner-frontend.js';
export {
  TV_STANDARDS,
  TV_STANDARD_IDS,
  tvStandard,
  isTvStandardId,
  type TvStandard,
  type TvStandardId,
} from './tv-standard.js';
export {
  FREQUENCY_TABLES,
  FREQUENCY_TABLE_IDS,
  frequencyTable,
  channelByName,
  channelAtFrequency,
  type FrequencyTable,
  type FrequencyTableId,
  type ChannelAllocation,
} from './frequency-table.js';
export {
  createPoolMemory,
  attachPoolMemory,
  poolMemoryOf,
  bulkOpsFor,
  type BulkMemoryOps,
  type SharedWasmMemory,
} from './pool-memory.js';
export { openUsbTransportProvider } from './usb/usb-backend.js';
export type { UsbBackend, UsbBackendOptions } from './usb/usb-backend.js';
export { UsbfsTransportProvider, usbfsAvailable } from './usb/usbfs-transport.js';
export type { UsbfsProviderOptions } from './usb/usbfs-transport.js';
export type { NodeUsbTransportProvider, NodeUsbProviderOptions } from './usb/node-usb-transport.js';
export { UDEV_HINT } from './usb/usb-failure.js';
// --- USB UVC camera as a hal device (uvc-camera helper) ---
export {
  UvcCamera,
  fourccOfUvcFormat,
  frameIntervals,
  uvcVideoCapabilities,
  type UvcCameraOptions,
  type UvcOpenOptions,
  type UvcCameraDescriptors,
} from './uvc-camera/uvc-camera.js';
export { UvcCameraSession } from './uvc-camera/uvc-camera-session.js';
export {
  UvcCaptureEngine,
  type UvcCaptureEngineOptions,
  type UvcFormatChoice,
  type UvcStillChoice,
} from './uvc-camera/uvc-capture-engine.js';
export { UvcControlClient, type UvcBoundControl } from './uvc-camera/uvc-control-client.js';
export {
  UVC_CONTROL_BINDINGS,
  AutoExposureMode,
  type UvcControlBinding,
  type UvcEntityKind,
} from './uvc-camera/uvc-control-map.js';
export { UvcDeviceProvider, type UvcDeviceProviderOptions } from './uvc-camera/uvc-device-provider.js';
