// Public entry point of ks-core.
export {};
// Streaming: frame pool, stream headers, mappings, hand-off rings.
export { FramePool, SlotState, SlotStateError, SLOT_HEADER_BYTES, slotStateName } from './frame-pool.js';
export type { FramePoolGeometry, FramePoolHandle, FramePoolLayout } from './frame-pool.js';
export {
  StreamHeader,
  FrameFlags,
  FrameStatus,
  KEY_FRAME,
  STREAM_HEADER_LAYOUT,
  frameStatusName,
} from './stream-header.js';
export { CompletionChannel, MappingList, MAPPING_END_OF_FRAME } from './mapping.js';
export type { Mapping, CompletionChannelHandle } from './mapping.js';
export { SlotRing } from './slot-ring.js';
export type { SlotRingHandle } from './slot-ring.js';
export { KsQueue } from './queue.js';
export type { KsQueueOptions, QueueObserver, QueueState, QueueStats, QueueTiming } from './queue.js';
export { StreamPointer } from './stream-pointer.js';
export type { StreamPointerKind } from './stream-pointer.js';
export { Frame, FrameStream, attachFrameStream } from './frame-stream.js';
export type { FrameStreamHandle, FrameStreamState } from './frame-stream.js';
