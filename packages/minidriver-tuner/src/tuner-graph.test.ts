// Tests of the TV graph: medium wiring, formats per standard, tuner/decoder/crossbar/TV-audio properties and their typed rejections, scanning, channel changes while running.
import { afterEach, describe, expect, it } from '@jest/globals';
import { SyntheticCamera, TV_STANDARDS, type SyntheticTunerOptions } from '@ksemu/hal';
import { createWebcamDevice } from '@ksemu/minidriver-webcam';
import {
  FrameFlags,
  FrameStatus,
  EventSetId,
  ManualClock,
  MediaSubtype,
  PropSetId,
  type Frame,
  type FrameStream,
  type KsDevice,
} from '@ksemu/ks-core';
import { AnalogVideoStandard } from './analog-standard.js';
import { CrossbarInput, CrossbarOutput } from './tv-card.js';
import { UnpluggableTuner } from './conformance-subjects.js';
import { createTunerDevice } from './tuner-device.js';
import { openTuner, type TunerGraph } from './tuner-graph.js';
import { PhysConn, TunerEvent, TunerMode, TunerProperty, TvAudioMode } from './tv-property-ids.js';

const SETTLE = 1_000_000n; // the synthetic tuner's default: 100 ms
const open: Array<{ device: KsDevice; graph?: TunerGraph }> = [];

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.graph?.close();
    await o.device.close();
  }
});

async function build(
  options: SyntheticTunerOptions = {},
): Promise<{ clock: ManualClock; hal: UnpluggableTuner; device: KsDevice; graph: TunerGraph }> {
  const clock = new ManualClock(10_000_000n);
  const hal = new UnpluggableTuner(options);
  const device = createTunerDevice(hal, { clock });
  const entry: { device: KsDevice; graph?: TunerGraph } = { device };
  open.push(entry);
  const graph = await openTuner(device);
  entry.graph = graph;
  return { clock, hal, device, graph };
}

/** Runs `promise` to completion while moving the manual clock (scans wait a settle time per channel). */
async function whileAdvancing<T>(clock: ManualClock, step: bigint, promise: Promise<T>): Promise<T> {
  let done = false;
  const p = promise.finally(() => (done = true));
  for (let i = 0; i < 2_000 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(step);
  }
  return p;
}

/**
 * The next frame of `stream`: a queued one if there is one, else the frame of the next frame time.
 * After advancing, waits for the card's DMA thread to acknowledge it (`settle`: every frame due so
 * far handled and completed), never for wall time, so each frame time yields its frame however
 * slowly that thread runs.
 */
async function nextFrame(
  clock: ManualClock,
  hal: UnpluggableTuner,
  stream: FrameStream,
  period: bigint,
): Promise<Frame> {
  const queued = stream.tryNext();
  if (queued !== null) return queued;
  clock.advance(period);
  await hal.settle();
  // The completion reaches the stream through a few promise turns on this thread.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const f = stream.tryNext();
  if (f === null) throw new Error('the settled tuner card delivered no frame for the frame time');
  return f;
}

/** Stops `pin`, releasing what `stream` still holds (a stop waits for the consumer's frames). */
async function stopDraining(pin: { stop(): Promise<void> }, stream: FrameStream): Promise<void> {
  const stopping = pin.stop();
  for await (const f of stream) f.release();
  await stopping;
}

