// Tests the synthetic PCIe card end to end: worker DMA into pool memory, pacing on a manual clock, starvation, faults, shutdown.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FrameFlag, FrameStatus, type PoolGeometry } from './capture-engine.js';
import { emptyCompletionRecord, type CompletionRecord } from './completion-ring.js';
import type { FaultPlan } from './fault-plan.js';
import { FaultInjector, FrameFault } from './fault-plan.js';
import { isHalError } from './hal-error.js';
import { SyntheticPcieCard, type PcieCardSession } from './pcie-card.js';
import type { PcieCaptureEngine } from './pcie-capture-engine.js';
import { PcieRegister, StatusBit } from './pcie-registers.js';
import { PatternRenderer } from './pattern-renderer.js';
import { createPoolMemory } from './pool-memory.js';
import { imageLayout, type VideoFormat } from './pixel-format.js';
import { ManualTimeSource } from './time-source.js';

const FORMAT: VideoFormat = { fourcc: 'YUY2', width: 640, height: 480, interval: 166_667n };
const FRAME_BYTES = imageLayout('YUY2', 640, 480).imageSize;

interface Rig {
  session: PcieCardSession;
  engine: PcieCaptureEngine;
  clock: ManualTimeSource;
  memory: SharedArrayBuffer;
  geometry: PoolGeometry;
  card: SyntheticPcieCard;
}

const open: Rig[] = [];

afterEach(async () => {
  for (const rig of open.splice(0)) await rig.session.close();
});

async function rig(
  faults: FaultPlan = { faults: [] },
  slots = 4,
  ringSize = 256,
  poolMemory = false,
): Promise<Rig> {
  const card = new SyntheticPcieCard({ pattern: 'moving-box', faults, ringSize });
  const clock = new ManualTimeSource(0n);
  const session = await card.open({ timeSource: clock });
  const engine = session.pcieEngine();
  const stride = (FRAME_BYTES + 4095) & ~4095;
  const geometry: PoolGeometry = {
    slotCount: slots,
    dataOffset: 256,
    slotStride: stride,
    dataLength: FRAME_BYTES,
  };
  const bytes = 256 + slots * stride;
  const memory = poolMemory ? createPoolMemory(bytes) : new SharedArrayBuffer(bytes);
  engine.configure(FORMAT);
  engine.registerPool(geometry, memory);
  const r = { session, engine, clock, memory, geometry, card };
  open.push(r);
  return r;
}

function mapping(
  slot: number,
  length = FRAME_BYTES,
): { slot: number; offset: number; length: number; cookie: number } {
  return { slot, offset: 0, length, cookie: 1000 + slot };
}

/** Advances the manual clock so that frames [0, frames) are due, then waits for the engine to handle them. */
async function runFrames(r: Rig, frames: number): Promise<void> {
  r.clock.advanceTo(BigInt(frames - 1) * FORMAT.interval);
  expect(await r.engine.settle()).toBe(true);
}

function records(r: Rig, from = 0): CompletionRecord[] {
  const out: CompletionRecord[] = [];
  for (let i = from; i < r.engine.completions.count; i++) {
    const rec = emptyCompletionRecord();
    expect(r.engine.completions.read(i, rec)).toBe(true);
    out.push(rec);
  }
  return out;
}

function slotBytes(r: Rig, slot: number): Uint8Array {
  return new Uint8Array(r.memory, r.geometry.dataOffset + slot * r.geometry.slotStride, FRAME_BYTES);
}

