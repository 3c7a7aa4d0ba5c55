// Public entry point of @ksemu/viewer: the `ksemu view` live preview server and its page protocol.
export { ViewerServer, type ViewerServerOptions } from './viewer-server.js';
export {
  CaptureHub,
  type CaptureHubOptions,
  type FormatChoice,
  type FrameGeometry,
  type HubClient,
  type FrameOffer,
} from './capture-hub.js';
export type { TunerPanel, TunerView, TuneAction } from './tuner-panel-types.js';
export { GraphTunerPanel } from './tuner-panel.js';
export { openViewerDevice, type ViewerDevice } from './viewer-device.js';
export type { ViewerStatsSnapshot } from './viewer-stats.js';
export type { PropertyControlInfo, ControlKind } from './property-controls.js';
export {
  parseViewRequest,
  readFrameHeader,
  FRAME_HEADER,
  type ViewRequest,
  type ParsedRequest,
  type FrameHeader,
} from './view-protocol.js';
