// Test harness: runs a frame consumer in a Worker thread (attachFrameStream there) and reports what it received.
import { Worker } from 'node:worker_threads';
import type { FrameStreamHandle } from '../frame-stream.js';

/** What the Worker consumer does with each frame. */
export interface WorkerConsumerOptions {
  /** Keep the first `hold` frames unreleased until `releaseHeld()` (default 0). */
  readonly hold?: number;
  /** Check that the first 4 data bytes hold the frame's sequence (little-endian u32). */
  readonly checkPattern?: boolean;
  /** Write 0xA5 at this data offset of every frame (proves the producer's memory is shared, not copied). */
  readonly markByte?: number;
  /** After the first release, try releasing again and reading `data`, and report the errors. */
  readonly probeErrors?: boolean;
  /** Frames recorded in detail (default 1000); `received` counts all. */
  readonly recordLimit?: number;
  /**
   * Stop reading (no `next()`, no `close()`) after this many frames until `resume()`: a consumer that
   * stalls with frames queued to it. Default: read on.
   */
  readonly readLimit?: number;
}

/** An error the Worker caught, reduced to cloneable fields. */
export interface CaughtError {
  readonly name: string;
  readonly code: string;
  readonly current: string;
}

/** What the Worker consumer received (first `recordLimit` frames in detail). */
export interface WorkerConsumerReport {
  received: number;
  sequences: number[];
  /** Presentation times as decimal strings (bigints are not worth a custom clone). */
  presentationTimes: string[];
  dropCounts: number[];
  bytesUsed: number[];
  statuses: number[];
  /** Frames whose first 4 bytes did not hold their sequence (with `checkPattern`). */
  patternErrors: number;
  /** Frames marked with `markByte`. */
  marked: number;
  releaseTwice: CaughtError | null;
  useAfterRelease: CaughtError | null;
  /** Reading a held frame that a stop had revoked (with `hold`, after `releaseHeld()`). */
  revokedAccess: CaughtError | null;
  /** `release()` calls of held frames that returned false (the frame had been revoked). */
  lateReleases: number;
  /** The stream's `staleReleases` at the end. */
  staleReleases: number;
}

type Message =
  | { type: 'ready' }
  | { type: 'holding'; count: number }
  | { type: 'consumed'; count: number }
  | { type: 'stalled'; count: number }
  | { type: 'released-held'; staleReleases: number }
  | { type: 'ended'; held: number }
  | { type: 'done'; report: WorkerConsumerReport }
  | { type: 'error'; message: string };

/**
 * A consumer running in a Worker. `start()` resolves once the Worker has attached the stream (so starting
 * the queue afterwards loses nothing); `report` resolves when the stream ended and nothing is held.
 */
export class WorkerConsumer {
  /** Resolves with the Worker's report when its stream ended and it holds nothing. */
  readonly report: Promise<WorkerConsumerReport>;
  /** Resolves when the Worker's iterator finished (it may still hold frames). */
  readonly ended: Promise<void>;
  private holdingCount = 0;
  private holdWaiters: Array<{ n: number; resolve: () => void }> = [];
  private consumedCount = 0;
  private consumeWaiters: Array<{ n: number; resolve: () => void }> = [];
  private stalledResolve: () => void = () => undefined;
  private releasedWaiters: Array<() => void> = [];
  /** Resolves when the Worker stopped reading at `readLimit`. */
  readonly stalled: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    ready: () => void,
    fail: (e: Error) => void,
  ) {
    let endResolve: () => void = () => undefined;
    this.ended = new Promise<void>((r) => (endResolve = r));
    this.stalled = new Promise<void>((r) => (this.stalledResolve = r));
    this.report = new Promise<WorkerConsumerReport>((resolve, reject) => {
      worker.on('message', (m: Message) => {
        if (m.type === 'ready') ready();
        else if (m.type === 'holding') {
          this.holdingCount = m.count;
          this.holdWaiters = this.holdWaiters.filter((w) => (w.n <= m.count ? (w.resolve(), false) : true));
        } else if (m.type === 'consumed') {
          this.consumedCount = m.count;
          this.consumeWaiters = this.consumeWaiters.filter((w) =>
            w.n <= m.count ? (w.resolve(), false) : true,
          );
        } else if (m.type === 'stalled') this.stalledResolve();
        else if (m.type === 'released-held') for (const w of this.releasedWaiters.splice(0)) w();
        else if (m.type === 'ended') endResolve();
        else if (m.type === 'done') resolve(m.report);
        else if (m.type === 'error') {
          const e = new Error(`worker consumer failed: ${m.message}`);
          fail(e);
          reject(e);
        }
      });
      worker.on('error', (e) => {
        fail(e);
        reject(e);
      });
    });
    // A failed report must not become an unhandled rejection when the caller only awaits `start`.
    this.report.catch(() => undefined);
  }

  /** Starts a Worker consumer on `handle` (from `KsQueue.shareStream()`); resolves once it is attached. */
  static start(handle: FrameStreamHandle, options: WorkerConsumerOptions = {}): Promise<WorkerConsumer> {
    const worker = new Worker(new URL('./frame-consumer-worker.js', import.meta.url), {
      workerData: { handle, options },
    });
    return new Promise<WorkerConsumer>((resolve, reject) => {
      const c: WorkerConsumer = new WorkerConsumer(worker, () => resolve(c), reject);
    });
  }

  /** Frames the Worker holds now (with `hold`). */
  get holding(): number {
    return this.holdingCount;
  }

  /** Resolves once the Worker holds at least `n` frames. */
  whenHolding(n: number): Promise<void> {
    if (this.holdingCount >= n) return Promise.resolve();
    return new Promise<void>((resolve) => this.holdWaiters.push({ n, resolve }));
  }

  /**
   * Resolves once the Worker is done with its first `n` frames: each released, or kept under
   * `hold`. The releases happened before this resolves, so the producer sees those slots free.
   */
  whenConsumed(n: number): Promise<void> {
    if (this.consumedCount >= n) return Promise.resolve();
    return new Promise<void>((resolve) => this.consumeWaiters.push({ n, resolve }));
  }

  /**
   * Asks the Worker to release the frames it holds (and every later one at once); resolves once it has
   * (a frame a stop revoked is then a stale release, counted in the report).
   */
  releaseHeld(): Promise<void> {
    const done = new Promise<void>((resolve) => this.releasedWaiters.push(resolve));
    this.worker.postMessage('release-held');
    return done;
  }

  /** Lets a Worker stalled at `readLimit` read on. */
  resume(): void {
    this.worker.postMessage('resume');
  }

  /** Stops the Worker (after `report`, or to clean up a failed test). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