describe('SyntheticPcieCard', () => {
  // Pool memory (as the webcam minidriver allocates it) is attached in the DMA worker as a wasm
  // memory: its renderer takes the native paths, with the same bytes.
  for (const poolMemory of [false, true]) {
    it(`captures paced frames whose bytes equal the camera renderer for the same frame index (${poolMemory ? 'pool memory' : 'plain SharedArrayBuffer'})`, async () => {
      const r = await rig(undefined, 4, 256, poolMemory);
      r.engine.program([0, 1, 2, 3].map((s) => mapping(s)));
      await r.engine.start({ startTime: 0n });
      expect(r.engine.state).toBe('running');
      await runFrames(r, 3);
      const recs = records(r);
      expect(recs.map((x) => [x.status, x.slot, x.cookie, x.frameIndex, x.bytesUsed])).toEqual([
        [FrameStatus.Ok, 0, 1000, 0n, FRAME_BYTES],
        [FrameStatus.Ok, 1, 1001, 1n, FRAME_BYTES],
        [FrameStatus.Ok, 2, 1002, 2n, FRAME_BYTES],
      ]);
      expect(recs.map((x) => x.presentationTime)).toEqual([0n, 166_667n, 333_334n]);
      expect(recs[0]!.flags & FrameFlag.FirstFrame).toBeTruthy();
      expect(recs[1]!.flags & (FrameFlag.FirstFrame | FrameFlag.Discontinuity)).toBe(0);
      const expected = new Uint8Array(FRAME_BYTES);
      const renderer = new PatternRenderer({ pattern: 'moving-box', seed: 0, overlay: true }, FORMAT);
      for (let k = 0; k < 3; k++) {
        renderer.render(expected, 0, FRAME_BYTES, k, -1);
        expect(Buffer.compare(Buffer.from(slotBytes(r, k)), Buffer.from(expected))).toBe(0);
      }
      // Nothing more is due until the clock moves: the worker never decides time by itself.
      expect(r.session.registers.read(PcieRegister.FramesCompleted)).toBe(3);
      expect(r.engine.outstanding).toBe(1);
      await r.engine.stop();
      expect(r.engine.outstanding).toBe(0);
      expect(records(r, 3).map((x) => [x.status, x.slot])).toEqual([[FrameStatus.Cancelled, 3]]);
    });
  }

  it('counts starvation when the consumer holds every buffer, then reports the gap', async () => {
    const r = await rig();
    r.engine.program([mapping(0), mapping(1)]);
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 10);
    expect(records(r).map((x) => x.frameIndex)).toEqual([0n, 1n]);
    const regs = r.session.registers;
    expect(regs.read(PcieRegister.FramesDropped)).toBe(8);
    expect(regs.read(PcieRegister.Status) & StatusBit.Starved).toBeTruthy();
    expect(r.engine.stats()).toMatchObject({
      framesProduced: 10,
      framesCompleted: 2,
      framesStarved: 8,
      framesDropped: 0,
    });
    r.engine.program([mapping(0)]);
    await runFrames(r, 11);
    const [late] = records(r, 2);
    expect(late).toMatchObject({ status: FrameStatus.Ok, frameIndex: 10n, dropsBefore: 8 });
    expect(late!.flags & FrameFlag.Discontinuity).toBeTruthy();
    expect(regs.read(PcieRegister.Status) & StatusBit.Starved).toBe(0);
  });

  it('wraps the descriptor ring while a consumer recycles buffers', async () => {
    const r = await rig({ faults: [] }, 3, 4);
    const recs: CompletionRecord[] = [];
    const renderer = new PatternRenderer({ pattern: 'moving-box', overlay: true }, FORMAT);
    const expected = new Uint8Array(FRAME_BYTES);
    let mismatches = 0;
    let seen = 0;
    r.engine.onCompletion(() => {
      // Consumer: check the bytes (slots are reused, so the engine redraws only what changed;
      // the result must still equal a full render), keep the result, hand the slot back.
      for (const rec of records(r, seen)) {
        recs.push(rec);
        renderer.render(expected, 0, FRAME_BYTES, Number(rec.frameIndex), -1);
        if (!Buffer.from(slotBytes(r, rec.slot)).equals(Buffer.from(expected))) mismatches++;
        if (rec.frameIndex === 10n) {
          // The owner writes into a slot: after invalidateSlot the engine redraws it whole.
          slotBytes(r, rec.slot).fill(0x55);
          r.engine.invalidateSlot(rec.slot);
        }
        r.engine.program([mapping(rec.slot)]);
      }
      seen = r.engine.completions.count;
    });
    r.engine.program([mapping(0), mapping(1), mapping(2)]);
    await r.engine.start({ startTime: 0n });
    for (let k = 1; k <= 20; k++) await runFrames(r, k);
    expect(recs).toHaveLength(20);
    expect(recs.every((x) => x.status === FrameStatus.Ok && x.dropsBefore === 0)).toBe(true);
    expect(recs.map((x) => Number(x.frameIndex))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(mismatches).toBe(0);
    expect(r.session.registers.read(PcieRegister.RingHead)).toBe(20);
  });

  it('rejects bad calls with typed errors and leaves the buffer balance intact', async () => {
    const r = await rig();
    expect(() => r.engine.program([mapping(9)])).toThrow(RangeError);
    expect(() => r.engine.program([mapping(0), mapping(0)])).toThrow(RangeError);
    expect(() => r.engine.program([{ ...mapping(0), length: FRAME_BYTES + 1 }])).toThrow(RangeError);
    expect(r.engine.outstanding).toBe(0);
    expect(() => r.engine.configure({ ...FORMAT, fourcc: 'MJPG' })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    expect(() => r.engine.configure({ ...FORMAT, width: 650 })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    await expect(r.engine.stop()).resolves.toBeUndefined();
    await expect(r.card.open()).rejects.toMatchObject({ code: 'Busy' });
    // A chain too short for the frame is skipped whole, never half-filled.
    r.engine.program([mapping(0, FRAME_BYTES - 4)]);
    await r.engine.start({ startTime: 0n });
    expect(() => r.engine.configure(FORMAT)).toThrow(expect.objectContaining({ code: 'InvalidState' }));
    await runFrames(r, 1);
    expect(records(r)[0]).toMatchObject({ status: FrameStatus.Truncated, bytesUsed: 0 });
    expect(slotBytes(r, 0).every((b) => b === 0)).toBe(true);
    expect(r.engine.stats().framesTruncated).toBe(1);
  });

  it('restarts after stop with frame numbering from the new start', async () => {
    const r = await rig();
    r.engine.program([mapping(0), mapping(1)]);
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 1);
    await r.engine.stop();
    expect(r.session.registers.read(PcieRegister.RingHead)).toBe(0);
    r.engine.program([mapping(0), mapping(1)]);
    const t0 = r.clock.now() + 1_000_000n;
    await r.engine.start({ startTime: t0 });
    r.clock.advanceTo(t0);
    expect(await r.engine.settle()).toBe(true);
    const recs = records(r);
    expect(recs.map((x) => [x.status, x.frameIndex])).toEqual([
      [FrameStatus.Ok, 0n],
      [FrameStatus.Cancelled, -1n],
      [FrameStatus.Ok, 0n],
    ]);
    expect(recs[2]!.presentationTime).toBe(t0);
  });
});

describe('SyntheticPcieCard lifecycle', () => {
  it('close while streaming cancels outstanding buffers, stops the worker, and frees the card', async () => {
    const card = new SyntheticPcieCard();
    const clock = new ManualTimeSource(0n);
    const session = await card.open({ timeSource: clock });
    const engine = session.pcieEngine();
    const stride = (FRAME_BYTES + 4095) & ~4095;
    engine.configure(FORMAT);
    engine.registerPool(
      { slotCount: 2, dataOffset: 0, slotStride: stride, dataLength: FRAME_BYTES },
      new SharedArrayBuffer(2 * stride),
    );
    engine.program([mapping(0), mapping(1)]);
    await engine.start({ startTime: 0n });
    clock.advanceTo(0n);
    expect(await engine.settle()).toBe(true);
    await session.close();
    await session.close(); // idempotent
    expect(engine.state).toBe('closed');
    expect(engine.outstanding).toBe(0);
    const rec = emptyCompletionRecord();
    expect(engine.completions.read(1, rec)).toBe(true);
    expect(rec.status).toBe(FrameStatus.Cancelled);
    expect(session.registers.read(PcieRegister.Status) & StatusBit.Ready).toBe(0); // the engine thread left
    expect(() => session.captureEngine()).toThrow(expect.objectContaining({ code: 'InvalidState' }));
    expect(card.state).toBe('closed');
    const again = await card.open({ timeSource: clock });
    await again.close();
  });
});

describe('SyntheticPcieCard engine thread death', () => {
  it('a dying DMA thread is a disconnect: outstanding buffers complete Disconnected, with the cause kept', async () => {
    const r = await rig();
    const reasons: unknown[] = [];
    const disconnected = new Promise<void>((resolve) =>
      r.card.on('disconnect', (e) => {
        reasons.push(e);
        resolve();
      }),
    );
    r.engine.program([mapping(0), mapping(1)]);
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 1);
    // Simulates a crash of the engine thread (test-only reach into the session's internals).
    const worker = (r.session as unknown as { engine: { worker: { terminate(): Promise<number> } } }).engine
      .worker;
    await worker.terminate();
    // The card emits 'disconnect' last in its link-down handling: state, records and the
    // outstanding count are final by then, so no wait is needed (a 10 ms sleep raced it).
    await disconnected;
    expect(r.engine.state).toBe('disconnected');
    expect(records(r).map((x) => x.status)).toEqual([FrameStatus.Ok, FrameStatus.Disconnected]);
    expect(r.engine.outstanding).toBe(0);
    expect(reasons).toHaveLength(1);
    expect(isHalError(reasons[0], 'Disconnected')).toBe(true);
    expect((reasons[0] as Error).cause).toBeDefined();
    await expect(r.card.open()).rejects.toMatchObject({ code: 'Disconnected' });
  });
});

