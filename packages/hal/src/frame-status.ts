// Per-frame outcome codes and flags that capture engines report in their completions.

/** Outcome of one programmed mapping. Only `Ok` and `Corrupt` carry frame data. */
export const FrameStatus = {
  /** A complete frame. */
  Ok: 0,
  /** The device dropped this frame (fault plan or device error); no data. */
  Dropped: 1,
  /** The frame is complete but its payload is damaged (flagged, as UVC's ERR bit). */
  Corrupt: 2,
  /** The device went away; no data. Every outstanding mapping completes with this. */
  Disconnected: 3,
  /** The mapping was too small for the frame; nothing was written (never half-filled). */
  Truncated: 4,
  /** `stop()` returned the mapping unused. */
  Cancelled: 5,
} as const;
/** One of {@link FrameStatus}'s values. */
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** Names of {@link FrameStatus} values, for logs and JSON. */
export function frameStatusName(status: FrameStatus): string {
  for (const [name, value] of Object.entries(FrameStatus)) if (value === status) return name;
  return `Unknown(${String(status)})`;
}

/** Bits of {@link CompletionRecord.flags}. */
export const FrameFlag = {
  /** Frames were lost (starved or dropped) just before this one. */
  Discontinuity: 1,
  /** Every frame of an intra-only format (raw, MJPEG) is a key frame. */
  KeyFrame: 2,
  /** `presentationTime` is valid. */
  TimeValid: 4,
  /** The 32-bit sequence wrapped to 0 at this frame. */
  SequenceWrapped: 8,
  /** The first frame after `start()`. */
  FirstFrame: 16,
} as const;
