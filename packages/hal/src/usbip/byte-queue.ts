// A FIFO of received byte chunks that hands out contiguous views without copying when a message lies in one chunk.

/**
 * Accumulates chunks as they arrive from a socket and lets a decoder look at and consume
 * the first bytes. `peek(n)` returns a view into the chunk when the `n` bytes lie in one chunk
 * (the common case) and copies only when they straddle chunks.
 *
 * Ownership: the queue keeps references to pushed chunks; callers must not modify a chunk after
 * pushing it. Views returned by `peek` stay valid after `consume` (they are never reused).
 */
export class ByteQueue {
  readonly #chunks: Uint8Array[] = [];
  #head = 0; // offset of the first unread byte in #chunks[0]
  #length = 0;

  /** Number of unread bytes. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk (borrowed; empty chunks are ignored). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The first `n` bytes as one contiguous view. Throws RangeError when fewer are queued. */
  peek(n: number): Uint8Array {
    if (n > this.#length || n < 0) throw new RangeError(`peek(${n}) with ${this.#length} bytes queued`);
    const first = this.#chunks[0];
    if (n === 0 || first === undefined) return new Uint8Array(0);
    if (first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let head = this.#head;
    for (const c of this.#chunks) {
      const take = Math.min(c.length - head, n - filled);
      out.set(c.subarray(head, head + take), filled);
      filled += take;
      head = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Drops the first `n` bytes. Throws RangeError when fewer are queued. */
  consume(n: number): void {
    if (n > this.#length || n < 0) throw new RangeError(`consume(${n}) with ${this.#length} bytes queued`);
    this.#length -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      const left = first.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** Takes the first `n` bytes: `peek(n)` then `consume(n)`. */
  take(n: number): Uint8Array {
    const v = this.peek(n);
    this.consume(n);
    return v;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#chunks.length = 0;
    this.#head = 0;
    this.#length = 0;
  }
}
