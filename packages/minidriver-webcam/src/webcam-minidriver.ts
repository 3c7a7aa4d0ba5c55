// The webcam minidriver: a frozen filter descriptor built from a HAL video device's capabilities, plus its pin dispatch.
import type { HalDevice } from '@ksemu/hal';
import {
  FILTER_NODE,
  KsCategory,
  NodeType,
  PinName,
  defineFilterDescriptor,
  guid,
  simpleFraming,
  type AutomationTable,
  type Clock,
  type Guid,
  type Logger,
  type Minidriver,
  type NodeDescriptor,
  type PinDescriptorInit,
  type PropertySetDescriptor,
  type TopologyConnection,
} from '@ksemu/ks-core';
import { cameraPropertySets } from './camera-properties.js';
import { dmaCapturePin } from './dma-capture-pin.js';
import { extensionUnitSet, extensionUnitsOf } from './extension-units.js';
import type { HalSession } from './hal-session.js';
import { stillPin, stillPinProperties } from './still-pin.js';
import { largestFrame, stillRangesFor, videoRangesFor } from './video-data-ranges.js';

/** ReferenceGuid of the webcam filter type (ksemu's own, fixed). */
export const WEBCAM_FILTER_GUID: Guid = guid('6b73656d-7577-6562-6361-6d0000000001');

/** Frames in a capture pin's pool: enough for the hardware to own two while the consumer holds two. */
export const CAPTURE_FRAMES = 4;
/** Frames in a still pin's pool. */
export const STILL_FRAMES = 2;

/** Pin type ids of the webcam filter. */
export const WebcamPin = Object.freeze({ Capture: 0, Still: 1 });