describe('SyntheticPcieCard at 1080p60', () => {
  it('delivers two seconds of 1080p60 YUY2 to a consuming main thread with no frame lost, faster than real time', async () => {
    const format: VideoFormat = { fourcc: 'YUY2', width: 1920, height: 1080, interval: 166_667n };
    const bytes = imageLayout('YUY2', 1920, 1080).imageSize;
    const stride = (bytes + 4095) & ~4095;
    const card = new SyntheticPcieCard({ pattern: 'moving-box' });
    const clock = new ManualTimeSource(0n);
    const session = await card.open({ timeSource: clock });
    try {
      const engine = session.pcieEngine();
      const memory = new SharedArrayBuffer(6 * stride);
      engine.configure(format);
      engine.registerPool({ slotCount: 6, dataOffset: 0, slotStride: stride, dataLength: bytes }, memory);
      const view = new Uint8Array(memory);
      const rec = emptyCompletionRecord();
      const indices: number[] = [];
      let seen = 0;
      let checksum = 0;
      // The consumer reads every frame (one byte per 4 KiB) and hands the slot back; each
      // returned slot lets the next frame time pass, so the clock never outruns the consumer
      // by more than the pool and the run measures the whole loop, not pacing.
      engine.onCompletion((count) => {
        for (; seen < count; seen++) {
          expect(engine.completions.read(seen, rec)).toBe(true);
          expect(rec.status).toBe(FrameStatus.Ok);
          indices.push(Number(rec.frameIndex));
          for (let i = 0; i < bytes; i += 4096) checksum = (checksum + view[rec.slot * stride + i]!) | 0;
          if (indices.length + 6 <= 120) {
            engine.program([{ slot: rec.slot, offset: 0, length: bytes, cookie: rec.slot }]);
            clock.advance(format.interval);
          }
        }
      });
      engine.program([0, 1, 2, 3, 4, 5].map((slot) => ({ slot, offset: 0, length: bytes, cookie: slot })));
      // CPU time of this process (main and DMA threads), not wall time: a loaded machine stretches
      // wall time however fast the code is, while the work's CPU cost stays put.
      const cpu0 = process.cpuUsage();
      await engine.start({ startTime: 0n });
      clock.advanceTo(5n * format.interval);
      for (let i = 0; i < 200 && indices.length < 120; i++) expect(await engine.settle()).toBe(true);
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      expect(indices).toEqual(Array.from({ length: 120 }, (_, i) => i));
      expect(engine.stats()).toMatchObject({ framesProduced: 120, framesStarved: 0, framesDropped: 0 });
      // 120 frames are 2 s of video; the worker and consumer together need a small fraction of that.
      expect(cpuSeconds).toBeLessThan(2);
      expect(checksum).not.toBe(0);
    } finally {
      await session.close();
    }
  });
});

