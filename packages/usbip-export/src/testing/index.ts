// Test harnesses of usbip-export, exported as ./testing.
export {
  PatternDevice,
  PatternRequest,
  patternByte,
  PATTERN_BULK_IN,
  PATTERN_BULK_OUT,
  PATTERN_ISO_IN,
  PATTERN_ISO_PACKET,
  type PatternDeviceOptions,
} from './pattern-device.js';
export { RawUsbIpClient } from './raw-usbip-client.js';
export {
  PatternFrameSource,
  framePatternByte,
  fillFramePattern,
  yuy2Format,
} from './pattern-frame-source.js';
export { paintPocBars } from '@ksemu/hal/testing';
