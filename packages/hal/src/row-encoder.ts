// Converts rows of palette indices into the bytes of one plane of a pixel format.
import type { Palette } from './colour-palette.js';
import type { Fourcc } from './pixel-format.js';

/**
 * Bytes that pixel column x starts at inside a row of plane `plane` (x even for chroma planes).
 */
export function planeByteOffset(fourcc: Fourcc, plane: number, x: number): number {
  switch (fourcc) {
    case 'YUY2':
    case 'UYVY':
      return x * 2;
    case 'NV12':
      return x; // Y: one byte per pixel; UV: one U,V pair per two pixels
    case 'I420':
      return plane === 0 ? x : x >> 1;
    case 'RGB24':
      return x * 3;
    case 'BGRA':
      return x * 4;
    case 'GRAY8':
      return x;
    case 'MJPG':
      throw new TypeError('MJPG has no planes');
  }
}

/**
 * Encodes pixels [from, from + count) of a row of palette indices into plane `plane`, writing
 * at `dst[dstOffset]` onward. For subsampled formats `from` and `count` must be even; chroma
 * takes the left (even) pixel of each pair, and 4:2:0 chroma rows are encoded from the even
 * luma row they belong to (the caller passes that row). This is the single definition of how
 * colours become bytes; every renderer path goes through it or reproduces it exactly.
 */
export function encodePlaneSegment(
  fourcc: Fourcc,
  palette: Palette,
  plane: number,
  indices: Uint16Array,
  from: number,
  count: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  const { y: Y, u: U, v: V, r: R, g: G, b: B } = palette;
  const end = from + count;
  let o = dstOffset;
  switch (fourcc) {
    case 'YUY2':
      for (let x = from; x < end; x += 2) {
        const i0 = indices[x]!;
        dst[o] = Y[i0]!;
        dst[o + 1] = U[i0]!;
        dst[o + 2] = Y[indices[x + 1]!]!;
        dst[o + 3] = V[i0]!;
        o += 4;
      }
      return;
    case 'UYVY':
      for (let x = from; x < end; x += 2) {
        const i0 = indices[x]!;
        dst[o] = U[i0]!;
        dst[o + 1] = Y[i0]!;
        dst[o + 2] = V[i0]!;
        dst[o + 3] = Y[indices[x + 1]!]!;
        o += 4;
      }
      return;
    case 'NV12':
      if (plane === 0) {
        for (let x = from; x < end; x++) dst[o++] = Y[indices[x]!]!;
      } else {
        for (let x = from; x < end; x += 2) {
          const i0 = indices[x]!;
          dst[o] = U[i0]!;
          dst[o + 1] = V[i0]!;
          o += 2;
        }
      }
      return;
    case 'I420': {
      if (plane === 0) {
        for (let x = from; x < end; x++) dst[o++] = Y[indices[x]!]!;
        return;
      }
      const table = plane === 1 ? U : V;
      for (let x = from; x < end; x += 2) dst[o++] = table[indices[x]!]!;
      return;
    }
    case 'GRAY8':
      for (let x = from; x < end; x++) dst[o++] = Y[indices[x]!]!;
      return;
    case 'RGB24':
      for (let x = from; x < end; x++) {
        const i = indices[x]!;
        dst[o] = B[i]!;
        dst[o + 1] = G[i]!;
        dst[o + 2] = R[i]!;
        o += 3;
      }
      return;
    case 'BGRA':
      for (let x = from; x < end; x++) {
        const i = indices[x]!;
        dst[o] = B[i]!;
        dst[o + 1] = G[i]!;
        dst[o + 2] = R[i]!;
        dst[o + 3] = 255;
        o += 4;
      }
      return;
    case 'MJPG':
      throw new TypeError('MJPG has no planes');
  }
}

/** True when plane `plane` of `fourcc` has one row per two image rows (4:2:0 chroma). */
export function isHalfHeightPlane(fourcc: Fourcc, plane: number): boolean {
  return plane > 0 && (fourcc === 'NV12' || fourcc === 'I420');
}
