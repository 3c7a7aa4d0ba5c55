// Public entry point of minidriver-webcam: the AVStream webcam minidriver over HAL video devices (usbvideo.sys analogue).
export { createWebcamDevice, matchesWebcam, type WebcamDeviceOptions } from './webcam-device.js';
export {
  webcamMinidriver,
  webcamNodes,
  WebcamPin,
  WEBCAM_FILTER_GUID,
  CAPTURE_FRAMES,
  STILL_FRAMES,
  type WebcamMinidriverOptions,
  type WebcamNodes,
} from './webcam-minidriver.js';
export {
  VideoProcAmpProperty,
  CameraControlProperty,
  VideoControlProperty,
  VideoControlFlag,
} from './camera-property-ids.js';
export {
  bindControl,
  bindControls,
  snapToGrid,
  type ControlBinding,
  type ControlFamily,
  type UnitConversion,
} from './control-binding.js';
export { cameraPropertySets, propertySetOf, type CameraPropertySets } from './camera-properties.js';
export {
  dmaCapturePin,
  DmaCaptureContext,
  type DmaCapturePinOptions,
  type DmaCaptureStats,
} from './dma-capture-pin.js';
export { stillPin, StillPinContext, triggerStill, type StillPinOptions } from './still-pin.js';
export { HalSession, type HalSessionOptions } from './hal-session.js';
export { toKsError, ksCodeOf } from './hal-failure.js';
export {
  videoRangesFor,
  stillRangesFor,
  halFormatOf,
  subtypeOfFourcc,
  fourccOfSubtype,
  largestFrame,
  STILL_INTERVAL,
} from './video-data-ranges.js';
export {
  describeDevice,
  formatDescription,
  mediumLinks,
  sameMedium,
  type DeviceDescription,
  type FactoryDescription,
  type PinDescription,
  type NodeDescription,
  type ConnectionDescription,
  type DataRangeDescription,
  type PropertySetDescription,
  type EventSetDescription,
  type PropertyItemDescription,
  type MediumDescription,
  type MediumLink,
  type NamedGuid,
} from './describe.js';
export {
  extensionUnitsOf,
  extensionUnitSet,
  type ExtensionUnitDevice,
  type ExtensionUnitInfo,
  type ExtensionControlInfo,
  type OpenedExtensionUnits,
} from './extension-units.js';
