// Register-level tests of the PCIe DMA engine thread: scatter/gather chains, incomplete chains, masks, idle and reset.
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DescriptorFlag, DescriptorStatus } from './descriptor-ring.js';
import { DmaEngine, PCIE_FORMAT_CODES, waitForChange } from './dma-engine.js';
import { PatternRenderer } from './pattern-renderer.js';
import { ControlBit, InterruptBit, PcieRegister, StatusBit, type PcieRegisters } from './pcie-registers.js';
import { imageLayout, type VideoFormat } from './pixel-format.js';

const FORMAT: VideoFormat = { fourcc: 'NV12', width: 320, height: 240, interval: 333_333n };
const BYTES = imageLayout('NV12', 320, 240).imageSize;
const engines: DmaEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown();
});

async function launch(): Promise<{ engine: DmaEngine; regs: PcieRegisters; memory: SharedArrayBuffer }> {
  const engine = await DmaEngine.launch({
    input: { kind: 'pattern', pattern: 'smpte-bars', seed: 0, overlay: true },
    ringSize: 8,
  });
  engines.push(engine);
  const regs = engine.registers;
  const memory = new SharedArrayBuffer(2 * BYTES);
  engine.map(memory, { slotCount: 2, dataOffset: 0, slotStride: BYTES, dataLength: BYTES });
  await engine.sync();
  regs.write(PcieRegister.FormatCode, PCIE_FORMAT_CODES.indexOf('NV12'));
  regs.write(PcieRegister.FormatWidth, 320);
  regs.write(PcieRegister.FormatHeight, 240);
  regs.write(PcieRegister.FormatFrameBytes, BYTES);
  regs.write(PcieRegister.FrameInterval, 333_333);
  return { engine, regs, memory };
}

/** Waits (without blocking) until `test` holds for a register, bounded. */
async function until(regs: PcieRegisters, offset: number, test: (v: number) => boolean): Promise<void> {
  const index = offset >>> 2;
  for (let i = 0; i < 100; i++) {
    const v = Atomics.load(regs.words, index);
    if (test(v >>> 0)) return;
    const w = waitForChange(regs.words, index, v, 100);
    if (typeof w !== 'string') await w;
  }
  throw new Error(`register 0x${offset.toString(16)} never satisfied the test`);
}

async function enable(regs: PcieRegisters): Promise<void> {
  regs.write(PcieRegister.Control, ControlBit.Enable | ControlBit.InterruptEnable);
  regs.ringDoorbell();
  await until(regs, PcieRegister.Status, (s) => (s & StatusBit.Running) !== 0);
}

async function due(regs: PcieRegisters, frames: number): Promise<void> {
  regs.write(PcieRegister.FrameDue, frames);
  regs.ringDoorbell();
  await until(regs, PcieRegister.FrameIndex, (k) => k === frames);
}