/** Options of {@link webcamMinidriver}. */
export interface WebcamMinidriverOptions {
  readonly session: HalSession;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Topology node ids of a webcam filter (absent nodes are `undefined`). */
export interface WebcamNodes {
  readonly cameraTerminal: number | undefined;
  readonly processingUnit: number | undefined;
  /** Dev-specific nodes of extension units, in unit order. */
  readonly extensionUnits: readonly number[];
  readonly output: number;
}

/**
 * The minidriver of one HAL video device (camera or capture card), like usbvideo.sys builds its
 * KS filter from a UVC device's descriptors:
 *
 * - Categories: VIDEO_CAMERA (cameras only), CAPTURE, VIDEO.
 * - Pin 0 Capture (PINNAME_VIDEO_CAPTURE): one data range per format × size with its discrete
 *   intervals; framing 4 frames, sized from the negotiated format (never above the largest).
 * - Pin 1 Still (PINNAME_VIDEO_STILL), when the device takes stills: its still sizes, triggered
 *   through PROPSETID_VIDCAP_VIDEOCONTROL mode.
 * - Topology: camera terminal (CameraControl) → processing unit (VideoProcAmp) → extension
 *   units (a set per unit GUID, id = selector) → streaming output → pins; each control node carries its set, and the filter carries both as well (as
 *   IAMVideoProcAmp/IAMCameraControl address the filter).
 */
export function webcamMinidriver(device: HalDevice, options: WebcamMinidriverOptions): Minidriver {
  const { session, clock, logger } = options;
  const caps = device.capabilities;
  const captureRanges = videoRangesFor(caps.video);
  const stillRanges = stillRangesFor(caps.stills);
  const sets = cameraPropertySets(caps.controls, session);

  const nodes: Array<{ type: Guid; name: string; automation?: AutomationTable }> = [];
  const connections: TopologyConnection[] = [];
  const addNode = (type: Guid, name: string, set: PropertySetDescriptor | undefined): number => {
    nodes.push(set === undefined ? { type, name } : { type, name, automation: { properties: [set] } });
    return nodes.length - 1;
  };
  const cameraTerminal =
    sets.cameraControl !== undefined || device.identity.kind === 'camera'
      ? addNode(NodeType.VIDEO_CAMERA_TERMINAL, 'Camera Terminal', sets.cameraControl)
      : undefined;
  const processingUnit =
    sets.videoProcAmp !== undefined
      ? addNode(NodeType.VIDEO_PROCESSING, 'Processing Unit', sets.videoProcAmp)
      : undefined;
  // Extension units sit between the processing unit and the output, one dev-specific node each,
  // carrying a property set named by the unit's GUID (usbvideo.sys's XU nodes).
  const extensionUnits = extensionUnitsOf(device).map((u) =>
    addNode(NodeType.DEV_SPECIFIC, u.name ?? `Extension Unit ${u.unitId}`, extensionUnitSet(u, session)),
  );
  const output = addNode(NodeType.VIDEO_STREAMING, 'Output', undefined);
  // KS node pins: 0 is a node's output, 1 its input.
  const chain = [cameraTerminal, processingUnit, ...extensionUnits, output].filter(
    (n): n is number => n !== undefined,
  );
  for (let i = 0; i + 1 < chain.length; i++) {
    connections.push({ fromNode: chain[i]!, fromPin: 0, toNode: chain[i + 1]!, toPin: 1 });
  }
  connections.push({ fromNode: output, fromPin: 0, toNode: FILTER_NODE, toPin: WebcamPin.Capture });

  const pins: PinDescriptorInit[] = [
    {
      name: 'Capture',
      category: PinName.CAPTURE,
      dataFlow: 'out',
      communication: 'both',
      instances: { possible: 1, necessary: 0 },
      dataRanges: captureRanges,
      framing: simpleFraming({
        frames: CAPTURE_FRAMES,
        alignment: 64,
        maxFrameSize: largestFrame(captureRanges),
      }),
    },
  ];
  const hasStills = stillRanges.length > 0;
  if (hasStills) {
    connections.push({ fromNode: output, fromPin: 0, toNode: FILTER_NODE, toPin: WebcamPin.Still });
    pins.push({
      name: 'Still',
      category: PinName.STILL,
      dataFlow: 'out',
      communication: 'both',
      instances: { possible: 1, necessary: 0 },
      dataRanges: stillRanges,
      framing: simpleFraming({
        frames: STILL_FRAMES,
        alignment: 64,
        maxFrameSize: largestFrame(stillRanges),
      }),
      automation: { properties: [stillPinProperties(session, logger) as PropertySetDescriptor] },
    });
  }

  const filterSets = [sets.videoProcAmp, sets.cameraControl].filter(
    (s): s is PropertySetDescriptor => s !== undefined,
  );
  const categories =
    device.identity.kind === 'camera'
      ? [KsCategory.VIDEO_CAMERA, KsCategory.CAPTURE, KsCategory.VIDEO]
      : [KsCategory.CAPTURE, KsCategory.VIDEO];
  const descriptor = defineFilterDescriptor({
    referenceGuid: WEBCAM_FILTER_GUID,
    name: device.identity.name,
    categories,
    pins,
    nodes: nodes as NodeDescriptor[],
    connections,
    ...(filterSets.length > 0 ? { automation: { properties: filterSets } } : {}),
  });
  const capture = dmaCapturePin({ session, clock, logger });
  const still = hasStills ? stillPin({ session, logger }) : undefined;
  return {
    descriptor,
    pins: still === undefined ? [capture as never] : [capture as never, still as never],
  };
}

/** Node ids of a webcam descriptor, found by type. */
export function webcamNodes(descriptor: Minidriver['descriptor']): WebcamNodes {
  const find = (type: Guid): number | undefined => {
    const i = descriptor.nodes.findIndex((n) => n.type === type);
    return i < 0 ? undefined : i;
  };
  return {
    cameraTerminal: find(NodeType.VIDEO_CAMERA_TERMINAL),
    processingUnit: find(NodeType.VIDEO_PROCESSING),
    extensionUnits: descriptor.nodes.flatMap((n, i) => (n.type === NodeType.DEV_SPECIFIC ? [i] : [])),
    output: find(NodeType.VIDEO_STREAMING) ?? -1,
  };
}
