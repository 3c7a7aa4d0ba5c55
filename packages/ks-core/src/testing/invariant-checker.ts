// Stream invariant checker: watches a KsQueue (and optionally its consumer) for ordering, timing, drop and balance violations.
import type { KsQueue, QueueObserver } from '../queue.js';
import { FrameFlags } from '../stream-header.js';

/** The rule a violation broke. */
export type StreamRule =
  | 'sequence' // sequence numbers must strictly increase within a run
  | 'time' // presentation times strictly increase, each start + n × period of the run; duration positive
  | 'after-stop' // nothing is delivered after stop() was called
  | 'drops' // drop count is cumulative and matches the gaps in the sequence; discontinuity flagged
  | 'bytes' // bytesUsed within the slot
  | 'balance' // every slot free when the run is over
  | 'consumer'; // the consumer saw frames out of order or after the stream ended

/** One broken invariant, with enough context to find the frame. */
export interface StreamViolation {
  readonly rule: StreamRule;
  readonly message: string;
  readonly sequence?: number;
  readonly slot?: number;
}

/** Thrown by `assertClean()`; lists every violation. */
export class StreamInvariantError extends Error {
  override readonly name = 'StreamInvariantError';
  constructor(readonly violations: readonly StreamViolation[]) {
    super(
      `${violations.length} stream invariant violation(s):\n` +
        violations.map((v) => `  [${v.rule}] ${v.message}`).join('\n'),
    );
  }
}

/**
 * Checks the invariants every capture stream must keep, per run (start → stop):
 * monotonic sequence and presentation time (each `start + n × period` on the run's time base, also after a
 * PAUSE→RUN), no frame delivered after stop, drop accounting (cumulative drop
 * count equals the gaps in the sequence, DataDiscontinuity exactly when it grows), bytesUsed within the
 * slot, and buffer balance (every slot free once stopped). Attach it to a queue before starting it; feed
 * consumer-side observations with `consumerSaw` to check what a (possibly Worker) consumer received; end
 * each test with `checkBalance()` and `assertClean()`.
 */
export class StreamInvariantChecker implements QueueObserver {
  private readonly list: StreamViolation[] = [];
  private queues: KsQueue[] = [];
  private stopCalled = false;
  private running = false;
  private lastSequence = -1;
  private lastTime: bigint | undefined;
  private lastDrops = 0;
  private firstIndex = 0;
  private consumerLastSequence = -1;
  /** Frames delivered over all runs. */
  deliveredCount = 0;
  /** Runs started. */
  runs = 0;

  /** Violations collected so far. */
  get violations(): readonly StreamViolation[] {
    return this.list;
  }

  /** Starts watching `queue`; returns a function that stops watching. */
  attach(queue: KsQueue): () => void {
    this.queues.push(queue);
    const off = queue.observe(this);
    return () => {
      off();
      this.queues = this.queues.filter((q) => q !== queue);
    };
  }

  /** @internal QueueObserver */
  started(queue: KsQueue): void {
    this.runs++;
    this.running = true;
    this.stopCalled = false;
    this.lastSequence = -1;
    this.lastTime = undefined;
    this.lastDrops = 0;
    this.firstIndex = queue.currentTiming.firstIndex;
    this.consumerLastSequence = -1;
  }