describe('DMA engine thread', () => {
  it('scatters one frame over a chain of descriptors in different slots', async () => {
    const { engine, regs, memory } = await launch();
    const ring = engine.ring;
    const half = 40_000; // not a row or plane boundary on purpose
    ring.post(0, { slot: 1, offset: 0, length: half, cookie: 1, flags: DescriptorFlag.StartOfFrame });
    ring.post(1, { slot: 0, offset: 100, length: BYTES - 100, cookie: 2, flags: DescriptorFlag.EndOfFrame });
    regs.write(PcieRegister.RingTail, 2);
    await enable(regs);
    await due(regs, 1);
    expect(regs.read(PcieRegister.RingHead)).toBe(2);
    expect(regs.read(PcieRegister.FramesCompleted)).toBe(1);
    expect([ring.doneStatus(0), ring.doneBytes(0), ring.doneStatus(1), ring.doneBytes(1)]).toEqual([
      DescriptorStatus.Done,
      half,
      DescriptorStatus.Done,
      BYTES - half,
    ]);
    const expected = new Uint8Array(BYTES);
    new PatternRenderer({ pattern: 'smpte-bars', seed: 0, overlay: true }, FORMAT).render(
      expected,
      0,
      BYTES,
      0,
      -1,
    );
    const mem = new Uint8Array(memory);
    expect(
      Buffer.from(mem.subarray(BYTES, BYTES + half)).equals(Buffer.from(expected.subarray(0, half))),
    ).toBe(true);
    expect(
      Buffer.from(mem.subarray(100, 100 + BYTES - half)).equals(Buffer.from(expected.subarray(half))),
    ).toBe(true);
    expect(regs.read(PcieRegister.InterruptStatus) & InterruptBit.FrameDone).toBeTruthy();
  });

  it('treats a chain without EndOfFrame as not posted: the frame starves, the descriptors stay', async () => {
    const { engine, regs } = await launch();
    engine.ring.post(0, { slot: 0, offset: 0, length: BYTES, cookie: 1, flags: DescriptorFlag.StartOfFrame });
    regs.write(PcieRegister.RingTail, 1);
    await enable(regs);
    await due(regs, 2);
    expect(regs.read(PcieRegister.FramesDropped)).toBe(2);
    expect(regs.read(PcieRegister.RingHead)).toBe(0);
    expect(engine.ring.doneStatus(0)).toBe(DescriptorStatus.Pending);
    expect(regs.read(PcieRegister.Status) & StatusBit.Starved).toBeTruthy();
    // Completing the chain lets the next due frame through.
    engine.ring.post(1, { slot: 1, offset: 0, length: BYTES, cookie: 2, flags: DescriptorFlag.EndOfFrame });
    regs.write(PcieRegister.RingTail, 2);
    await due(regs, 3);
    expect(regs.read(PcieRegister.RingHead)).toBe(2);
    expect(engine.ring.doneSequence(1)).toBe(2);
    expect(regs.read(PcieRegister.Status) & StatusBit.Starved).toBe(0);
  });

  it('latches masked interrupts without raising the line, and goes idle when Enable drops', async () => {
    const { engine, regs } = await launch();
    regs.write(PcieRegister.InterruptMask, InterruptBit.FrameDone | InterruptBit.FrameDropped);
    engine.ring.post(0, { slot: 0, offset: 0, length: BYTES, cookie: 1, flags: DescriptorFlag.EndOfFrame });
    regs.write(PcieRegister.RingTail, 1);
    await enable(regs);
    const before = regs.read(PcieRegister.InterruptCount);
    await due(regs, 2); // one completes, one starves
    expect(regs.read(PcieRegister.InterruptCount)).toBe(before);
    expect(
      regs.read(PcieRegister.InterruptStatus) & (InterruptBit.FrameDone | InterruptBit.FrameDropped),
    ).toBe(InterruptBit.FrameDone | InterruptBit.FrameDropped);
    expect(regs.pendingInterrupts()).toBe(0);
    regs.write(PcieRegister.Control, ControlBit.InterruptEnable);
    regs.ringDoorbell();
    await until(regs, PcieRegister.Status, (s) => (s & StatusBit.Running) === 0);
    expect(regs.read(PcieRegister.InterruptStatus) & InterruptBit.Idle).toBeTruthy();
    // Idle is not masked: the line is raised (right after Running drops).
    await until(regs, PcieRegister.InterruptCount, (n) => n === before + 1);
    regs.write(PcieRegister.Control, ControlBit.Reset | ControlBit.InterruptEnable);
    expect([
      regs.read(PcieRegister.FrameIndex),
      regs.read(PcieRegister.RingHead),
      regs.read(PcieRegister.FramesDropped),
    ]).toEqual([0, 0, 0]);
  });

  it('does nothing until frames are declared due, however long it waits', async () => {
    const { engine, regs } = await launch();
    engine.ring.post(0, { slot: 0, offset: 0, length: BYTES, cookie: 1, flags: DescriptorFlag.EndOfFrame });
    regs.write(PcieRegister.RingTail, 1);
    await enable(regs);
    await engine.sync(); // a full round trip through the worker's event loop
    regs.ringDoorbell();
    await engine.sync();
    expect(regs.read(PcieRegister.FrameIndex)).toBe(0);
    expect(engine.ring.doneStatus(0)).toBe(DescriptorStatus.Pending);
  });

  it('treats FrameIndex past FrameDue (counters reset under a frame in flight) as caught up, not as 2^32 frames to drop', async () => {
    const { engine, regs } = await launch();
    await enable(regs);
    // What a host reset racing the engine's last FrameIndex store leaves behind.
    regs.deviceStore(PcieRegister.FrameIndex, 3);
    regs.write(PcieRegister.FrameDue, 1);
    regs.ringDoorbell();
    // Before the fix the engine thread spun through ~2^32 starved frames here and never got to
    // this round trip (nor to a stop).
    await engine.sync();
    expect(regs.read(PcieRegister.FramesDropped)).toBe(0);
    expect(regs.read(PcieRegister.FrameIndex)).toBe(3);
    regs.write(PcieRegister.Control, ControlBit.InterruptEnable);
    regs.ringDoorbell();
    await until(regs, PcieRegister.Status, (s) => (s & StatusBit.Running) === 0);
  });

  it('keeps the process alive while the host waits on it, and not after: a forgotten engine lets it exit', async () => {
    const url = new URL('./dma-engine.js', import.meta.url).href;
    // launch and sync are waits on the thread (Atomics.waitAsync refs nothing): they must
    // complete; afterwards nothing is pending and the child must exit with the engine open.
    // (CommonJS -e with a dynamic import: an --input-type flag would be inherited by the Worker.)
    const script = `import(${JSON.stringify(url)}).then(async ({ DmaEngine }) => {
      const engine = await DmaEngine.launch({ input: { kind: 'pattern', pattern: 'smpte-bars', seed: 0, overlay: true } });
      await engine.sync();
      console.log('launched');
    });`;
    // The kill is only a hang detector: before the fix the child never exited.
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['-e', script],
        { timeout: 20_000, killSignal: 'SIGKILL' },
        (_err, out) => resolve({ code: child.exitCode, stdout: out }),
      );
    });
    expect(stdout.trim()).toBe('launched');
    expect(code).toBe(0);
  });
});
