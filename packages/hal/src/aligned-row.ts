// A row of bytes that set() copies into shared memory at native speed whatever the target address.

/**
 * V8 copies into a SharedArrayBuffer with relaxed atomics: word by word when source and target
 * addresses agree modulo 8, else byte by byte (measured: 268 bytes take 21 ns vs 160 ns). An
 * AlignedRow keeps its bytes at the offset that matches the last target, moving them (once,
 * inside its own buffer) when the target alignment changes. Per-frame use allocates nothing
 * after each of the (at most 8) alignments has been seen once.
 */
export class AlignedRow {
  readonly length: number;
  private readonly store: Uint8Array;
  private readonly views: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(8).fill(
    undefined,
  );
  private shift = 0;
  /** The row's bytes; writable. The view changes when {@link writeTo} realigns the row. */
  bytes: Uint8Array;

  constructor(length: number) {
    this.length = length;
    this.store = new Uint8Array(length + 8);
    this.bytes = this.store.subarray(0, length);
    this.views[0] = this.bytes;
  }

  /** Copies the row to `target[at…]` (target must have room for it). */
  writeTo(target: Uint8Array, at: number): void {
    const align = (target.byteOffset + at) & 7;
    if (align !== this.shift) {
      this.store.copyWithin(align, this.shift, this.shift + this.length);
      this.shift = align;
      this.bytes = this.views[align] ??= this.store.subarray(align, align + this.length);
    }
    target.set(this.bytes, at);
  }
}
