// Public entry point of @ksemu/viewer: the `ksemu view` live preview server and its page protocol.
export { ViewerServer, type ViewerServerOptions } from './viewer-server.js';
export {
  CaptureHub,
  type CaptureHubOptions,
  type ViewerDevice,
  type FormatChoice,
  type FrameGeometry,
  type HubClient,
  type FrameOffer,
} from './capture-hub.js';
export type { TunerControl, TunerView, TuneAction } from './tuner-control.js';
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
