// Benchmarks of the synthetic PCIe card: real-time 1080p60 with a consuming main thread, and unpaced DMA throughput beside memcpy-class peers.
import { FrameStatus, type PoolGeometry } from '../capture-engine.js';
import { emptyCompletionRecord } from '../completion-ring.js';
import { SyntheticPcieCard, type PcieCardSession } from '../pcie-card.js';
import type { PcieCaptureEngine } from '../pcie-capture-engine.js';
import { PatternRenderer } from '../pattern-renderer.js';
import { createPoolMemory } from '../pool-memory.js';
import { imageLayout, type VideoFormat } from '../pixel-format.js';
import { ManualTimeSource, SystemTimeSource, type TimeSource } from '../time-source.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const FORMAT_60: VideoFormat = { fourcc: 'YUY2', width: 1920, height: 1080, interval: 166_667n };
const FRAME_BYTES = imageLayout('YUY2', 1920, 1080).imageSize;
const SLOTS = 8;
const STRIDE = (FRAME_BYTES + 4095) & ~4095;

interface Rig {
  session: PcieCardSession;
  engine: PcieCaptureEngine;
  memory: SharedArrayBuffer;
  clock: TimeSource;
}

async function openRig(clock: TimeSource): Promise<Rig> {
  const card = new SyntheticPcieCard({ pattern: 'moving-box' });
  const session = await card.open({ timeSource: clock });
  const engine = session.pcieEngine();
  const geometry: PoolGeometry = {
    slotCount: SLOTS,
    dataOffset: 0,
    slotStride: STRIDE,
    dataLength: FRAME_BYTES,
  };
  // Pool memory as the webcam minidriver allocates it (createPoolMemory): the DMA worker renders
  // into it with native copies.
  const memory = createPoolMemory(SLOTS * STRIDE);
  engine.configure(FORMAT_60);
  engine.registerPool(geometry, memory);
  return { session, engine, memory, clock };
}

const allSlots = () =>
  Array.from({ length: SLOTS }, (_, slot) => ({ slot, offset: 0, length: FRAME_BYTES, cookie: slot }));
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

/**
 * The consumer: reads every completed frame (a checksum over one byte per 4 KiB, so the data
 * is touched) and hands the slot back. Returns counters and an unsubscribe function.
 */
function consume(r: Rig, onFrame?: () => void, invalidate = false) {
  const rec = emptyCompletionRecord();
  const bytes = new Uint8Array(r.memory);
  const c = { seen: r.engine.completions.count, ok: 0, other: 0, checksum: 0 };
  const off = r.engine.onCompletion((count) => {
    for (; c.seen !== count; c.seen = (c.seen + 1) >>> 0) {
      if (!r.engine.completions.read(c.seen, rec)) continue;
      if (rec.status === FrameStatus.Ok) {
        c.ok++;
        const base = rec.slot * STRIDE;
        for (let i = 0; i < FRAME_BYTES; i += 4096) c.checksum = (c.checksum + bytes[base + i]!) | 0;
      } else c.other++;
      if (r.engine.state === 'running') {
        // An owner that wrote into the slot would say so; this makes the engine redraw it whole.
        if (invalidate) r.engine.invalidateSlot(rec.slot);
        r.engine.program([{ slot: rec.slot, offset: 0, length: FRAME_BYTES, cookie: rec.slot }]);
      }
      onFrame?.();
    }
  });
  return { c, off };
}

function pacedCase(): BenchCase {
  let rig: Rig | undefined;
  return {
    name: 'PCIe card 1080p60 YUY2, real-time pacing, main-thread consumer',
    group: 'YUY2 1920x1080 @ 60 fps paced',
    unit: 'fps',
    better: 'higher',
    fixedIterations: 180,
    async setup() {
      rig = await openRig(new SystemTimeSource());
    },
    async teardown() {
      await rig?.session.close();
    },
    async run(frames) {
      const r = rig!;
      const { c, off } = consume(r);
      r.engine.program(allSlots());
      const before = r.engine.stats();
      const t0 = process.hrtime.bigint();
      await r.engine.start();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (r.engine.stats().framesProduced - before.framesProduced >= frames) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      const s = seconds(t0);
      await r.engine.stop();
      off();
      const after = r.engine.stats();
      const starved = after.framesStarved - before.framesStarved;
      const dropped = after.framesDropped - before.framesDropped;
      return { seconds: s, value: c.ok / s, extra: { frames: c.ok, starved, dropped, target: 60 } };
    },
  };
}

function unpacedCase(fullRedraw: boolean): BenchCase {
  let rig: Rig | undefined;
  let clock: ManualTimeSource | undefined;
  return {
    name: fullRedraw
      ? 'PCIe card DMA worker, unpaced, 8 in flight, full redraw (every slot invalidated)'
      : 'PCIe card DMA worker, unpaced, 8 in flight, slot reuse (dirty regions)',
    group: 'YUY2 1920x1080 frame into pool memory',
    unit: 'fps',
    better: 'higher',
    async setup() {
      clock = new ManualTimeSource(0n);
      rig = await openRig(clock);
    },
    async teardown() {
      await rig?.session.close();
    },
    async run(frames) {
      const r = rig!;
      const m = clock!;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      let delivered = 0;
      // Each completion declares one more frame due, so the worker always has work queued.
      const { c, off } = consume(
        r,
        () => {
          delivered++;
          if (delivered >= frames) done();
          else if (delivered + SLOTS <= frames) m.advance(FORMAT_60.interval);
        },
        fullRedraw,
      );
      r.engine.program(allSlots());
      const t0 = process.hrtime.bigint();
      await r.engine.start({ startTime: m.now() });
      m.advance(BigInt(Math.min(SLOTS, frames) - 1) * FORMAT_60.interval);
      await finished;
      const s = seconds(t0);
      await r.engine.stop();
      off();
      return { seconds: s, value: frames / s, extra: { ok: c.ok, other: c.other } };
    },
  };
}

function memcpyPeer(): BenchCase {
  const ring = Array.from({ length: 4 }, () => new Uint8Array(new SharedArrayBuffer(FRAME_BYTES)));
  const src = new Uint8Array(FRAME_BYTES).fill(0x80);
  return {
    name: 'Uint8Array.prototype.set of a frame into a 4-slot SAB ring (memcpy class)',
    group: 'YUY2 1920x1080 frame into pool memory',
    unit: 'fps',
    better: 'higher',
    peer: true,
    async run(frames) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < frames; i++) ring[i & 3]!.set(src);
      const s = seconds(t0);
      return { seconds: s, value: frames / s };
    },
  };
}

function rendererPeer(): BenchCase {
  const memory = new Uint8Array(createPoolMemory(4 * STRIDE));
  const renderer = new PatternRenderer({ pattern: 'moving-box', overlay: true }, FORMAT_60);
  return {
    name: 'PatternRenderer on the main thread, full render (no worker, no ring)',
    group: 'YUY2 1920x1080 frame into pool memory',
    unit: 'fps',
    better: 'higher',
    peer: true,
    async run(frames) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < frames; i++) renderer.render(memory, (i & 3) * STRIDE, FRAME_BYTES, i, -1);
      const s = seconds(t0);
      return { seconds: s, value: frames / s };
    },
  };
}

const suite: BenchSuite = {
  name: 'pcie',
  async cases() {
    return [pacedCase(), unpacedCase(false), unpacedCase(true), memcpyPeer(), rendererPeer()];
  },
};

export default suite;
