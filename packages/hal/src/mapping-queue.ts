// The mappings programmed into a capture engine: a FIFO of plain numbers, and which slots it holds.
import { validateMappings, type DmaMapping, type FrameStatus, type PoolGeometry } from './capture-engine.js';
import { clearFrameInfo, type CompletionRecord, type CompletionRing } from './completion-ring.js';

/**
 * What a capture engine keeps of `program()` calls until each mapping completes: slot, offset,
 * length and cookie per mapping in a fixed ring (nothing retained from the caller's objects),
 * and a busy flag per slot so a slot cannot be programmed twice. The capacity equals the
 * engine's completion ring, so every queued mapping has room for its completion. Nothing here
 * allocates after construction except `resetPool`.
 */
export class MappingQueue {
  readonly capacity: number;
  private readonly slots: Int32Array;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private readonly cookies: Float64Array;
  private head = 0;
  private size = 0;
  private busy = new Uint8Array(0);

  /** @throws RangeError unless `capacity` is a positive integer. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.slots = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.cookies = new Float64Array(capacity);
  }

  /** Mappings queued (programmed and not yet completed). */
  get count(): number {
    return this.size;
  }

  /** Slots of the pool the queue was last reset for. */
  get slotCount(): number {
    return this.busy.length;
  }

  /** Starts over for a pool of `slotCount` slots. Callers reject this while mappings are queued. */
  resetPool(slotCount: number): void {
    if (this.size > 0) throw new RangeError(`${this.size} mappings are still queued`);
    this.busy = new Uint8Array(slotCount);
    this.head = 0;
  }

  /**
   * Appends `mappings` in order after checking all of them against `geometry` (nothing is
   * queued when one is bad). Borrows the array and its objects for the call only.
   * @throws TypeError/RangeError as {@link validateMappings}: a mapping outside its slot, a slot
   * already queued or given twice, or more mappings than the capacity leaves room for.
   */
  push(mappings: readonly DmaMapping[], geometry: PoolGeometry): void {
    validateMappings(mappings, geometry, this.busy, this.size, this.capacity);
    for (const m of mappings) {
      const at = (this.head + this.size) % this.capacity;
      this.slots[at] = m.slot;
      this.offsets[at] = m.offset;
      this.lengths[at] = m.length;
      this.cookies[at] = m.cookie;
      this.size++;
      this.busy[m.slot] = 1;
    }
  }

  /** The oldest mapping's slot (only while `count > 0`, as for the other head getters). */
  get headSlot(): number {
    return this.slots[this.head]!;
  }

  get headOffset(): number {
    return this.offsets[this.head]!;
  }

  get headLength(): number {
    return this.lengths[this.head]!;
  }

  get headCookie(): number {
    return this.cookies[this.head]!;
  }

  /** Removes the oldest mapping (it has completed); its slot may be programmed again. */
  shift(): void {
    if (this.size === 0) return;
    this.busy[this.slots[this.head]!] = 0;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  /**
   * Completes every queued mapping with `status` and no data, oldest first, publishing each
   * through `record` into `ring`; the queue is then empty. Returns how many were completed.
   */
  drain(status: FrameStatus, record: CompletionRecord, ring: CompletionRing): number {
    let drained = 0;
    while (this.size > 0) {
      record.cookie = this.headCookie;
      record.slot = this.headSlot;
      record.offset = this.headOffset;
      record.status = status;
      clearFrameInfo(record);
      this.shift();
      ring.publish(record);
      drained++;
    }
    return drained;
  }
}
