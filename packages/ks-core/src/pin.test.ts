// Tests of the pin state machine, formats, streaming with the test minidriver, removal and close cascades.
import { describe, it, expect } from '@jest/globals';
import { ManualClock } from './manual-clock.js';
import { createTestDevice, checkTestFrame, TestProperty } from './testing/test-minidriver.js';
import { MediaSubtype, PropSetId } from './known-guids.js';
import { ConnectionProperty, KsStateValue } from './property-ids.js';
import { PropertyRequestFlags } from './property-handler.js';
import { decodeVideoFormat } from './ks-data-format.js';
import { frameIntervalFromRate, ksTime, type KsTime } from './ks-time.js';
import { KsError, KsStateError } from './ks-error.js';
import { FrameFlags, FrameStatus } from './stream-header.js';
import type { KsState } from './pin.js';

const PERIOD = frameIntervalFromRate(30);

async function setup(faults = {}, stopGrace?: KsTime) {
  const clock = new ManualClock(1_000_000n);
  const { device, hardware } = createTestDevice(clock, {
    faults,
    ...(stopGrace === undefined ? {} : { stopGrace }),
  });
  const filter = await device.createFilter();
  const pin = await filter.createPin(0, { format: { subtype: MediaSubtype.YUY2, width: 64, height: 48 } });
  return { clock, device, hardware, filter, pin };
}

