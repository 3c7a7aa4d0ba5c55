// Lock-free multi-producer/multi-consumer ring of slot ids in a SharedArrayBuffer, for hand-off between threads.
/// <reference lib="es2024.sharedmemory" />

/** Structured-cloneable handle of a ring (`SlotRing.attach(handle)` in a Worker). */
export interface SlotRingHandle {
  readonly kind: 'ksemu.slot-ring';
  readonly buffer: SharedArrayBuffer;
}

// Control words. HEAD and TAIL are free-running int32 positions, each moved by compare-exchange.
const R_MAGIC = 0;
const R_CAPACITY = 1;
const R_HEAD = 2;
const R_TAIL = 3;
/** Bumped on every push and every end-of-stream mark; the word consumers wait on. */
const R_SIGNAL = 4;
/** Count of end-of-stream marks so far: the consumer epoch (a consumer's stream ends at the next mark). */
const R_ENDS = 5;
/** Consumer lock: 0 none, else 1 + the epoch of the attached consumer (stale once that epoch ended). */
const R_LOCK = 6;
/** Pushes refused because the ring was full, as reported by `markOverflow` (see there). */
const R_OVERFLOWS = 7;
const CONTROL_WORDS = 16;
const MAGIC = 0x4b535248; // 'KSRH': cells of two words (sequence, id) since the ring became multi-producer
// Cell i is two words after the control block: its sequence word, then its id.
const CELL_WORDS = 2;

/**
 * A bounded FIFO of ids in a SharedArrayBuffer, safe for several pushing and several popping threads
 * (after Vyukov's bounded MPMC queue). Head and tail are free-running int32 positions (the capacity is a
 * power of two, so wrap-around is harmless), each moved by compare-exchange, so two threads never claim the
 * same position. Every cell carries a sequence word that says whose turn it is:
 *
 * - `seq === pos`: free for the push of position `pos`;
 * - `seq === pos + 1`: holds the id pushed at `pos`, ready for the pop of `pos`;
 * - `seq === pos + capacity`: popped, free for the push one lap later.
 *
 * A push claims `pos` (tail CAS), writes the id, then publishes it by storing `pos + 1`; a pop claims `pos`
 * (head CAS) only when the cell is published, reads the id, then frees the cell for the next lap. A reader
 * therefore never sees a torn or half-written entry, and two pushers can never write the same cell (the
 * single-writer ring this replaces lost one of two concurrent releases). A push whose publication is still
 * in progress on another thread reads as "empty" at that position: later entries wait behind it, none is
 * lost; likewise a pop still freeing its cell makes the push one lap later find the ring full (size rings
 * with room to spare). Nothing allocates; no operation waits for another thread (a conflicting CAS only
 * retries).
 *
 * Waiting never blocks a thread: `signal()` + `waitAsync(seen)` use `Atomics.waitAsync`.
 * Consumers of a stream attach per epoch (`tryAttach`): one consumer at a time, and the attachment lapses by
 * itself at the next end mark; `markEnd` is meant for one (the producer's) thread.
 */
