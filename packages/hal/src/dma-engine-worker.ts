// Worker thread of the synthetic PCIe card: consumes descriptors and renders due frames into host memory, raising interrupts.
import { parentPort } from 'node:worker_threads';
import type { PoolGeometry } from './capture-engine.js';
import {
  DescriptorFlag,
  DescriptorRing,
  DescriptorStatus,
  type DescriptorStatusCode,
} from './descriptor-ring.js';
import {
  FRAME_TAG_ENTRIES,
  MAX_POOL_SLOTS,
  PCIE_FORMAT_CODES,
  waitForChange,
  type DmaEngineRequest,
  type DmaVideoInput,
} from './dma-engine-abi.js';
import { FaultInjector, FrameFault } from './fault-plan.js';
import { ControlBit, InterruptBit, PcieRegister, PcieRegisters, StatusBit } from './pcie-registers.js';
import { createFramePainter, type FramePainter } from './frame-painter.js';
import { attachPoolMemory } from './pool-memory.js';

const port = parentPort;
if (port === null) throw new Error('dma-engine-worker must run in a worker thread');

/** Everything the engine knows about one stream, fixed at Enable. */
interface StreamSetup {
  readonly frameBytes: number;
  readonly painter: FramePainter;
  readonly ring: DescriptorRing;
  /** Frame index of frame 0 (FrameIndexBase registers). */
  readonly firstIndex: number;
  /** Scratch frame for chains of more than one descriptor (allocated at Enable, reused). */
  scratch: Uint8Array | undefined;
}

let regs: PcieRegisters | undefined;
let ringMemory: SharedArrayBuffer | undefined;
let tags: Int32Array | undefined;
let generations: Int32Array | undefined;
// What each slot holds from this engine: frame index, byte offset, input tag and the slot
// generation seen when it was written. A slot whose generation moved is drawn whole.
const slotFrame = new Float64Array(MAX_POOL_SLOTS).fill(-1);
const slotOffset = new Int32Array(MAX_POOL_SLOTS);
const slotTag = new Int32Array(MAX_POOL_SLOTS);
const slotGeneration = new Int32Array(MAX_POOL_SLOTS);
let input: DmaVideoInput | undefined;
let faults = new FaultInjector();
let memory: Uint8Array | undefined;
let geometry: PoolGeometry | undefined;
let stream: StreamSetup | undefined;
let running = false;
let linkDown = false;
let loopStarted = false;

port.on('message', (msg: DmaEngineRequest) => {
  switch (msg.type) {
    case 'init':
      regs = PcieRegisters.attach(msg.bar0);
      ringMemory = msg.ring;
      tags = new Int32Array(msg.tags);
      generations = new Int32Array(msg.slotGenerations);
      input = msg.input;
      faults = new FaultInjector(msg.faults);
      regs.deviceSetStatus(StatusBit.Ready);
      if (!loopStarted) {
        loopStarted = true;
        void engineLoop();
      }
      break;
    case 'map':
      // Pool memory is attached as a wasm memory here too (its buffer may be longer than the
      // pool's: this thread's scratch regions lie past it; offsets are the same).
      memory = new Uint8Array(msg.poolMemory !== undefined ? attachPoolMemory(msg.poolMemory) : msg.memory);
      geometry = msg.geometry;
      slotFrame.fill(-1);
      break;
    case 'sync':
      port.postMessage({ type: 'ack', id: msg.id });
      break;
  }
});

/** Waits for doorbells and services them until Control.Shutdown. */
async function engineLoop(): Promise<void> {
  const r = regs!;
  const bellIndex = PcieRegister.Doorbell >>> 2;
  for (;;) {
    const bell = Atomics.load(r.words, bellIndex);
    const control = r.read(PcieRegister.Control);
    if ((control & ControlBit.Shutdown) !== 0) break;
    service(r, control);
    // waitAsync, not wait: the worker must keep handling 'map' and 'sync' messages.
    const w = waitForChange(r.words, bellIndex, bell);
    if (typeof w !== 'string') await w;
  }
  if (running) goIdle(r);
  r.deviceClearStatus(StatusBit.Ready);
  port!.close();
}

function service(r: PcieRegisters, control: number): void {
  const enabled = (control & ControlBit.Enable) !== 0;
  if (enabled && !running && !linkDown) begin(r);
  if (running && enabled) captureDueFrames(r);
  if (running && (r.read(PcieRegister.Control) & ControlBit.Enable) === 0) goIdle(r);
}

