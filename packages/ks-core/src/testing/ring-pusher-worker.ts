// Worker entry for the multi-producer SlotRing test: waits for a shared start gate, then pushes its ids as fast as it can.
import { parentPort, workerData } from 'node:worker_threads';
import { SlotRing } from '../slot-ring.js';
import type { SlotRingHandle } from '../slot-ring.js';

/** What the test passes in `workerData`. */
export interface RingPusherData {
  readonly ring: SlotRingHandle;
  /** Word 0: start gate (0 closed, 1 open). Word 1: bumped by the popper after every batch of pops. */
  readonly gate: SharedArrayBuffer;
  /** This pusher pushes `first + k * stride` for k = 0 … count-1, in that order. */
  readonly first: number;
  readonly stride: number;
  readonly count: number;
}

const GATE = 0;
const POPPED = 1;

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('ring-pusher-worker must run in a Worker');
  const { ring: handle, gate, first, stride, count } = workerData as RingPusherData;
  const ring = SlotRing.attach(handle);
  const g = new Int32Array(gate);
  // Both pushers start together so their pushes overlap as much as the machine allows.
  while (Atomics.load(g, GATE) === 0) Atomics.wait(g, GATE, 0);
  let fullWaits = 0;
  for (let k = 0; k < count; k++) {
    const id = first + k * stride;
    while (!ring.push(id)) {
      // Full: sleep until the popper has popped again (it bumps POPPED after each batch). Reading the
      // counter before the retry closes the window where the pops happen between the retry and the wait.
      const seen = Atomics.load(g, POPPED);
      if (ring.push(id)) break;
      fullWaits++;
      Atomics.wait(g, POPPED, seen);
    }
  }
  port.postMessage({ type: 'done', fullWaits });
}

main();
