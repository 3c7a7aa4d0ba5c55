// Public entry point of hal.
export {};
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
