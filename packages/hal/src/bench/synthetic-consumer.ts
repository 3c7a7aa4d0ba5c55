// Worker side of the synthetic bench's consumer: takes each published slot, touches every page, releases it.
import { parentPort, workerData } from 'node:worker_threads';

/** Shared words of the producer/consumer handoff (Int32 indices in `control`). */
export const PUBLISHED = 0;
export const RELEASED = 1;
/** Non-zero while the consumer sleeps on PUBLISHED / the producer sleeps on RELEASED. */
export const CONSUMER_SLEEPING = 2;
export const PRODUCER_SLEEPING = 3;

/**
 * Loads of a changing word before a waiter goes to sleep (a few microseconds). A futex sleep and
 * wake costs 5–10 µs on this kind of VM, more than a small frame takes to render, so each side
 * first spins briefly, like an adaptive mutex; the other side then pays for Atomics.notify only
 * when someone really sleeps.
 */
const SPIN_LOADS = 4000;

/** What the bench posts to the consumer worker at start. */
export interface ConsumerSetup {
  readonly control: SharedArrayBuffer;
  readonly pool: SharedArrayBuffer;
  readonly slotStride: number;
  readonly frameBytes: number;
  readonly slots: number;
}

/**
 * Returns control[index] once it differs from `seen`: spins for a bounded number of loads, then
 * sleeps with `sleeper` set so the writer knows to notify (see {@link writeAndWake}).
 */
export function waitForChange(control: Int32Array, index: number, seen: number, sleeper: number): number {
  for (let i = 0; i < SPIN_LOADS; i++) {
    const v = Atomics.load(control, index);
    if (v !== seen) return v;
  }
  Atomics.store(control, sleeper, 1);
  // Re-read after announcing the sleep: a writer that missed the flag has already stored.
  let v = Atomics.load(control, index);
  while (v === seen) {
    Atomics.wait(control, index, seen);
    v = Atomics.load(control, index);
  }
  Atomics.store(control, sleeper, 0);
  return v;
}

/** Stores control[index] = value and wakes the other side if it announced a sleep on it. */
export function writeAndWake(control: Int32Array, index: number, value: number, sleeper: number): void {
  Atomics.store(control, index, value);
  if (Atomics.load(control, sleeper) !== 0) Atomics.notify(control, index);
}

function consume(setup: ConsumerSetup): void {
  const control = new Int32Array(setup.control);
  const pool = new Int32Array(setup.pool);
  const words = setup.frameBytes >> 2;
  let released = Atomics.load(control, RELEASED);
  let published = Atomics.load(control, PUBLISHED);
  let sink = 0;
  for (;;) {
    if (published === released) published = waitForChange(control, PUBLISHED, published, CONSUMER_SLEEPING);
    if (published < 0) break; // the bench's stop signal
    // Every published frame is read and released on its own, in order.
    const base = ((released % setup.slots) * setup.slotStride) >> 2;
    for (let k = 0; k < words; k += 1024) sink = (sink + pool[base + k]!) | 0;
    released++;
    writeAndWake(control, RELEASED, released, PRODUCER_SLEEPING);
  }
  parentPort?.postMessage(sink);
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object')
  consume(workerData as ConsumerSetup);
