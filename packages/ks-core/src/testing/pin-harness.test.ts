// Tests of the pin harness and of master-clock timestamping on the test minidriver.
import { describe, it, expect } from '@jest/globals';
import { ManualClock } from '../manual-clock.js';
import { PinHarness } from './pin-harness.js';
import { createTestDevice, checkTestFrame } from './test-minidriver.js';
import { MediaSubtype } from '../known-guids.js';
import { frameIntervalFromRate } from '../ks-time.js';
import { FrameFlags, FrameStatus } from '../stream-header.js';

describe('PinHarness', () => {
  it('awaits the device settle after every tick, before the next frame time', async () => {
    const clock = new ManualClock(5_000n);
    const { device } = createTestDevice(clock);
    const settledAt: bigint[] = [];
    let pending = 0;
    const h = await PinHarness.create(device, clock, {
      format: { subtype: MediaSubtype.Y800 },
      settle: async () => {
        pending++;
        await new Promise((r) => setImmediate(r));
        settledAt.push(clock.now());
        pending--;
      },
    });
    await h.start();
    await h.tick(3);
    expect(pending).toBe(0);
    const period = frameIntervalFromRate(30);
    expect(settledAt).toEqual([1n, 2n, 3n].map((n) => 5_000n + n * period));
    await h.close();
  });

  it('captures frames whose content and timestamps are pure functions of the index', async () => {
    const clock = new ManualClock(5_000n);
    const { device } = createTestDevice(clock);
    const h = await PinHarness.create(device, clock, { format: { subtype: MediaSubtype.Y800 } });
    await h.start();
    const frames = await h.capture(6, { copyData: true });
    const period = frameIntervalFromRate(30);
    frames.forEach((f, n) => {
      expect(f.sequence).toBe(n);
      expect(f.presentationTime).toBe(5_000n + BigInt(n) * period);
      expect(f.duration).toBe(period);
      expect(f.status).toBe(FrameStatus.Success);
      expect(f.flags & (FrameFlags.TimeValid | FrameFlags.DurationValid)).toBe(
        FrameFlags.TimeValid | FrameFlags.DurationValid,
      );
      expect(checkTestFrame(f.data!, f.bytesUsed, n)).toBe(true);
    });
    await h.close();
  });

  it('two runs give bit-identical frames (repeatable)', async () => {
    const once = async () => {
      const clock = new ManualClock();
      const { device } = createTestDevice(clock);
      const h = await PinHarness.create(device, clock, { format: { subtype: MediaSubtype.NV12 } });
      await h.start();
      const f = await h.capture(4, { copyData: true });
      await h.close();
      return f;
    };
    expect(await once()).toEqual(await once());
  });

  it('stamps against an assigned master clock; master clock cannot change while running', async () => {
    const clock = new ManualClock(1_000n);
    const { device } = createTestDevice(clock);
    const h = await PinHarness.create(device, clock);
    const master = new ManualClock(77_000_000n);
    h.filter.setMasterClock(master);
    expect(h.pin.masterClock).toBe(master);
    await h.start();
    expect(() => h.pin.setMasterClock(null)).toThrow(
      expect.objectContaining({ current: 'run' }) as unknown as Error,
    );
    expect(() => h.filter.setMasterClock(null)).toThrow(
      expect.objectContaining({ code: 'InvalidDeviceState' }) as unknown as Error,
    );
    const [first] = await h.capture(1);
    expect(first!.presentationTime).toBe(77_000_000n);
    await h.stop();
    h.pin.setMasterClock(clock);
    expect(h.pin.masterClock).toBe(clock);
    expect(() => h.pin.setMasterClock({} as never)).toThrow(TypeError);
    expect(() => h.pin.clock()).toThrow(
      expect.objectContaining({ code: 'InvalidDeviceRequest' }) as unknown as Error,
    );
    await h.close();
  });

  it('releasing a frame twice or using it after release throws a typed error', async () => {
    const clock = new ManualClock();
    const { device } = createTestDevice(clock);
    const h = await PinHarness.create(device, clock);
    await h.pin.setState('acquire');
    const stream = h.pin.frames();
    await h.pin.setState('run');
    await h.tick();
    const frame = stream.tryNext();
    expect(frame).not.toBeNull();
    frame!.release();
    expect(() => frame!.release()).toThrow(
      expect.objectContaining({ name: 'KsStateError' }) as unknown as Error,
    );
    expect(() => frame!.data).toThrow(expect.objectContaining({ name: 'KsStateError' }) as unknown as Error);
    stream.close();
    await h.pin.setState('stop');
    await h.close();
  });

  it('serialises concurrent state changes and survives removal during a transition', async () => {
    const clock = new ManualClock();
    const { device, hardware } = createTestDevice(clock);
    const h = await PinHarness.create(device, clock);
    const seen: string[] = [];
    h.pin.on('stateChange', (to) => seen.push(to));
    await Promise.all([h.pin.setState('run'), h.pin.setState('acquire'), h.pin.setState('pause')]);
    expect(seen).toEqual(['acquire', 'pause', 'run', 'pause', 'acquire', 'pause']);
    const running = h.pin.setState('run');
    hardware.unplug();
    await running.catch(() => undefined);
    await h.pin.drained();
    expect(h.pin.state).toBe('removed');
    await device.close();
    expect(h.pin.state).toBe('closed');
  });
});