describe('openTuner', () => {
  it('wires tuner → crossbar → decoder → capture and tuner → TV audio → crossbar by matching mediums', async () => {
    const { graph } = await build();
    const wires = graph.connections.map(
      (c) =>
        `${c.from.filter.descriptor.name.split(' ').pop()}:${c.from.pin}>${c.to.filter.descriptor.name.split(' ').pop()}:${c.to.pin}`,
    );
    expect(wires).toEqual([
      'Tuner:0>Crossbar:0',
      'Tuner:1>Audio:0',
      'Audio:1>Crossbar:3',
      'Crossbar:5>Decoder:0',
      'Decoder:1>Capture:0',
    ]);
    for (const c of graph.connections) {
      expect(c.to.filter.descriptor.pins[c.to.pin]!.mediums[0]).toEqual(c.medium);
    }
    expect(graph.capturePin.state).toBe('stop');
  });

  it('offers 720x480 at 30000/1001 under NTSC and 720x576 at 25 under PAL', async () => {
    const ntsc = await build();
    expect(ntsc.graph.capturePin.format).toMatchObject({ width: 720, height: 480, frameInterval: 333667n });
    const pal = await build({
      id: 'synthetic:tuner-eu',
      antenna: { table: 'europe-west', channels: ['E5', 'E21'] },
      cable: { table: 'europe-west-cable', channels: ['S21'] },
    });
    // The European card starts on its plan's standard (PAL-B on VHF), a 625-line system.
    expect(await pal.graph.tuner.standard()).toBe('PAL-B');
    expect(pal.graph.capturePin.format).toMatchObject({ width: 720, height: 576, frameInterval: 400000n });
    expect(TV_STANDARDS['PAL-B'].height).toBe(576);
    const f = pal.graph.capturePin.proposeFormat({ subtype: MediaSubtype.YUY2 });
    expect(f.status).toBe('valid');
    expect(f.format).toMatchObject({ width: 720, height: 576, frameInterval: 400000n });
    expect(
      pal.graph.capturePin.proposeFormat({ subtype: MediaSubtype.YUY2, width: 720, height: 480 }).status,
    ).toBe('invalid');
  });

  it('refuses a device without a tuner filter with NotFound, and creates no filter', async () => {
    const device = createWebcamDevice(new SyntheticCamera(), { clock: new ManualClock(0n) });
    open.push({ device });
    await expect(openTuner(device)).rejects.toMatchObject({ code: 'NotFound' });
    expect(device.filters).toHaveLength(0);
  });
});

describe('tuner properties', () => {
  it('reports caps, then lock with signal strength once the PLL settles', async () => {
    const { clock, graph } = await build();
    const before = await graph.tuner.status();
    expect(before).toMatchObject({ locked: false, busy: true, frequencyHz: 55_250_000 });
    clock.advance(SETTLE);
    const after = await graph.tuner.status();
    expect(after.locked).toBe(true);
    expect(after.busy).toBe(false);
    expect(after.signalStrength).toBeGreaterThan(0);
    expect(await graph.decoder.status()).toEqual({ lines: 525, locked: true });
    const caps = (await graph.filters.tuner.properties.get(
      PropSetId.Tuner,
      TunerProperty.ModeCaps,
    )) as Uint8Array;
    const v = new DataView(caps.buffer, caps.byteOffset);
    expect([
      v.getUint32(0, true),
      v.getUint32(8, true),
      v.getUint32(12, true),
      v.getUint32(16, true),
    ]).toEqual([TunerMode.Tv, 44_000_000, 870_000_000, 62_500]);
  });

  it('rejects frequencies out of range or off the tuning grid with RangeError', async () => {
    const { graph } = await build();
    await expect(graph.tuner.setFrequency(10_000_000)).rejects.toThrow(RangeError);
    await expect(graph.tuner.setFrequency(900_000_000)).rejects.toThrow(RangeError);
    await expect(graph.tuner.setFrequency(55_250_001)).rejects.toThrow(RangeError);
    expect(await graph.tuner.frequency()).toBe(55_250_000);
    await expect(graph.tuner.tuneChannel('us-broadcast', '99')).rejects.toThrow(RangeError);
  });

  it('rejects unsupported standards, modes and inputs with typed errors', async () => {
    const { graph } = await build({ standards: ['NTSC-M'] });
    await expect(graph.tuner.setStandard('PAL-B')).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(graph.tuner.setStandard('PAL-K')).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(
      graph.filters.tuner.properties.set(PropSetId.Tuner, TunerProperty.Standard, 0x1000 /* SECAM_B */),
    ).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(
      graph.filters.decoder.properties.set(PropSetId.VideoDecoder, 1, AnalogVideoStandard.SECAM_L),
    ).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(
      graph.filters.tuner.properties.set(PropSetId.Tuner, TunerProperty.Mode, TunerMode.FmRadio),
    ).rejects.toThrow(RangeError);
    await expect(graph.tuner.setInput(2)).rejects.toThrow(RangeError);
    expect(await graph.tuner.standard()).toBe('NTSC-M');
  });

  it('refuses a 525 → 625 line change while capturing', async () => {
    const { graph } = await build();
    await graph.capturePin.setState('acquire');
    await expect(graph.tuner.setStandard('PAL-B')).rejects.toMatchObject({ code: 'InvalidDeviceState' });
    await graph.capturePin.setState('stop');
    await graph.tuner.setStandard('PAL-B');
    expect(await graph.tuner.standard()).toBe('PAL-B');
  });
});