  /** @internal QueueObserver */
  delivered(queue: KsQueue, slot: number): void {
    const h = queue.headers;
    const seq = h.sequence(slot);
    const drops = h.dropCount(slot);
    const flags = h.flags(slot);
    this.deliveredCount++;
    if (this.stopCalled || !this.running) {
      this.violate('after-stop', `frame ${seq} (slot ${slot}) delivered after stop()`, seq, slot);
    }
    const expectedPrev = this.lastSequence < 0 ? this.firstIndex - 1 : this.lastSequence;
    if (seq <= this.lastSequence) {
      this.violate('sequence', `sequence ${seq} after ${this.lastSequence}`, seq, slot);
    } else {
      const gap = seq - expectedPrev - 1;
      if (drops - this.lastDrops !== gap) {
        this.violate(
          'drops',
          `sequence ${seq} after ${expectedPrev} skips ${gap} frame(s) but the drop count went ${this.lastDrops} → ${drops}`,
          seq,
          slot,
        );
      }
    }
    if (drops < this.lastDrops)
      this.violate('drops', `drop count fell ${this.lastDrops} → ${drops}`, seq, slot);
    const discontinuity = (flags & FrameFlags.DataDiscontinuity) !== 0;
    if (discontinuity !== drops > this.lastDrops) {
      this.violate(
        'drops',
        `DataDiscontinuity is ${discontinuity ? 'set' : 'clear'} but the drop count went ${this.lastDrops} → ${drops}`,
        seq,
        slot,
      );
    }
    if ((flags & FrameFlags.TimeValid) !== 0) {
      const t = h.presentationTime(slot);
      if (this.lastTime !== undefined && t <= this.lastTime) {
        this.violate('time', `presentation time ${t} after ${this.lastTime}`, seq, slot);
      }
      // Computed from the index on the run's one time base (also across PAUSE→RUN), never accumulated.
      const { start, period } = queue.currentTiming;
      const expected = start + BigInt(seq) * period;
      if (t !== expected) {
        this.violate(
          'time',
          `presentation time ${t} of frame ${seq} is not start + n × period = ${expected}`,
          seq,
          slot,
        );
      }
      this.lastTime = t;
    }
    if ((flags & FrameFlags.DurationValid) !== 0 && h.duration(slot) <= 0n) {
      this.violate('time', `duration ${h.duration(slot)} is not positive`, seq, slot);
    }
    const bytes = h.bytesUsed(slot);
    if (bytes < 0 || bytes > queue.pool.layout.dataBytes) {
      this.violate('bytes', `bytesUsed ${bytes} outside 0…${queue.pool.layout.dataBytes}`, seq, slot);
    }
    this.lastSequence = Math.max(this.lastSequence, seq);
    this.lastDrops = Math.max(this.lastDrops, drops);
  }

  /** @internal QueueObserver */
  stopping(): void {
    this.stopCalled = true;
  }

  /** @internal QueueObserver */
  stopped(queue: KsQueue): void {
    this.running = false;
    if (queue.pool.outstanding !== 0) {
      this.violate('balance', `${queue.pool.outstanding} slot(s) not free after stop`);
    }
  }

  /**
   * Records what a consumer received (call it for every frame a main-thread or Worker consumer saw, in
   * order). `streamEnded` true means the consumer's iterator had already finished.
   */
  consumerSaw(sequence: number, streamEnded = false): void {
    if (streamEnded)
      this.violate('consumer', `consumer received frame ${sequence} after its stream ended`, sequence);
    if (sequence <= this.consumerLastSequence) {
      this.violate(
        'consumer',
        `consumer received sequence ${sequence} after ${this.consumerLastSequence}`,
        sequence,
      );
    }
    this.consumerLastSequence = sequence;
  }

  /**
   * Checks buffer balance now: every attached queue stopped and every slot of its pool free. Call it at the
   * end of each test.
   */
  checkBalance(): void {
    for (const q of this.queues) {
      if (q.pool.outstanding !== 0) {
        const c = q.pool.census();
        this.violate(
          'balance',
          `${q.name}: ${q.pool.outstanding} slot(s) outstanding (queued ${c.queued}, mapped ${c.mapped}, filled ${c.filled}, held ${c.held})`,
        );
      }
    }
  }

  /** Throws `StreamInvariantError` listing every violation collected, if any. */
  assertClean(): void {
    if (this.list.length > 0) throw new StreamInvariantError([...this.list]);
  }

  private violate(rule: StreamRule, message: string, sequence?: number, slot?: number): void {
    const v: StreamViolation = {
      rule,
      message,
      ...(sequence === undefined ? {} : { sequence }),
      ...(slot === undefined ? {} : { slot }),
    };
    // Collected, not thrown: the queue catches (and only logs) errors thrown from its observers.
    this.list.push(v);
  }
}
