// What the PCIe card's DMA engine draws for a frame: the camera's test pattern, or the tuner's picture for the latched input tag.
import type { DmaVideoInput } from './dma-engine.js';
import { PatternRenderer } from './pattern-renderer.js';
import type { PatternKind } from './pattern.js';
import type { Fourcc, VideoFormat } from './pixel-format.js';
import { TunerPicture } from './tuner-picture.js';

/**
 * Draws whole frames into memory. `paint` writes exactly the format's image size at
 * `target[offset…]` (4-byte aligned); the bytes are a pure function of the painter's
 * configuration, `frameIndex` and `tag`. Worker-safe; allocates nothing per frame.
 */
export interface FramePainter {
  readonly frameBytes: number;
  /**
   * `previous` is the frame index the same bytes already hold from this painter with the same
   * tag (−1 if unknown): only what differs is redrawn; the result equals a full paint.
   */
  paint(target: Uint8Array, offset: number, frameIndex: number, tag: number, previous: number): void;
}

/** The synthetic camera's pattern generator on the card's input: the tag is ignored. */
class PatternPainter implements FramePainter {
  readonly frameBytes: number;
  private readonly renderer: PatternRenderer;

  constructor(pattern: PatternKind, seed: number, overlay: boolean, format: VideoFormat) {
    this.renderer = new PatternRenderer({ pattern, seed, overlay }, format);
    this.frameBytes = this.renderer.layout.imageSize;
  }

  paint(target: Uint8Array, offset: number, frameIndex: number, _tag: number, previous: number): void {
    this.renderer.render(target, offset, this.frameBytes, frameIndex, previous);
  }
}

/**
 * Makes the painter for a video input and format.
 * @throws TypeError/RangeError for formats or options the renderers reject.
 */
export function createFramePainter(
  input: DmaVideoInput,
  fourcc: Fourcc,
  width: number,
  height: number,
  interval: bigint,
): FramePainter {
  const format: VideoFormat = { fourcc, width, height, interval };
  if (input.kind === 'pattern')
    return new PatternPainter(input.pattern as PatternKind, input.seed, input.overlay, format);
  return new TunerPicture(input.channelNames, input.seed, format);
}