describe('KsPin state machine', () => {
  it('steps STOP→RUN one state at a time and dispatches each step', async () => {
    const { pin, device } = await setup();
    const steps: string[] = [];
    pin.on('stateChange', (to, from) => steps.push(`${from}>${to}`));
    await pin.setState('run');
    expect(steps).toEqual(['stop>acquire', 'acquire>pause', 'pause>run']);
    await pin.setState('stop');
    expect(steps.slice(3)).toEqual(['run>pause', 'pause>acquire', 'acquire>stop']);
    await device.close();
  });

  it('takes hardware at STOP→ACQUIRE, never at filter creation', async () => {
    const { hardware, pin, device } = await setup({ failAcquire: true });
    // Filter and pin creation succeeded although the hardware refuses.
    expect(hardware.owner).toBeUndefined();
    await expect(pin.setState('acquire')).rejects.toMatchObject({ code: 'DeviceBusy' });
    expect(pin.state).toBe('stop');
    await device.close();
  });

  it('a failing upward step leaves the pin in the last state reached', async () => {
    const { pin, device } = await setup({ failStart: true });
    await expect(pin.setState('run')).rejects.toMatchObject({ name: 'KsError', code: 'DeviceFailure' });
    expect(pin.state).toBe('pause');
    await pin.setState('stop');
    expect(pin.state).toBe('stop');
    await device.close();
  });

  it('wrong-state calls name current and required states', async () => {
    const { pin, device } = await setup();
    await pin.setState('run');
    const err = await pin
      .setFormat({ subtype: MediaSubtype.YUY2, width: 32, height: 24 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsStateError);
    expect((err as KsStateError).current).toBe('run');
    expect((err as KsStateError).required).toEqual(['stop']);
    expect((err as Error).message).toMatch(/setFormat\(\) requires state stop, but it is run/);
    await pin.stop();
    expect(() => pin.queue).toThrow(KsStateError);
    await device.close();
  });

  it('refuses ACQUIRE without a format and unknown states', async () => {
    const clock = new ManualClock();
    const { device } = createTestDevice(clock);
    const filter = await device.createFilter();
    const pin = await filter.createPin(0);
    await expect(pin.setState('acquire')).rejects.toMatchObject({ code: 'InvalidDeviceRequest' });
    await expect(pin.setState('jump' as KsState)).rejects.toThrow(TypeError);
    await device.close();
  });

  it('setFormat refuses adjusted requests unless accepted, and invalid ones', async () => {
    const { pin, device } = await setup();
    await expect(pin.setFormat({ subtype: MediaSubtype.YUY2, width: 50, height: 48 })).rejects.toMatchObject({
      code: 'NoMatch',
    });
    const f = await pin.setFormat(
      { subtype: MediaSubtype.YUY2, width: 50, height: 48 },
      { acceptAdjusted: true },
    );
    expect(f.kind === 'video' && f.width).toBe(48);
    await expect(pin.setFormat({ subtype: MediaSubtype.MJPG })).rejects.toMatchObject({ code: 'NoMatch' });
    expect(pin.format).toBe(f);
    await device.close();
  });
});

describe('KsPin streaming with the test minidriver', () => {
  it('delivers frames with content and timestamps computed from the index', async () => {
    const { clock, pin, device } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    const start = clock.now();
    for (let n = 0; n < 5; n++) {
      clock.advance(PERIOD);
      const r = await stream.next();
      expect(r.done).toBe(false);
      if (r.done === true) return;
      const frame = r.value;
      expect(frame.sequence).toBe(n);
      expect(frame.presentationTime).toBe(start + BigInt(n) * PERIOD);
      expect(frame.bytesUsed).toBe(64 * 48 * 2);
      expect(checkTestFrame(frame.data, frame.bytesUsed, n)).toBe(true);
      frame.release();
    }
    await pin.stop();
    expect((await stream.next()).done).toBe(true);
    await device.close();
  });

  it('across PAUSE→RUN presentation times continue from the pause point: no jump by the paused time, no going back', async () => {
    const { clock, pin, device, hardware } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    const start = clock.now();
    expect(pin.queue.currentTiming.start).toBe(start);
    const seen: { seq: number; pts: bigint; drops: number; flags: number }[] = [];
    const take = async (): Promise<void> => {
      clock.advance(PERIOD);
      const r = await stream.next();
      if (r.done === true) throw new Error('stream ended');
      const f = r.value;
      expect(checkTestFrame(f.data, f.bytesUsed, f.sequence)).toBe(true);
      seen.push({ seq: f.sequence, pts: f.presentationTime, drops: f.dropCount, flags: f.flags });
      f.release();
    };
    for (let i = 0; i < 3; i++) await take();
    await pin.pause();
    // Paused for ten and a bit frame times: the hardware is stopped, nothing is delivered, and the
    // queue keeps its frame numbering (it runs from the first RUN until ACQUIRE).
    clock.advance(PERIOD * 10n + 12_345n);
    await new Promise((r) => setImmediate(r));
    expect(stream.tryNext()).toBeNull();
    expect(hardware.running).toBe(false);
    expect(pin.queue.nextFrameIndex).toBe(3);
    // The run's time base stays fixed while paused: no other master clock now.
    expect(pin.midRun).toBe(true);
    expect(() => pin.setMasterClock(new ManualClock())).toThrow(
      expect.objectContaining({ code: 'InvalidDeviceState', current: 'pause (mid-run)' }) as unknown as Error,
    );
    await pin.run();
    for (let i = 0; i < 3; i++) await take();
    expect(seen.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    // start + n × period from the index, on the one time base fixed at the first RUN.
    expect(seen.map((f) => f.pts)).toEqual(seen.map((f) => start + BigInt(f.seq) * PERIOD));
    expect(seen[3]!.pts - seen[2]!.pts).toBe(PERIOD);
    // The paused time is not lost frames.
    expect(seen.every((f) => f.drops === 0 && (f.flags & FrameFlags.DataDiscontinuity) === 0)).toBe(true);
    expect(pin.queue.stats.dropped).toBe(0);
    await pin.stop();
    await device.close();
  });

  it('a master clock may change in PAUSE before the first RUN and after ACQUIRE, never mid-run', async () => {
    const { pin, filter, device } = await setup();
    const other = new ManualClock(5_000_000n);
    await pin.pause();
    expect(pin.midRun).toBe(false);
    pin.setMasterClock(other); // no run yet: no time base to break
    filter.setMasterClock(other);
    await pin.run();
    expect(pin.queue.currentTiming.start).toBe(5_000_000n);
    await pin.pause();
    expect(() => filter.setMasterClock(null)).toThrow(
      expect.objectContaining({ code: 'InvalidDeviceState' }) as unknown as Error,
    );
    await pin.setState('acquire'); // the run is over
    expect(pin.midRun).toBe(false);
    pin.setMasterClock(null);
    filter.setMasterClock(null);
    await pin.stop();
    await device.close();
  });

  it('counts drops when the consumer holds every slot, never blocking the producer', async () => {
    const { clock, pin, device } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    const held = [];
    for (let n = 0; n < 4; n++) {
      clock.advance(PERIOD);
      const r = await stream.next();
      if (r.done !== true) held.push(r.value);
    }
    clock.advance(PERIOD * 3n); // three frame times with no free slot
    for (const f of held) f.release();
    pin.attemptProcessing();
    clock.advance(PERIOD);
    const r = await stream.next();
    expect(r.done).toBe(false);
    if (r.done !== true) {
      expect(r.value.sequence).toBe(7);
      expect(r.value.dropCount).toBe(3);
      r.value.release();
    }
    const stopped = pin.stop();
    await stopped;
    await device.close();
  });

  it('with stopGrace 0 a stop revokes held frames at once; the consumer learns from release() and the accessors', async () => {
    const { clock, pin, device } = await setup({}, ksTime(0));
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    clock.advance(PERIOD);
    clock.advance(PERIOD);
    const kept = stream.tryNext();
    expect(kept).not.toBeNull();
    const queue = pin.queue;
    await pin.stop(); // the clock stands still: nothing waits
    expect(queue.stats.revoked).toBe(1);
    expect(queue.stats.reclaimed).toBeGreaterThanOrEqual(1);
    expect((await stream.next()).done).toBe(true);
    expect(kept!.revoked).toBe(true);
    expect(() => kept!.bytesUsed).toThrow(
      expect.objectContaining({ current: 'revoked', required: ['held'] }) as unknown as Error,
    );
    expect(kept!.release()).toBe(false);
    expect(stream.staleReleases).toBe(1);
    await device.close();
  });

  it('stop resolves only when the consumer released every frame (within the grace period)', async () => {
    const { clock, pin, device } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    clock.advance(PERIOD);
    const r = await stream.next();
    let stopped = false;
    const p = pin.stop().then(() => (stopped = true));
    await new Promise((res) => setImmediate(res));
    expect(stopped).toBe(false);
    if (r.done !== true) r.value.release();
    await p;
    expect(stopped).toBe(true);
    expect(() => r.done !== true && r.value.release()).toThrow();
    await device.close();
  });

  it('hot-unplug completes outstanding frames with Disconnected and rejects new calls', async () => {
    const { clock, pin, device, hardware, filter } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    clock.advance(PERIOD);
    const first = await stream.next();
    if (first.done !== true) first.value.release();
    hardware.unplug();
    await new Promise((res) => setImmediate(res));
    expect(pin.state).toBe('removed');
    const statuses: number[] = [];
    for await (const f of stream) {
      statuses.push(f.status);
      f.release();
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === FrameStatus.Disconnected)).toBe(true);
    await expect(pin.setState('run')).rejects.toMatchObject({ code: 'Disconnected' });
    expect(pin.pool.slotCount).toBe(4); // still readable for cleanup
    expect(() => pin.frames()).toThrow(expect.objectContaining({ code: 'Disconnected' }) as unknown as Error);
    await expect(filter.properties.get(TestProperty.set, TestProperty.Gain)).rejects.toMatchObject({
      code: 'Disconnected',
    });
    await expect(device.createFilter()).rejects.toMatchObject({ code: 'Disconnected' });
    await pin.drained();
    await device.close();
    await device.close();
    expect(pin.state).toBe('closed');
  });

  it('hot-unplug while a stop waits for a held frame: the pin stays removed and the stop rejects Disconnected', async () => {
    const { clock, pin, device, hardware } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    clock.advance(PERIOD);
    const kept = stream.tryNext();
    expect(kept).not.toBeNull();
    const queue = pin.queue;
    const began = new Promise<void>((res) => queue.observe({ stopping: () => res() }));
    const stopping = pin.stop().catch((e: unknown) => e);
    await began;
    hardware.unplug();
    await new Promise((res) => setImmediate(res));
    expect(pin.state).toBe('removed');
    expect(kept!.release()).toBe(true); // still the consumer's: released within the grace period
    expect(await stopping).toMatchObject({ code: 'Disconnected' });
    expect(pin.state).toBe('removed');
    await device.close();
    expect(pin.state).toBe('closed');
  });

  it('closing after hot-unplug takes back at once what the consumer still has', async () => {
    const { clock, pin, device, hardware } = await setup();
    await pin.setState('acquire');
    const stream = pin.frames();
    await pin.run();
    clock.advance(PERIOD);
    const kept = stream.tryNext();
    expect(kept).not.toBeNull();
    const pool = pin.pool;
    hardware.unplug();
    await new Promise((res) => setImmediate(res));
    expect(pin.state).toBe('removed');
    expect(pool.outstanding).toBeGreaterThan(0); // the held frame, within the grace period
    await device.close(); // the clock stands still
    expect(pool.outstanding).toBe(0);
    expect(kept!.release()).toBe(false);
  });
});

describe('built-in KSPROPSETID_Connection', () => {
  it('reads and sets the pin state as a KSSTATE through the raw API', async () => {
    const { pin, device } = await setup();
    const buf = new Uint8Array(4);
    const view = new DataView(buf.buffer);
    await pin.properties.raw(
      { set: PropSetId.Connection, id: ConnectionProperty.State, flags: PropertyRequestFlags.GET },
      buf,
    );
    expect(view.getUint32(0, true)).toBe(KsStateValue.stop);
    view.setUint32(0, KsStateValue.pause, true);
    await pin.properties.raw(
      { set: PropSetId.Connection, id: ConnectionProperty.State, flags: PropertyRequestFlags.SET },
      buf,
    );
    expect(pin.state).toBe('pause');
    expect(await pin.properties.get(PropSetId.Connection, ConnectionProperty.State)).toBe(KsStateValue.pause);
    view.setUint32(0, 7, true);
    await expect(
      pin.properties.raw(
        { set: PropSetId.Connection, id: ConnectionProperty.State, flags: PropertyRequestFlags.SET },
        buf,
      ),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await pin.stop();
    await device.close();
  });

  it('reports the data format and allocator framing as the Windows structures', async () => {
    const { pin, device } = await setup();
    const fmt = new Uint8Array(152);
    await pin.properties.raw(
      { set: PropSetId.Connection, id: ConnectionProperty.DataFormat, flags: PropertyRequestFlags.GET },
      fmt,
    );
    expect(decodeVideoFormat(fmt)).toEqual(pin.format);
    const framing = new Uint8Array(24);
    await pin.properties.raw(
      { set: PropSetId.Connection, id: ConnectionProperty.AllocatorFraming, flags: PropertyRequestFlags.GET },
      framing,
    );
    const v = new DataView(framing.buffer);
    expect([v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)]).toEqual([
      4,
      64 * 48 * 2,
      63,
    ]);
    await expect(
      pin.properties.set(PropSetId.Connection, ConnectionProperty.DataFormat, fmt),
    ).rejects.toMatchObject({ code: 'InvalidDeviceRequest' });
    await device.close();
  });
});

describe('instances and close cascade', () => {
  it('enforces instances.possible and frees the instance on close', async () => {
    const { filter, pin, device } = await setup();
    await expect(filter.createPin(0)).rejects.toMatchObject({ code: 'InsufficientResources' });
    await expect(filter.createPin(7)).rejects.toMatchObject({ code: 'NotFound' });
    await pin.close();
    await pin.close();
    expect(filter.pinCount(0)).toBe(0);
    const again = await filter.createPin(0);
    expect(again.instance).toBe(1);
    await device.close();
  });

  it('using a closed filter or pin throws a typed error; device close cascades', async () => {
    const { filter, pin, device } = await setup();
    await pin.setState('run');
    await device.close();
    expect(filter.state).toBe('closed');
    expect(pin.state).toBe('closed');
    await expect(filter.createPin(0)).rejects.toMatchObject({ name: 'KsStateError', code: 'Closed' });
    await expect(pin.setState('run')).rejects.toMatchObject({ code: 'Closed' });
    expect(() => filter.proposeFormat(0, {})).toThrow(KsError);
  });
});

describe('KsPin pool memory from the minidriver', () => {
  it('allocates the frame pool in the memory the dispatch supplies, and streams from it', async () => {
    const clock = new ManualClock(1_000_000n);
    const given: SharedArrayBuffer[] = [];
    const { device } = createTestDevice(clock, {
      allocateMemory: (bytes) => {
        const b = new SharedArrayBuffer(bytes + 4096);
        given.push(b);
        return b;
      },
    });
    const filter = await device.createFilter();
    const pin = await filter.createPin(0, { format: { subtype: MediaSubtype.YUY2, width: 64, height: 48 } });
    await pin.setState('run');
    expect(given).toHaveLength(1);
    expect(pin.pool.share().buffer).toBe(given[0]);
    const stream = pin.frames();
    clock.advance(PERIOD);
    const next = await stream.next();
    expect(next.done).toBe(false);
    if (!next.done) {
      expect(next.value.data.buffer).toBe(given[0]);
      next.value.release();
    }
    await pin.setState('stop');
    await device.close();
  });

  it('a refusing or undersized allocator fails STOP→ACQUIRE with InsufficientResources and leaves the pin in STOP', async () => {
    for (const allocateMemory of [
      (): SharedArrayBuffer => {
        throw new RangeError('no memory today');
      },
      (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(1, bytes >> 1)),
    ]) {
      const clock = new ManualClock(1_000_000n);
      const { device } = createTestDevice(clock, { allocateMemory });
      const filter = await device.createFilter();
      const pin = await filter.createPin(0, {
        format: { subtype: MediaSubtype.YUY2, width: 64, height: 48 },
      });
      await expect(pin.setState('acquire')).rejects.toMatchObject({
        name: 'KsError',
        code: 'InsufficientResources',
      });
      expect(pin.state).toBe('stop');
      await device.close();
    }
  });
});
