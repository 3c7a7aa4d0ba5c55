// Worker side of the synthetic bench's consumer: takes each published slot, touches every page, releases it.
import { parentPort, workerData } from 'node:worker_threads';

/** Shared words of the producer/consumer handoff (Int32 indices in `control`). */
export const PUBLISHED = 0;
export const RELEASED = 1;

/** What the bench posts to the consumer worker at start. */
export interface ConsumerSetup {
  readonly control: SharedArrayBuffer;
  readonly pool: SharedArrayBuffer;
  readonly slotStride: number;
  readonly frameBytes: number;
  readonly slots: number;
}

function consume(setup: ConsumerSetup): void {
  const control = new Int32Array(setup.control);
  const pool = new Int32Array(setup.pool);
  const words = setup.frameBytes >> 2;
  let released = Atomics.load(control, RELEASED);
  let sink = 0;
  for (;;) {
    const published = Atomics.load(control, PUBLISHED);
    if (published < 0) break; // the bench's stop signal
    if (published === released) {
      Atomics.wait(control, PUBLISHED, published);
      continue;
    }
    const base = ((released % setup.slots) * setup.slotStride) >> 2;
    for (let k = 0; k < words; k += 1024) sink = (sink + pool[base + k]!) | 0;
    released++;
    Atomics.store(control, RELEASED, released);
    Atomics.notify(control, RELEASED);
  }
  parentPort?.postMessage(sink);
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object')
  consume(workerData as ConsumerSetup);