function begin(r: PcieRegisters): void {
  const code = r.read(PcieRegister.FormatCode);
  const fourcc = PCIE_FORMAT_CODES[code];
  if (fourcc === undefined || memory === undefined || geometry === undefined || input === undefined) {
    // Enabling an unprogrammed card: real hardware would fault; we stay idle and say so.
    r.deviceRaise(InterruptBit.Idle);
    return;
  }
  const width = r.read(PcieRegister.FormatWidth);
  const height = r.read(PcieRegister.FormatHeight);
  const frameBytes = r.read(PcieRegister.FormatFrameBytes);
  const interval = BigInt(r.read(PcieRegister.FrameInterval));
  const ring = DescriptorRing.attach(
    ringMemory!,
    r.read(PcieRegister.RingBase),
    r.read(PcieRegister.RingSize),
  );
  const firstIndex =
    r.read(PcieRegister.FrameIndexBaseHigh) * 4294967296 + r.read(PcieRegister.FrameIndexBaseLow);
  stream = {
    frameBytes,
    painter: createFramePainter(input, fourcc, width, height, interval),
    ring,
    firstIndex,
    scratch: undefined,
  };
  // A new painter: nothing in the pool is known to be its output.
  slotFrame.fill(-1);
  running = true;
  r.deviceSetStatus(StatusBit.Running);
}

function goIdle(r: PcieRegisters): void {
  running = false;
  stream = undefined;
  // Latched before Running drops, so a driver that sees Running clear also sees why.
  r.deviceLatch(InterruptBit.Idle);
  r.deviceClearStatus(StatusBit.Running | StatusBit.Starved);
  r.deviceRaise(InterruptBit.Idle);
}

function captureDueFrames(r: PcieRegisters): void {
  const indexWord = PcieRegister.FrameIndex >>> 2;
  for (;;) {
    if (linkDown) return;
    const k = r.read(PcieRegister.FrameIndex);
    const due = r.read(PcieRegister.FrameDue);
    // FrameIndex at or past FrameDue: caught up. Past it only when the host reset the counters
    // under a frame in flight; that is not a backlog of 2^32 frames to drop, so wait for FrameDue.
    if (((due - k) | 0) <= 0) return;
    // Stop requests take effect between frames, as a real engine finishes the frame in flight.
    if ((r.read(PcieRegister.Control) & ControlBit.Enable) === 0) return;
    if ((due - k) >>> 0 > FRAME_TAG_ENTRIES) {
      // Input FIFO overrun: the engine fell this far behind, the frame is gone.
      dropStarved(r);
    } else {
      captureFrame(r, stream!, k, tags![k & (FRAME_TAG_ENTRIES - 1)]!);
    }
    if (linkDown) return;
    Atomics.store(r.words, indexWord, (k + 1) | 0);
    Atomics.notify(r.words, indexWord);
  }
}

function dropStarved(r: PcieRegisters): void {
  r.deviceAdd(PcieRegister.FramesDropped, 1);
  r.deviceSetStatus(StatusBit.Starved);
  r.deviceRaise(InterruptBit.FrameDropped);
}

/** Length of the complete chain at `head` (descriptors up to EndOfFrame), or 0 if none is posted. */
function chainLength(ring: DescriptorRing, head: number, available: number): number {
  for (let i = 0; i < available; i++) {
    if ((ring.flags(head + i) & DescriptorFlag.EndOfFrame) !== 0) return i + 1;
  }
  return 0;
}

function completeChain(
  ring: DescriptorRing,
  head: number,
  count: number,
  status: DescriptorStatusCode,
  bytes: number,
  sequence: number,
): void {
  let left = bytes;
  for (let i = 0; i < count; i++) {
    const n = Math.min(left, ring.length(head + i));
    left -= n;
    ring.complete(head + i, n, status, sequence);
  }
}

