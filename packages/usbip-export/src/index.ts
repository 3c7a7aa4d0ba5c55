// Public entry point of usbip-export: the USB/IP server and the device-model contract.
export { UsbIpServer, USBIP_PORT, type UsbIpServerOptions } from './usbip-server.js';
export type {
  UsbIpDevice,
  UsbIpUrb,
  UrbCompletion,
  UrbCancelReason,
  ControlResult,
  SetupPacket,
  EndpointType,
} from './usbip-device.js';
export { BulkInPipe, type BulkInPipeOptions, type PayloadDone } from './bulk-in-pipe.js';
export {
  IsoInPipe,
  realScheduler,
  type IsoInPipeOptions,
  type IsoPacketContent,
  type PipeScheduler,
} from './iso-in-pipe.js';
export { UvcFunction, type UvcFunctionOptions, type UvcFunctionStats } from './uvc-function.js';
export type {
  UvcFrameSource,
  UvcFrameFormat,
  UvcSourceFrame,
  UvcFrameSink,
  UvcControlBinding,
} from './uvc-frame-source.js';
export {
  buildUvcDescriptors,
  type UvcDescriptorOptions,
  type UvcDescriptors,
  type IsoAlternate,
} from './uvc-descriptors.js';
export {
  PinFrameSource,
  uvcFormatsOfRanges,
  DEFAULT_EXPORT_FOURCCS,
  type PinFrameSourceOptions,
  type PinFrameSourceStats,
} from './pin-frame-source.js';
export { exportCapturePin, CapturePinExport, type CapturePinExportOptions } from './capture-pin-export.js';