describe('tuner events and hot-unplug', () => {
  it('signals KSEVENT_TUNER_CHANGED when lock is gained and lost', async () => {
    const { clock, graph } = await build();
    const seen: boolean[] = [];
    graph.filters.tuner.events.enable(EventSetId.Tuner, TunerEvent.Changed, (s) =>
      seen.push((s as { locked: boolean }).locked),
    );
    clock.advance(SETTLE);
    await graph.tuner.setFrequency(60_000_000); // between channels 2 and 3: nothing on the air
    clock.advance(SETTLE);
    expect(seen).toEqual([true, false]);
  });

  it('on unplug ends the stream with Disconnected frames and still closes cleanly', async () => {
    const hal = new UnpluggableTuner();
    const clock = new ManualClock(10_000_000n);
    const device = createTunerDevice(hal, { clock });
    const graph = await openTuner(device);
    open.push({ device, graph });
    clock.advance(SETTLE);
    await graph.capturePin.run();
    const stream = graph.capturePin.frames();
    (await nextFrame(clock, hal, stream, 333667n)).release();
    const removed = new Promise((r) => device.on('removed', r));
    hal.unplug();
    await removed;
    for await (const f of stream) {
      expect([FrameStatus.Success, FrameStatus.Disconnected]).toContain(f.status);
      f.release();
    }
    await expect(graph.tuner.status()).rejects.toMatchObject({ code: 'Disconnected' });
    await graph.close();
    await device.close();
    expect(device.state).toBe('closed');
  });
});

