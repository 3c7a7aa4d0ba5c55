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
