// Tests the synthetic TV tuner: lock timing on a manual clock, scans, typed errors, and per-channel picture vs snow.
import { afterEach, describe, expect, it } from '@jest/globals';
import { FrameStatus, type PoolGeometry } from './capture-engine.js';
import { emptyCompletionRecord } from './completion-ring.js';
import { Enumerator } from './enumerator.js';
import { isHalError } from './hal-error.js';
import { pcieCardFactory } from './pcie-card.js';
import { imageLayout, type VideoFormat } from './pixel-format.js';
import { SyntheticTuner, tunerFactory, type TunerCardSession } from './synthetic-tuner.js';
import { ManualTimeSource } from './time-source.js';
import { hasTuner, type TunerStatus } from './tuner-frontend.js';
import { channelPlateGeometry, TunerPicture } from './tuner-picture.js';

const SETTLE = 1_000_000n;
const NTSC: VideoFormat = { fourcc: 'YUY2', width: 720, height: 480, interval: 333_667n };
const CARRIED = ['2', '4', '5', '7', '9', '11', '13', '27', '44'];
const sessions: TunerCardSession[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function openTuner(options: ConstructorParameters<typeof SyntheticTuner>[0] = {}) {
  const device = new SyntheticTuner(options);
  const clock = new ManualTimeSource(0n);
  const session = await device.open({ timeSource: clock });
  sessions.push(session);
  return { device, clock, session, tuner: session.tuner() };
}

/** Lets a scan run on the manual clock: advance one settle time per step until it resolves. */
async function drive<T>(clock: ManualTimeSource, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  for (let i = 0; i < 10_000 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(SETTLE);
  }
  return result;
}

describe('SyntheticTuner front end', () => {
  it('locks only after the settle time measured on the TimeSource, and emits lock changes', async () => {
    const { clock, tuner, session } = await openTuner();
    expect(hasTuner(session)).toBe(true);
    const events: TunerStatus[] = [];
    tuner.on('lock-change', (s) => events.push(s));
    expect(tuner.status()).toMatchObject({
      locked: false,
      settling: true,
      frequencyHz: 55_250_000,
      signalStrength: 0,
    });
    clock.advance(SETTLE - 1n);
    expect(tuner.status().locked).toBe(false);
    expect(events).toHaveLength(0);
    clock.advance(1n);
    const locked = tuner.status();
    expect(locked).toMatchObject({ locked: true, settling: false, standard: 'NTSC-M', input: 0 });
    expect(locked.signalStrength).toBeGreaterThanOrEqual(35);
    expect(locked.signalStrength).toBeLessThanOrEqual(100);
    expect(events.map((e) => e.locked)).toEqual([true]);

    tuner.tune(61_250_000); // channel 3: not on the air here
    expect(events.map((e) => e.locked)).toEqual([true, false]);
    clock.advance(SETTLE);
    expect(tuner.status()).toMatchObject({ locked: false, settling: false, signalStrength: 0 });
    tuner.tune(67_250_000 + 100_000); // channel 4, slightly off: AFC pulls in; snapped to the 62.5 kHz grid
    expect(tuner.status().frequencyHz % 62_500).toBe(0);
    clock.advance(SETTLE);
    expect(tuner.status().locked).toBe(true);
    expect(events.map((e) => e.locked)).toEqual([true, false, true]);
  });

  it('gives deterministic signal strengths per channel and seed', async () => {
    const a = await openTuner({ seed: 5 });
    const b = await openTuner({ seed: 5 });
    const strengths = async (t: typeof a): Promise<number[]> => {
      const found = await drive(t.clock, t.tuner.scan({ table: 'us-broadcast' }));
      return found.map((c) => c.signalStrength);
    };
    const sa = await strengths(a);
    expect(sa).toEqual(await strengths(b));
    expect(new Set(sa).size).toBeGreaterThan(1);
  });

  it('scan finds exactly the channels the broadcast carries, then returns to the old frequency', async () => {
    const { clock, tuner } = await openTuner();
    tuner.tune(175_250_000);
    const found = await drive(clock, tuner.scan({ table: 'us-broadcast' }));
    expect(found.map((c) => c.name)).toEqual(CARRIED);
    expect(found.find((c) => c.name === '27')?.frequencyHz).toBe(549_250_000);
    expect(tuner.status().frequencyHz).toBe(175_250_000);
    // A raw sweep finds carriers by frequency, each once.
    const sweep = await drive(clock, tuner.scan({ fromHz: 50_000_000, toHz: 90_000_000, stepHz: 500_000 }));
    expect(sweep.map((c) => c.frequencyHz)).toEqual([55_250_000, 67_250_000, 77_250_000]);
    // The cable input carries its own channels.
    tuner.setInput(1);
    const cable = await drive(clock, tuner.scan({ table: 'us-cable' }));
    expect(cable.map((c) => c.name).sort()).toEqual(['100', '14', '22', '3', '8', '95']);
  });

  it('European broadcast: PAL-G receivers lock PAL-B VHF and PAL-G UHF carriers, not NTSC', async () => {
    const { clock, tuner } = await openTuner({
      antenna: { table: 'europe-west', channels: ['E5', 'E21', 'E44'] },
    });
    expect(tuner.status().standard).toBe('PAL-B');
    const found = await drive(clock, tuner.scan({ table: 'europe-west' }));
    expect(found.map((c) => [c.name, c.frequencyHz])).toEqual([
      ['E5', 175_250_000],
      ['E21', 471_250_000],
      ['E44', 655_250_000],
    ]);
    tuner.setStandard('NTSC-M');
    tuner.tune(175_250_000);
    clock.advance(SETTLE);
    expect(tuner.status().locked).toBe(false);
  });

  it('rejects bad arguments with RangeError and missing standards with HalError Unsupported', async () => {
    const { tuner, session } = await openTuner({ standards: ['NTSC-M'] });
    expect(() => tuner.tune(10_000_000)).toThrow(RangeError);
    expect(() => tuner.tune(2e9)).toThrow(RangeError);
    expect(() => tuner.tune(Number.NaN)).toThrow(RangeError);
    expect(() => tuner.setInput(2)).toThrow(RangeError);
    expect(() => tuner.setStandard('PAL-Z' as never)).toThrow(RangeError);
    let err: unknown;
    try {
      tuner.setStandard('PAL-B');
    } catch (e) {
      err = e;
    }
    expect(isHalError(err, 'Unsupported')).toBe(true);
    await expect(tuner.scan({ fromHz: 100e6, toHz: 50e6, stepHz: 1e6 })).rejects.toThrow(RangeError);
    await expect(tuner.scan({ table: 'mars' as never })).rejects.toThrow(RangeError);
    expect(() => new SyntheticTuner({ antenna: { table: 'us-broadcast', channels: ['1'] } })).toThrow(
      RangeError,
    );
    // The video format follows the standard.
    expect(() => session.captureEngine().configure({ ...NTSC, height: 576, interval: 400_000n })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    await session.close();
    expect(() => tuner.status()).toThrow(expect.objectContaining({ code: 'InvalidState' }));
  });
});

describe('SyntheticTuner video', () => {
  it('shows the locked channel with its number burned in, and snow while settling', async () => {
    const { clock, tuner, session } = await openTuner();
    const engine = session.pcieEngine();
    const bytes = imageLayout('YUY2', 720, 480).imageSize;
    const stride = (bytes + 4095) & ~4095;
    const geometry: PoolGeometry = { slotCount: 3, dataOffset: 0, slotStride: stride, dataLength: bytes };
    const memory = new SharedArrayBuffer(3 * stride);
    engine.configure(NTSC);
    engine.registerPool(geometry, memory);
    engine.program([0, 1, 2].map((slot) => ({ slot, offset: 0, length: bytes, cookie: slot })));
    // Frame 0 at t=0 (settling: snow); frame 3 at 3 intervals (locked on channel 2).
    await engine.start({ startTime: 0n });
    clock.advanceTo(0n);
    expect(await engine.settle()).toBe(true);
    clock.advanceTo(3n * NTSC.interval); // frames 1..3 due; only 2 buffers left
    expect(await engine.settle()).toBe(true);
    const rec = emptyCompletionRecord();
    const got = [0, 1, 2].map((i) => {
      expect(engine.completions.read(i, rec)).toBe(true);
      return [rec.status, Number(rec.frameIndex)];
    });
    expect(got).toEqual([
      [FrameStatus.Ok, 0],
      [FrameStatus.Ok, 1],
      [FrameStatus.Ok, 2],
    ]);
    const slot = (s: number) => new Uint8Array(memory, s * stride, bytes);
    const picture = new TunerPicture(
      ['2', '4', '5', '7', '9', '11', '13', '27', '44', '3', '8', '14', '22', '95', '100'],
      0,
      NTSC,
    );
    const expected = new Uint8Array(bytes);
    picture.paint(expected, 0, 0, 0); // snow
    expect(Buffer.from(slot(0)).equals(Buffer.from(expected))).toBe(true);
    // Frame 1 is at 333 667 < settle (1 000 000): still snow; frame 2 too; lock arrives at frame 3.
    picture.paint(expected, 0, 2, 0);
    expect(Buffer.from(slot(2)).equals(Buffer.from(expected))).toBe(true);
    engine.program([{ slot: 0, offset: 0, length: bytes, cookie: 9 }]);
    clock.advanceTo(4n * NTSC.interval); // frame 4: channel 2 locked
    expect(await engine.settle()).toBe(true);
    expect(engine.completions.read(3, rec)).toBe(true);
    expect([rec.status, rec.frameIndex]).toEqual([FrameStatus.Ok, 4n]);
    picture.paint(expected, 0, 4, 1); // channel ordinal 0 = "2"
    expect(Buffer.from(slot(0)).equals(Buffer.from(expected))).toBe(true);
    // Retune to channel 4: snow while settling, then channel 4's card.
    tuner.tune(67_250_000);
    engine.program([{ slot: 1, offset: 0, length: bytes, cookie: 10 }]);
    clock.advanceTo(5n * NTSC.interval);
    expect(await engine.settle()).toBe(true);
    picture.paint(expected, 0, 5, 0);
    expect(Buffer.from(slot(1)).equals(Buffer.from(expected))).toBe(true);
    clock.advanceTo(6n * NTSC.interval); // frame 6 (2 002 002): still settling, and no buffer: starved
    expect(await engine.settle()).toBe(true);
    engine.program([{ slot: 2, offset: 0, length: bytes, cookie: 11 }]);
    clock.advanceTo(7n * NTSC.interval); // frame 7 (2 335 669) >= 1 334 668 + settle: locked
    expect(await engine.settle()).toBe(true);
    expect(engine.completions.read(5, rec)).toBe(true);
    expect([rec.frameIndex, rec.dropsBefore]).toEqual([7n, 1]);
    const ch4 = new Uint8Array(bytes);
    picture.paint(ch4, 0, 7, 2); // channel ordinal 1 = "4"
    expect(Buffer.from(slot(2)).equals(Buffer.from(ch4))).toBe(true);
    // The number plate differs per channel (same frame index) and from snow.
    const plate = channelPlateGeometry(720, 480, 1);
    const region = (buf: Uint8Array) =>
      Buffer.from(buf.subarray(plate.y * 1440, (plate.y + plate.height) * 1440));
    const ch2 = new Uint8Array(bytes);
    picture.paint(ch2, 0, 7, 1);
    expect(region(ch2).equals(region(ch4))).toBe(false);
    const snow = new Uint8Array(bytes);
    picture.paint(snow, 0, 7, 0);
    expect(region(ch4).equals(region(snow))).toBe(false);
    // Outside the plate (below it) channels 2 and 4 show the same card.
    const below = (buf: Uint8Array) => Buffer.from(buf.subarray((plate.y + plate.height) * 1440));
    expect(below(ch2).equals(below(ch4))).toBe(true);
    void tuner;
  });

  it('is listed by the Enumerator next to the PCIe card', async () => {
    const en = new Enumerator(
      { synthetic: [{ kind: 'pcie' }, { kind: 'tuner' }] },
      { pcie: pcieCardFactory, tuner: tunerFactory },
    );
    const list = await en.list();
    expect(list.map((d) => [d.identity.id, d.identity.kind])).toEqual([
      ['synthetic:pcie', 'capture-card'],
      ['synthetic:tuner', 'tuner'],
    ]);
    expect(list[1]!.capabilities.tuner?.standards).toContain('SECAM-L');
  });
});
