// Tests of AlignedRow: the same bytes land at every target alignment, also after realigning.
import { describe, expect, it } from '@jest/globals';
import { AlignedRow } from './aligned-row.js';

describe('AlignedRow', () => {
  it('writes its bytes at any offset and keeps them when it moves between alignments', () => {
    const row = new AlignedRow(37);
    for (let i = 0; i < row.length; i++) row.bytes[i] = (i * 13 + 1) & 255;
    const expected = Array.from(row.bytes);
    const target = new Uint8Array(new SharedArrayBuffer(256));
    for (const at of [0, 3, 8, 5, 1, 0, 7, 100, 6]) {
      target.fill(0);
      row.writeTo(target, at);
      expect(Array.from(target.subarray(at, at + row.length))).toEqual(expected);
      expect(target[at - 1] ?? 0).toBe(0);
      expect(target[at + row.length]).toBe(0);
      expect(Array.from(row.bytes)).toEqual(expected);
    }
  });

  it('counts alignment from the start of the buffer, not of the view', () => {
    const row = new AlignedRow(16);
    row.bytes.fill(9);
    const buffer = new SharedArrayBuffer(64);
    const view = new Uint8Array(buffer, 4, 40);
    row.writeTo(view, 2);
    expect(Array.from(new Uint8Array(buffer, 6, 16))).toEqual(new Array(16).fill(9));
    expect(new Uint8Array(buffer)[5]).toBe(0);
  });
});
