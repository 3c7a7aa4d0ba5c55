// MJPEG frames: the pattern rendered to a private 4:2:0 image, then encoded as a baseline JPEG.
import { JpegEncoder } from './jpeg-encoder.js';
import { PatternRenderer, type FrameRenderer } from './pattern-renderer.js';
import type { PatternOptions } from './pattern.js';
import { imageLayout, type ImageLayout, type VideoFormat } from './pixel-format.js';

/**
 * Renders frame n as a complete JFIF image. The 4:2:0 source image is kept between frames so
 * it is repainted by dirty regions; the JPEG is encoded in full every frame. Output bytes are a
 * pure function of (options, format, n).
 */
export class MjpegRenderer implements FrameRenderer {
  readonly layout: ImageLayout;
  private readonly source: PatternRenderer;
  private readonly encoder: JpegEncoder;
  private readonly scratch: Uint8Array;
  private scratchFrame = -1;
  private readonly image;

  constructor(options: PatternOptions, format: VideoFormat, quality = 85) {
    if (format.fourcc !== 'MJPG') throw new TypeError(`MjpegRenderer renders MJPG, not ${format.fourcc}`);
    this.layout = imageLayout('MJPG', format.width, format.height);
    const planar = { ...format, fourcc: 'I420' as const };
    this.source = new PatternRenderer(options, planar);
    this.encoder = new JpegEncoder(quality);
    this.scratch = new Uint8Array(this.source.layout.imageSize);
    const [y, u, v] = this.source.layout.planes;
    this.image = {
      data: this.scratch,
      width: format.width,
      height: format.height,
      yOffset: y!.offset,
      yStride: y!.stride,
      uOffset: u!.offset,
      vOffset: v!.offset,
      chromaStride: u!.stride,
      limitedRange: true,
    };
  }

  render(target: Uint8Array, offset: number, capacity: number, n: number, _previous: number): number {
    this.source.render(this.scratch, 0, this.scratch.length, n, this.scratchFrame);
    this.scratchFrame = n;
    return this.encoder.encode(this.image, target, target.byteOffset === 0 ? offset : offset, capacity);
  }
}

/**
 * The renderer for any hal FOURCC: {@link PatternRenderer} for raw formats, {@link MjpegRenderer}
 * for MJPG. This is what devices (and the PCIe card's DMA worker) should call.
 */
export function createFrameRenderer(options: PatternOptions, format: VideoFormat): FrameRenderer {
  return format.fourcc === 'MJPG' ? new MjpegRenderer(options, format) : new PatternRenderer(options, format);
}