function captureFrame(r: PcieRegisters, s: StreamSetup, k: number, tag: number): void {
  const fault = faults.frameFault(k);
  const ring = s.ring;
  const head = r.read(PcieRegister.RingHead);
  const tail = r.read(PcieRegister.RingTail);
  if ((fault & FrameFault.Disconnect) !== 0) {
    disconnect(r, ring, head, tail, k);
    return;
  }
  const available = (tail - head) >>> 0;
  const chain =
    (fault & FrameFault.Starve) !== 0 ? 0 : chainLength(ring, head, Math.min(available, ring.size));
  if (chain === 0) {
    dropStarved(r);
    return;
  }
  if ((r.read(PcieRegister.Status) & StatusBit.Starved) !== 0) r.deviceClearStatus(StatusBit.Starved);
  let status: DescriptorStatusCode = DescriptorStatus.Done;
  let bytes = 0;
  if ((fault & FrameFault.Drop) !== 0) {
    status = DescriptorStatus.Dropped;
    r.deviceAdd(PcieRegister.FramesDiscarded, 1);
  } else {
    let room = 0;
    for (let i = 0; i < chain; i++) room += ring.length(head + i);
    if (room < s.frameBytes || !mappedInside(ring, head, chain)) {
      status = DescriptorStatus.Short;
      r.deviceAdd(PcieRegister.FramesShort, 1);
    } else {
      render(s, ring, head, chain, k, tag, (fault & FrameFault.Corrupt) !== 0);
      bytes = s.frameBytes;
      if ((fault & FrameFault.Corrupt) !== 0) {
        status = DescriptorStatus.Corrupted;
        r.deviceAdd(PcieRegister.FramesCorrupted, 1);
      }
    }
  }
  completeChain(ring, head, chain, status, bytes, k);
  Atomics.store(r.words, PcieRegister.RingHead >>> 2, (head + chain) | 0);
  if (status === DescriptorStatus.Done || status === DescriptorStatus.Corrupted) {
    r.deviceAdd(PcieRegister.FramesCompleted, 1);
  }
  r.deviceRaise(
    status === DescriptorStatus.Dropped
      ? InterruptBit.FrameDone | InterruptBit.FrameDropped
      : InterruptBit.FrameDone,
  );
}

/** Whether every fragment of the chain lies inside its slot's data (the IOMMU check). */
function mappedInside(ring: DescriptorRing, head: number, chain: number): boolean {
  const g = geometry!;
  for (let i = 0; i < chain; i++) {
    const slot = ring.slot(head + i);
    const end = ring.offset(head + i) + ring.length(head + i);
    if (slot >= g.slotCount || end > g.dataLength) return false;
  }
  return true;
}

function render(
  s: StreamSetup,
  ring: DescriptorRing,
  head: number,
  chain: number,
  k: number,
  tag: number,
  corrupt: boolean,
): void {
  const g = geometry!;
  const mem = memory!;
  const frameIndex = s.firstIndex + k;
  if (chain === 1) {
    const slot = ring.slot(head);
    const offset = ring.offset(head);
    const at = g.dataOffset + slot * g.slotStride + offset;
    const generation = Atomics.load(generations!, slot);
    const reusable =
      slotFrame[slot]! >= 0 &&
      slotOffset[slot] === offset &&
      slotTag[slot] === tag &&
      slotGeneration[slot] === generation;
    s.painter.paint(mem, at, frameIndex, tag, reusable ? slotFrame[slot]! : -1);
    if (corrupt) {
      FaultInjector.corrupt(mem, at, s.frameBytes, k);
      slotFrame[slot] = -1;
    } else {
      slotFrame[slot] = frameIndex;
      slotOffset[slot] = offset;
      slotTag[slot] = tag;
      slotGeneration[slot] = generation;
    }
    return;
  }
  // Scatter/gather: render once into scratch, then copy each fragment to its place.
  s.scratch ??= new Uint8Array(s.frameBytes);
  s.painter.paint(s.scratch, 0, frameIndex, tag, -1);
  if (corrupt) FaultInjector.corrupt(s.scratch, 0, s.frameBytes, k);
  let from = 0;
  for (let i = 0; i < chain && from < s.frameBytes; i++) {
    const n = Math.min(ring.length(head + i), s.frameBytes - from);
    const at = g.dataOffset + ring.slot(head + i) * g.slotStride + ring.offset(head + i);
    mem.set(s.scratch.subarray(from, from + n), at);
    slotFrame[ring.slot(head + i)] = -1;
    from += n;
  }
}

/** Surprise removal at frame k: every posted descriptor completes Disconnected, then the link is down. */
function disconnect(r: PcieRegisters, ring: DescriptorRing, head: number, tail: number, k: number): void {
  const posted = Math.min((tail - head) >>> 0, ring.size);
  for (let i = 0; i < posted; i++) ring.complete(head + i, 0, DescriptorStatus.Disconnected, k);
  Atomics.store(r.words, PcieRegister.RingHead >>> 2, (head + posted) | 0);
  linkDown = true;
  running = false;
  r.deviceLatch(InterruptBit.LinkDown | InterruptBit.FrameDone);
  r.deviceClearStatus(StatusBit.Running | StatusBit.Starved);
  r.deviceSetStatus(StatusBit.LinkDown);
  r.deviceRaise(InterruptBit.LinkDown | InterruptBit.FrameDone);
}
