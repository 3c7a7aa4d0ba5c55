// Little-endian writers of the KS structures the TV property sets return (ULONG fields, KSPIN_MEDIUM).
import { guidToBytes, type Medium } from '@ksemu/ks-core';

/** Bytes of a KSPIN_MEDIUM: GUID Set, ULONG Id, ULONG Flags. */
export const MEDIUM_BYTES = 24;

/** Builds a structure of `size` bytes: ULONGs and mediums written in order. */
export class KsStruct {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  ulong(v: number): this {
    this.#view.setUint32(this.#at, v >>> 0, true);
    this.#at += 4;
    return this;
  }

  medium(m: Medium): this {
    guidToBytes(m.set, this.bytes, this.#at);
    this.#view.setUint32(this.#at + 16, m.id >>> 0, true);
    this.#view.setUint32(this.#at + 20, m.flags >>> 0, true);
    this.#at += MEDIUM_BYTES;
    return this;
  }
}

/** Reads ULONG `index` of a structure. */
export function ulongAt(bytes: Uint8Array, index: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(index * 4, true);
}
