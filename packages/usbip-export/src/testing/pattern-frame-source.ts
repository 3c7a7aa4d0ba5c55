// A deterministic UvcFrameSource for tests: frames are emitted on demand and their bytes are a function of the frame index.

import { paintPocBars } from '@ksemu/hal/testing';
import type { UvcControlBinding, UvcFrameFormat, UvcFrameSink, UvcFrameSource } from '../uvc-frame-source.js';

/** Byte `i` of frame `n` (with the frame index in the first 4 bytes, little endian). */
export function framePatternByte(n: number, i: number): number {
  if (i < 4) return (n >>> (8 * i)) & 0xff;
  return (n * 31 + i * 7 + (i >>> 9)) & 0xff;
}

/** Fills `out` with frame `n`'s content. */
export function fillFramePattern(n: number, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) out[i] = framePatternByte(n, i);
}

/** A YUY2 format of the given size at 30 and 15 fps. */
export function yuy2Format(width: number, height: number): UvcFrameFormat {
  return {
    type: 'uncompressed',
    fourcc: 'YUY2',
    bitsPerPixel: 16,
    width,
    height,
    intervals: [333333, 666666],
    maxFrameSize: width * height * 2,
  };
}

/**
 * Emits frames only when a test calls `emit()`, from a small fixed set of reusable buffers (like a
 * pool), and counts what the export borrowed and gave back. With `autoEmit`, it emits the next frame
 * as soon as the previous one was released (a source that is never the bottleneck).
 */
export class PatternFrameSource implements UvcFrameSource {
  readonly formats: readonly UvcFrameFormat[];
  readonly controls: readonly UvcControlBinding[];
  /** Values set through the brightness binding, in order. */
  readonly brightnessSets: number[] = [];
  brightness = 0;
  started: { format: UvcFrameFormat; interval: number } | undefined;
  starts = 0;
  stops = 0;
  /** Frames lent and not yet released. */
  outstanding = 0;
  released = 0;
  autoEmit = false;
  /** Stop auto-emitting after this many frames. */
  limit = Infinity;
  #sink: UvcFrameSink | undefined;
  #next = 0;
  #buffers: Uint8Array[] = [];
  #free: number[] = [];

  readonly #fill: 'pattern' | 'index' | 'poc-bars';

  /**
   * @param fill - `pattern` (default): every byte is {@link framePatternByte}; `index`: only the first 4
   *   bytes change per frame (the rest is frame 0's pattern), so benchmarks measure transport, not painting;
   *   `poc-bars`: {@link paintPocBars} (YUY2 formats only), a drop-in for the proof-of-concept server.
   */
  constructor(formats: readonly UvcFrameFormat[], fill: 'pattern' | 'index' | 'poc-bars' = 'pattern') {
    this.formats = formats;
    this.#fill = fill;
    // The PoC camera's brightness is 0..255 (default 128); hal's VM tier writes 77 into it.
    const poc = fill === 'poc-bars';
    this.brightness = poc ? 128 : 0;
    this.controls = [
      {
        unit: 'processing',
        name: 'brightness',
        min: poc ? 0 : -64,
        max: poc ? 255 : 64,
        res: 1,
        def: poc ? 128 : 0,
        get: () => this.brightness,
        set: (v) => {
          this.brightness = v;
          this.brightnessSets.push(v);
        },
      },
    ];
  }

  start(format: UvcFrameFormat, interval: number, sink: UvcFrameSink): void {
    if (this.started) throw new Error(`start() requires state 'stopped', current state is 'started'`);
    this.started = { format, interval };
    this.starts++;
    this.#sink = sink;
    this.#next = 0;
    this.#buffers = [0, 1, 2].map(() => new Uint8Array(format.maxFrameSize));
    if (this.#fill === 'index') for (const b of this.#buffers) fillFramePattern(0, b);
    this.#free = [0, 1, 2];
    if (this.autoEmit) queueMicrotask(() => this.emit());
  }

  stop(): void {
    if (!this.started) throw new Error(`stop() requires state 'started', current state is 'stopped'`);
    this.started = undefined;
    this.stops++;
    this.#sink = undefined;
  }

  /** Emits the next frame; false when stopped, at the limit, or every buffer is lent out. */
  emit(): boolean {
    const sink = this.#sink;
    const slot = this.#free.pop();
    if (!sink || slot === undefined || this.#next >= this.limit) {
      if (slot !== undefined) this.#free.push(slot);
      return false;
    }
    const n = this.#next++;
    const data = this.#buffers[slot]!;
    if (this.#fill === 'pattern') fillFramePattern(n, data);
    else if (this.#fill === 'poc-bars') {
      const f = this.started!.format;
      paintPocBars(n, data, f.width, f.height);
    } else for (let i = 0; i < 4 && i < data.length; i++) data[i] = (n >>> (8 * i)) & 0xff;
    this.outstanding++;
    let done = false;
    sink({
      data,
      index: n,
      release: () => {
        if (done) throw new Error(`frame ${n} released twice`);
        done = true;
        this.outstanding--;
        this.released++;
        this.#free.push(slot);
        if (this.autoEmit && this.#sink) queueMicrotask(() => this.emit());
      },
    });
    return true;
  }
}