describe('SyntheticPcieCard fault plans', () => {
  it('fail-start: start rejects with StartFailed once, state stays configured', async () => {
    const r = await rig({ faults: [{ kind: 'fail-start' }] });
    r.engine.program([mapping(0)]);
    await expect(r.engine.start()).rejects.toMatchObject({ name: 'HalError', code: 'StartFailed' });
    expect(r.engine.state).toBe('configured');
    expect(r.engine.outstanding).toBe(1);
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 1);
    expect(records(r)[0]!.status).toBe(FrameStatus.Ok);
  });

  it('drop: the chosen frames complete Dropped, the others Ok', async () => {
    const plan: FaultPlan = { faults: [{ kind: 'drop', percent: 50, seed: 7 }] };
    const r = await rig(plan, 8);
    r.engine.program([0, 1, 2, 3, 4, 5, 6, 7].map((s) => mapping(s)));
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 8);
    const inj = new FaultInjector(plan);
    const want = Array.from({ length: 8 }, (_, k) =>
      (inj.frameFault(k) & FrameFault.Drop) !== 0 ? FrameStatus.Dropped : FrameStatus.Ok,
    );
    expect(want).toContain(FrameStatus.Dropped);
    expect(want).toContain(FrameStatus.Ok);
    const recs = records(r);
    expect(recs.map((x) => x.status)).toEqual(want);
    // A Dropped completion counts as lost in the next one's dropsBefore (the camera's accounting).
    expect(recs.map((x) => x.dropsBefore)).toEqual(
      want.map((_, i) => (i > 0 && want[i - 1] === FrameStatus.Dropped ? 1 : 0)),
    );
    expect(recs.filter((x) => x.status === FrameStatus.Dropped).every((x) => x.bytesUsed === 0)).toBe(true);
    expect(r.engine.stats().framesDropped).toBe(want.filter((s) => s === FrameStatus.Dropped).length);
  });

  it('corrupt: the frame is delivered flagged Corrupt with damaged bytes', async () => {
    const r = await rig({ faults: [{ kind: 'corrupt', frames: [1] }] });
    r.engine.program([mapping(0), mapping(1)]);
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 2);
    const recs = records(r);
    expect(recs.map((x) => x.status)).toEqual([FrameStatus.Ok, FrameStatus.Corrupt]);
    expect(recs[1]!.bytesUsed).toBe(FRAME_BYTES);
    const clean = new Uint8Array(FRAME_BYTES);
    new PatternRenderer({ pattern: 'moving-box', overlay: true }, FORMAT).render(
      clean,
      0,
      FRAME_BYTES,
      1,
      -1,
    );
    expect(Buffer.compare(Buffer.from(slotBytes(r, 1)), Buffer.from(clean))).not.toBe(0);
    expect(r.engine.stats().framesCorrupted).toBe(1);
    expect(r.session.registers.read(PcieRegister.FramesCorrupted)).toBe(1);
  });

  it('disconnect at frame k: outstanding buffers complete Disconnected, the device reports it', async () => {
    const r = await rig({ faults: [{ kind: 'disconnect', atFrame: 2 }] });
    const reasons: unknown[] = [];
    r.card.on('disconnect', (e) => reasons.push(e));
    r.engine.program([0, 1, 2, 3].map((s) => mapping(s)));
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 4);
    const recs = records(r);
    expect(recs.map((x) => x.status)).toEqual([
      FrameStatus.Ok,
      FrameStatus.Ok,
      FrameStatus.Disconnected,
      FrameStatus.Disconnected,
    ]);
    expect(r.engine.outstanding).toBe(0);
    expect(r.engine.state).toBe('disconnected');
    expect(r.card.state).toBe('disconnected');
    expect(reasons).toHaveLength(1);
    expect(isHalError(reasons[0], 'Disconnected')).toBe(true);
    expect(() => r.engine.program([mapping(0)])).toThrow(expect.objectContaining({ code: 'Disconnected' }));
    await expect(r.engine.stop()).rejects.toMatchObject({ code: 'Disconnected' });
    expect(r.session.registers.read(PcieRegister.Status) & StatusBit.LinkDown).toBeTruthy();
  });

  it('starve: frames in the window find no descriptors and are counted as starved', async () => {
    const r = await rig({ faults: [{ kind: 'starve', fromFrame: 1, toFrame: 3 }] });
    r.engine.program([0, 1, 2, 3].map((s) => mapping(s)));
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 4);
    const recs = records(r);
    expect(recs.map((x) => [x.frameIndex, x.dropsBefore])).toEqual([
      [0n, 0],
      [3n, 2],
    ]);
    expect(r.engine.stats().framesStarved).toBe(2);
  });

  it('near-wrap: sequence numbers wrap through 2^32 and are flagged', async () => {
    const r = await rig({ faults: [{ kind: 'near-wrap', framesBeforeWrap: 2 }] });
    r.engine.program([0, 1, 2].map((s) => mapping(s)));
    await r.engine.start({ startTime: 0n });
    await runFrames(r, 3);
    const recs = records(r);
    expect(recs.map((x) => [x.frameIndex, x.sequence])).toEqual([
      [4294967294n, 4294967294],
      [4294967295n, 4294967295],
      [4294967296n, 0],
    ]);
    expect(recs[2]!.flags & FrameFlag.SequenceWrapped).toBeTruthy();
    // Timestamps follow the index (start + index × interval), as the camera's do.
    expect(recs.map((x) => x.presentationTime)).toEqual([
      4294967294n * 166_667n,
      4294967295n * 166_667n,
      4294967296n * 166_667n,
    ]);
  });
});