export class SlotRing {
  private readonly w: Int32Array;
  /** Entries the ring can hold (a power of two ≥ the requested capacity, at least 2). */
  readonly capacity: number;
  private readonly mask: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.capacity = this.w[R_CAPACITY] ?? 0;
    this.mask = this.capacity - 1;
  }

  /**
   * Allocates a ring that can hold at least `capacity` ids.
   * @throws RangeError when capacity is not in 1…65536.
   */
  static create(capacity: number): SlotRing {
    return SlotRing.createAt(capacity, 0);
  }

  /**
   * @internal Like `create`, with both positions starting at `start` (tests reach int32 wrap-around fast).
   * @throws RangeError when capacity is not in 1…65536 or start is not an int32.
   */
  static createAt(capacity: number, start: number): SlotRing {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw new RangeError(`ring capacity must be an integer in 1…65536, got ${capacity}`);
    }
    if (!Number.isInteger(start) || (start | 0) !== start) {
      throw new RangeError(`ring start must be an int32, got ${start}`);
    }
    // At least two cells: with one, a published entry (seq pos + 1) would read as free for the next lap.
    let cap = 2;
    while (cap < capacity) cap *= 2;
    const buffer = new SharedArrayBuffer((CONTROL_WORDS + CELL_WORDS * cap) * 4);
    const w = new Int32Array(buffer);
    w[R_MAGIC] = MAGIC;
    w[R_CAPACITY] = cap;
    w[R_HEAD] = start;
    w[R_TAIL] = start;
    // Position start + k (k < cap) is free for its push: its cell's sequence is the position itself.
    for (let k = 0; k < cap; k++) {
      const pos = (start + k) | 0;
      w[CONTROL_WORDS + CELL_WORDS * (pos & (cap - 1))] = pos;
    }
    return new SlotRing(buffer);
  }

  /**
   * Opens the other end of a ring from its handle.
   * @throws TypeError when the handle is not a slot-ring handle.
   */
  static attach(handle: SlotRingHandle): SlotRing {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ksemu.slot-ring') {
      throw new TypeError('not a slot-ring handle');
    }
    const b: unknown = handle.buffer;
    if (Object.prototype.toString.call(b) !== '[object SharedArrayBuffer]') {
      throw new TypeError('slot-ring handle has no SharedArrayBuffer');
    }
    const w = new Int32Array(handle.buffer);
    const cap = w[R_CAPACITY] ?? 0;
    if (
      w[R_MAGIC] !== MAGIC ||
      cap < 2 ||
      (cap & (cap - 1)) !== 0 ||
      w.length !== CONTROL_WORDS + CELL_WORDS * cap
    ) {
      throw new TypeError('SharedArrayBuffer is not a ksemu slot ring');
    }
    return new SlotRing(handle.buffer);
  }

  /** Structured-cloneable handle. */
  share(): SlotRingHandle {
    return { kind: 'ksemu.slot-ring', buffer: this.w.buffer as SharedArrayBuffer };
  }

  /**
   * Ids in the ring now (a snapshot; a push still publishing on another thread already counts).
   */
  get size(): number {
    return (Atomics.load(this.w, R_TAIL) - Atomics.load(this.w, R_HEAD)) | 0;
  }

  /**
   * Appends an id; false (nothing written) when the ring is full. Safe against concurrent pushes and pops
   * on other threads. Wakes waiting consumers. No allocation.
   */
  push(id: number): boolean {
    const pos = this.reserve();
    if (pos === null) return false;
    this.publish(pos, id);
    return true;
  }

  /**
   * @internal First half of `push`: claims the next tail position, or null when the ring is full. The
   * caller must `publish(pos, id)` it; until then the position (and every later one) reads as empty.
   * Split out so a model test can interleave a preempted pusher with other pushes and pops.
   */
  reserve(): number | null {
    const w = this.w;
    for (;;) {
      const pos = Atomics.load(w, R_TAIL);
      const seq = Atomics.load(w, CONTROL_WORDS + CELL_WORDS * (pos & this.mask));
      const lag = (seq - pos) | 0;
      if (lag === 0) {
        if (Atomics.compareExchange(w, R_TAIL, pos, (pos + 1) | 0) === pos) return pos;
        continue; // another pusher claimed pos first
      }
      // lag < 0: the cell still holds the entry of the previous lap (or its pop is finishing): full.
      if (lag < 0) return null;
      // lag > 0: another pusher claimed pos after our load of the tail; look again. With the tail still at
      // pos the words are corrupt: refuse rather than spin.
      if (Atomics.load(w, R_TAIL) === pos) return null;
    }
  }

  /** @internal Second half of `push`: writes the id of a position `reserve` returned and publishes it. */
  publish(pos: number, id: number): void {
    const cell = CONTROL_WORDS + CELL_WORDS * (pos & this.mask);
    Atomics.store(this.w, cell + 1, id);
    Atomics.store(this.w, cell, (pos + 1) | 0);
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
  }

  /**
   * Removes and returns the oldest id, or -1 when the ring is empty (or its oldest push is still being
   * published on another thread). Safe against concurrent pops and pushes.
   */
  pop(): number {
    return this.popIf(0, 0);
  }

  /**
   * Removes and returns the oldest id only if `(id & mask) === match`: -1 when the ring is empty (as for
   * `pop`), -2 when the oldest id does not match (it stays). Safe against concurrent pops and pushes.
   */
  popIf(mask: number, match: number): number {
    const w = this.w;
    for (;;) {
      const pos = Atomics.load(w, R_HEAD);
      const cell = CONTROL_WORDS + CELL_WORDS * (pos & this.mask);
      const seq = Atomics.load(w, cell);
      const lag = (seq - ((pos + 1) | 0)) | 0;
      if (lag < 0) return -1; // not published yet: empty at this position
      if (lag > 0) {
        // Another popper took pos after our load of the head (head still at pos: corrupt words, do not spin).
        if (Atomics.load(w, R_HEAD) === pos) return -1;
        continue;
      }
      // Read before claiming: the id is the one published at pos as long as the head is still pos (only
      // the pop of pos frees the cell for reuse), which the CAS below confirms.
      const id = Atomics.load(w, cell + 1);
      if ((id & mask) !== match) {
        if (Atomics.load(w, R_HEAD) === pos) return -2;
        continue; // the entry was taken meanwhile; the new head may match
      }
      if (Atomics.compareExchange(w, R_HEAD, pos, (pos + 1) | 0) === pos) {
        // Free the cell for the push one lap later.
        Atomics.store(w, cell, (pos + this.capacity) | 0);
        return id;
      }
    }
  }

  /** Producer side (one thread): records an end-of-stream mark (after the ids pushed so far) and wakes consumers. */
  markEnd(): void {
    Atomics.add(this.w, R_ENDS, 1);
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
  }

  /**
   * Any thread: records that a push was refused because the ring was full, and wakes waiters. A ring
   * of hints (such as released slot ids) uses it so the popping side learns that an id is missing and
   * rescans instead of losing it.
   */
  markOverflow(): void {
    Atomics.add(this.w, R_OVERFLOWS, 1);
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
  }

  /** Overflows recorded so far (`markOverflow`); compare with the count seen last time. */
  get overflows(): number {
    return Atomics.load(this.w, R_OVERFLOWS);
  }

  /** Either side: wakes every `waitAsync` waiter without changing the contents (e.g. a consumer closing). */
  wake(): void {
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
  }

  /** End-of-stream marks so far; a consumer compares it with the count it saw when it attached. */
  get ends(): number {
    return Atomics.load(this.w, R_ENDS);
  }

  /** Change counter to pass to `waitAsync` (read it BEFORE checking for work, then wait on it). */
  signal(): number {
    return Atomics.load(this.w, R_SIGNAL);
  }

  /**
   * Resolves once the ring changed since `seen` (a value from `signal()`); at once if it already has.
   * Never blocks the thread.
   */
  waitAsync(seen: number): Promise<unknown> | undefined {
    const r = Atomics.waitAsync(this.w, R_SIGNAL, seen);
    return r.async ? r.value : undefined;
  }

  /**
   * Attaches the consumer of epoch `epoch` (an `ends` value): false when a consumer of the current epoch
   * is attached. A consumer of an epoch that has ended no longer counts (it is detached by the end mark).
   */
  tryAttach(epoch: number): boolean {
    for (;;) {
      const lock = Atomics.load(this.w, R_LOCK);
      if (lock !== 0 && lock - 1 === Atomics.load(this.w, R_ENDS)) return false;
      if (Atomics.compareExchange(this.w, R_LOCK, lock, epoch + 1) === lock) return true;
    }
  }

  /** Detaches the consumer of `epoch` (nothing happens when another consumer holds the lock now). */
  detach(epoch: number): void {
    Atomics.compareExchange(this.w, R_LOCK, epoch + 1, 0);
  }

  /** True while a consumer of the current epoch is attached. */
  get attached(): boolean {
    const lock = Atomics.load(this.w, R_LOCK);
    return lock !== 0 && lock - 1 === Atomics.load(this.w, R_ENDS);
  }
}