describe('crossbar and TV audio', () => {
  it('describes its pins and routes video inputs to the decoder only', async () => {
    const { graph } = await build();
    expect(graph.crossbar.pinInfo('in', CrossbarInput.VideoSVideo)).toMatchObject({
      pinType: PhysConn.VideoSVideo,
      relatedPinIndex: CrossbarInput.AudioLine,
    });
    expect(graph.crossbar.pinInfo('out', CrossbarOutput.VideoDecoder).pinType).toBe(PhysConn.VideoDecoder);
    expect(() => graph.crossbar.pinInfo('in', 9)).toThrow(RangeError);
    expect(graph.crossbar.canRoute(CrossbarInput.VideoComposite, CrossbarOutput.VideoDecoder)).toBe(true);
    expect(graph.crossbar.canRoute(CrossbarInput.AudioTuner, CrossbarOutput.VideoDecoder)).toBe(false);
    await graph.crossbar.route(CrossbarInput.VideoComposite, CrossbarOutput.VideoDecoder);
    expect(await graph.crossbar.videoRoute()).toBe(CrossbarInput.VideoComposite);
    // Nothing is plugged into the composite connector: the decoder sees no signal.
    expect((await graph.decoder.status()).locked).toBe(false);
    await expect(
      graph.crossbar.route(CrossbarInput.AudioLine, CrossbarOutput.VideoDecoder),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(graph.crossbar.route(7, CrossbarOutput.VideoDecoder)).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
  });

  it('switches mono / stereo / SAP and lists what the channel carries', async () => {
    const { clock, graph } = await build();
    const audio = graph.tvAudio!;
    expect(await audio.mode()).toBe(TvAudioMode.Stereo);
    expect(await audio.availableModes()).toBe(TvAudioMode.Mono);
    clock.advance(SETTLE);
    expect(await audio.availableModes()).toBe(TvAudioMode.Mono | TvAudioMode.Stereo | TvAudioMode.LangB);
    await audio.setMode(TvAudioMode.LangB);
    expect(await audio.mode()).toBe(TvAudioMode.LangB);
    await expect(audio.setMode(TvAudioMode.LangA)).rejects.toMatchObject({ code: 'NotSupported' });
    await expect(audio.setMode(TvAudioMode.Mono | TvAudioMode.Stereo)).rejects.toMatchObject({
      code: 'NotSupported',
    });
  });
});

describe('scan', () => {
  it('finds exactly the channels the card carries, on antenna and on cable', async () => {
    const antenna = ['2', '4', '5', '7', '9', '11', '13', '27', '44'];
    const cable = ['3', '8', '14', '22', '95', '100'];
    const { clock, graph } = await build({
      antenna: { table: 'us-broadcast', channels: antenna },
      cable: { table: 'us-cable', channels: cable },
    });
    const onAir = await whileAdvancing(clock, SETTLE, graph.tuner.scan({ table: 'us-broadcast' }));
    expect(onAir.map((c) => c.name)).toEqual(antenna);
    await graph.tuner.setInput(1);
    const onCable = await whileAdvancing(clock, SETTLE, graph.tuner.scan({ table: 'us-cable' }));
    expect(onCable.map((c) => c.name)).toEqual(cable);
    // The tuner is back where it was.
    expect(await graph.tuner.frequency()).toBe(55_250_000);
  });
});

describe('changing channel while running', () => {
  it('keeps frames flowing, marks the change with a discontinuity, and shows snow until lock', async () => {
    // The default PLL settles in 100 ms, three NTSC frame times; nextFrame waits for the card's
    // thread per frame time, so which frames fall inside that window is fixed.
    const settle = SETTLE;
    const { clock, hal, graph } = await build();
    const pin = graph.capturePin;
    const period = 333667n;
    clock.advance(settle); // locked on channel 2 before streaming
    await pin.run();
    const stream = pin.frames();
    type Taken = { seq: number; pts: bigint; flags: number; data: Uint8Array };
    const take = async (): Promise<Taken> => {
      const f = await nextFrame(clock, hal, stream, period);
      expect(f.status).toBe(FrameStatus.Success);
      const copy = {
        seq: f.sequence,
        pts: f.presentationTime,
        flags: f.flags,
        data: f.data.slice(0, f.bytesUsed),
      };
      f.release();
      return copy;
    };
    const changed = (a: Uint8Array, b: Uint8Array): number => {
      let n = 0;
      for (let i = 0; i < a.length; i += 97) if (a[i] !== b[i]) n++;
      return n / Math.ceil(a.length / 97);
    };
    const locked1 = await take();
    const locked2 = await take();
    // A locked channel is a still test card (only the overlay moves).
    expect(changed(locked1.data, locked2.data)).toBeLessThan(0.05);
    const retunedAt = clock.now();
    await graph.tuner.tuneChannel('us-broadcast', '4');
    const after: Taken[] = [];
    while (
      after.length < 60 &&
      (after.length === 0 || after[after.length - 1]!.pts < retunedAt + settle + 2n * period)
    ) {
      after.push(await take());
    }
    // Frames kept coming, in order; the first after the change is flagged.
    for (let i = 1; i < after.length; i++) expect(after[i]!.seq).toBeGreaterThan(after[i - 1]!.seq);
    // The first frame due after the change is flagged. Frames due up to the change (one is still
    // queued: the first frame time made frames 0 and 1 due) were captured before it, unflagged.
    const first = after.findIndex((f) => f.pts > retunedAt);
    expect(after.slice(0, first).every((f) => (f.flags & FrameFlags.DataDiscontinuity) === 0)).toBe(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(after[first]!.flags & FrameFlags.DataDiscontinuity).toBe(FrameFlags.DataDiscontinuity);
    // Snow while settling (a frame shows what the input carried when it was due): consecutive
    // frames differ in every luma sample (about half the bytes).
    const settling = after.filter((f) => f.pts > retunedAt && f.pts < retunedAt + settle);
    expect(settling.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < settling.length; i++) {
      expect(changed(settling[i - 1]!.data, settling[i]!.data)).toBeGreaterThan(0.3);
    }
    // Locked again: a still picture, the other channel's card (another number burned in).
    const [a, b] = after.slice(-2);
    expect(changed(a!.data, b!.data)).toBeLessThan(0.05);
    expect(changed(b!.data, locked2.data)).toBeGreaterThan(0.002);
    await stopDraining(pin, stream);
  });
});
