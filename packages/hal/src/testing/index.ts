// Test harnesses of hal, exported as ./testing.
export {};
export { ReplayTransport, ReplayTransportProvider } from './replay-transport.js';
export { RecordingTransport } from './recording-transport.js';
export { toHex, fromHex } from './usb-session.js';
export type { UsbSession, UsbSessionEvent, RecordedError } from './usb-session.js';
// --- PCIe card register-level access and the tuner picture (pcie/tuner helper) ---
export {
  PcieRegister,
  PcieRegisters,
  ControlBit,
  StatusBit,
  InterruptBit,
  PCIE_BAR0_BYTES,
  PCIE_CARD_ID,
} from '../pcie-registers.js';
export {
  DescriptorRing,
  DescriptorFlag,
  DescriptorStatus,
  DescriptorWord,
  DESCRIPTOR_BYTES,
  type DescriptorFields,
  type DescriptorStatusCode,
} from '../descriptor-ring.js';
export {
  TunerPicture,
  channelTag,
  channelDigits,
  channelPlateGeometry,
  NO_SIGNAL_TAG,
} from '../tuner-picture.js';
// --- fake USB UVC camera for host-side tests (uvc-camera helper) ---
export {
  FakeUvcDevice,
  FakeUvcTransport,
  FakeUvcProvider,
  defaultFakeUvcDescription,
  fakeFrameByte,
  fakeMjpegSize,
  fillFakeFrame,
  STILL_NUMBER_BASE,
  type FakeUvcDeviceOptions,
} from './fake-uvc-device.js';
export { paintPocBars } from './poc-bars.js';
