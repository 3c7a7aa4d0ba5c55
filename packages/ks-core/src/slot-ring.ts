// Lock-free single-producer/single-consumer ring of slot ids in a SharedArrayBuffer, for hand-off between threads.
/// <reference lib="es2024.sharedmemory" />

/** Structured-cloneable handle of a ring (`SlotRing.attach(handle)` in a Worker). */
export interface SlotRingHandle {
  readonly kind: 'ksemu.slot-ring';
  readonly buffer: SharedArrayBuffer;
}

// Control words. TAIL is written only by the producer; HEAD moves by compare-exchange (see pop).
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
const CONTROL_WORDS = 16;
const MAGIC = 0x4b535247; // 'KSRG'

/**
 * A bounded FIFO of ids pushed by exactly one producer thread. Head and tail are free-running int32
 * counters (the capacity is a power of two, so wrap-around is harmless); entries are published with
 * `Atomics.store` before the tail moves, so a reader never sees a torn entry. Popping moves the head by
 * compare-exchange, so the producer may drain the ring (e.g. at stop) while a consumer on another thread
 * pops too: each entry goes to exactly one of them.
 *
 * Waiting never blocks a thread: `signal()` + `waitAsync(seen)` use `Atomics.waitAsync`.
 * Contract: one thread calls `push`/`markEnd`. Consumers attach per epoch (`tryAttach`): one consumer at a
 * time, and the attachment lapses by itself at the next end mark.
 */
export class SlotRing {
  private readonly w: Int32Array;
  /** Entries the ring can hold (a power of two ≥ the requested capacity). */
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
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw new RangeError(`ring capacity must be an integer in 1…65536, got ${capacity}`);
    }
    let cap = 1;
    while (cap < capacity) cap *= 2;
    const buffer = new SharedArrayBuffer((CONTROL_WORDS + cap) * 4);
    const w = new Int32Array(buffer);
    w[R_MAGIC] = MAGIC;
    w[R_CAPACITY] = cap;
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
    if (w[R_MAGIC] !== MAGIC || cap < 1 || (cap & (cap - 1)) !== 0 || w.length !== CONTROL_WORDS + cap) {
      throw new TypeError('SharedArrayBuffer is not a ksemu slot ring');
    }
    return new SlotRing(handle.buffer);
  }

  /** Structured-cloneable handle. */
  share(): SlotRingHandle {
    return { kind: 'ksemu.slot-ring', buffer: this.w.buffer as SharedArrayBuffer };
  }

  /** Ids in the ring now (a snapshot). */
  get size(): number {
    return (Atomics.load(this.w, R_TAIL) - Atomics.load(this.w, R_HEAD)) | 0;
  }

  /** Producer side: appends an id; false (nothing written) when the ring is full. Wakes waiting consumers. */
  push(id: number): boolean {
    const tail = Atomics.load(this.w, R_TAIL);
    const head = Atomics.load(this.w, R_HEAD);
    if (((tail - head) | 0) >= this.capacity) return false;
    Atomics.store(this.w, CONTROL_WORDS + (tail & this.mask), id);
    Atomics.store(this.w, R_TAIL, (tail + 1) | 0);
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
    return true;
  }

  /** Removes and returns the oldest id, or -1 when the ring is empty. Safe against a concurrent pop. */
  pop(): number {
    for (;;) {
      const head = Atomics.load(this.w, R_HEAD);
      if (head === Atomics.load(this.w, R_TAIL)) return -1;
      const id = Atomics.load(this.w, CONTROL_WORDS + (head & this.mask));
      if (Atomics.compareExchange(this.w, R_HEAD, head, (head + 1) | 0) === head) return id;
    }
  }

  /**
   * Removes and returns the oldest id only if `(id & mask) === match`: -1 when the ring is empty, -2 when
   * the oldest id does not match (it stays). Safe against a concurrent pop.
   */
  popIf(mask: number, match: number): number {
    for (;;) {
      const head = Atomics.load(this.w, R_HEAD);
      if (head === Atomics.load(this.w, R_TAIL)) return -1;
      const id = Atomics.load(this.w, CONTROL_WORDS + (head & this.mask));
      if ((id & mask) !== match) {
        // Re-read: another popper may have taken that entry (and the cell been reused) meanwhile.
        if (Atomics.load(this.w, R_HEAD) === head) return -2;
        continue;
      }
      if (Atomics.compareExchange(this.w, R_HEAD, head, (head + 1) | 0) === head) return id;
    }
  }

  /** Producer side: records an end-of-stream mark (after the ids pushed so far) and wakes consumers. */
  markEnd(): void {
    Atomics.add(this.w, R_ENDS, 1);
    Atomics.add(this.w, R_SIGNAL, 1);
    Atomics.notify(this.w, R_SIGNAL);
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
