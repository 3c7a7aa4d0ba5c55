// exportCapturePin end to end in-process: a synthetic camera's KS capture pin served over USB/IP, consumed by hal's USB/IP client and UVC host code.
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  PayloadReassembler,
  SyntheticCamera,
  UsbIpClientTransport,
  createFrameRenderer,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  isHalError,
  parseUvcConfiguration,
} from '@ksemu/hal';
import type { Fourcc, ProbeCommit } from '@ksemu/hal';
import { ManualClock, PropSetId, type KsDevice } from '@ksemu/ks-core';
import { VideoProcAmpProperty, createWebcamDevice } from '@ksemu/minidriver-webcam';
import { UsbIpServer } from './usbip-server.js';
import { exportCapturePin, type CapturePinExport } from './capture-pin-export.js';
import { uvcFormatsOfRanges } from './pin-frame-source.js';

const PATTERN = { pattern: 'moving-box', seed: 7 } as const;
const VS = 1;
const PU = 2 << 8;
const INTERVAL = 333333;

interface Rig {
  server: UsbIpServer;
  port: number;
  devices: KsDevice[];
  exports: CapturePinExport[];
}
const rigs: Rig[] = [];
const transports: UsbIpClientTransport[] = [];

afterEach(async () => {
  for (const t of transports.splice(0)) await t.close().catch(() => undefined);
  for (const r of rigs.splice(0)) {
    await r.server.close();
    for (const e of r.exports) {
      await e.close();
      // Buffer balance: every slot lent to the export came back, the pin is stopped.
      expect(e.source.outstanding).toBe(0);
      expect(e.source.stats.framesLent).toBe(e.source.stats.framesReturned);
    }
    for (const d of r.devices) await d.close();
  }
});

async function rig(
  transfer: 'bulk' | 'iso' = 'bulk',
  count = 1,
  options: { bulkPayloadSize?: number } = {},
): Promise<Rig> {
  const server = new UsbIpServer({ port: 0 });
  const r: Rig = { server, port: 0, devices: [], exports: [] };
  rigs.push(r);
  for (let i = 0; i < count; i++) {
    const clock = new ManualClock(0n);
    const device = createWebcamDevice(new SyntheticCamera(PATTERN), { clock });
    r.devices.push(device);
    const e = await exportCapturePin(device, {
      transfer,
      busid: `1-${i + 1}`,
      manualClock: clock,
      fourccs: ['YUY2', 'MJPG'],
      maxFps: 30,
      ...options,
    });
    r.exports.push(e);
    server.addDevice(e);
  }
  r.port = (await server.listen()).port;
  return r;
}

async function connect(r: Rig, busid = '1-1'): Promise<UsbIpClientTransport> {
  const t = await UsbIpClientTransport.connect({ port: r.port, busid, controlTimeoutMs: 0 });
  transports.push(t);
  return t;
}

async function negotiate(t: UsbIpClientTransport, ask: Partial<ProbeCommit>): Promise<ProbeCommit> {
  const set = (sel: number, p: ProbeCommit) =>
    t.controlOut(
      { requestType: 0x21, request: 0x01, value: sel << 8, index: VS },
      encodeProbeCommit(p, 34),
      SLOW,
    );
  await set(1, emptyProbeCommit({ hint: 1, ...ask }));
  const cur = decodeProbeCommit(
    await t.controlIn({ requestType: 0xa1, request: 0x81, value: 1 << 8, index: VS }, 34, SLOW),
  );
  await set(2, cur);
  return cur;
}

/** No deadline: the server shares this event loop, so a deadline would only measure machine load. */
const SLOW = { timeoutMs: 0 };

/** CLEAR_FEATURE(ENDPOINT_HALT) on the stream endpoint: how a UVC host stops a bulk stream. */
const clearHalt = (t: UsbIpClientTransport): Promise<number> =>
  t.controlOut({ requestType: 0x02, request: 0x01, value: 0, index: 0x81 }, new Uint8Array(0), SLOW);

/** formatIndex/frameIndex of a FOURCC and size in the parsed configuration. */
async function findFrame(
  t: UsbIpClientTransport,
  fourcc: string,
  width: number,
  height: number,
): Promise<{ formatIndex: number; frameIndex: number }> {
  const cfg = parseUvcConfiguration(await t.configDescriptor());
  for (const f of cfg.functions[0]!.streamingInterfaces[0]!.formats) {
    if (f.fourcc !== fourcc) continue;
    const fr = f.frames.find((x) => x.width === width && x.height === height);
    if (fr) return { formatIndex: f.index, frameIndex: fr.index };
  }
  throw new Error(`no ${fourcc} ${width}x${height}`);
}

/** The camera's frame n, rendered independently with hal's renderer. */
function expected(fourcc: Fourcc, width: number, height: number, n: number): Uint8Array {
  const r = createFrameRenderer({ ...PATTERN }, { fourcc, width, height, interval: BigInt(INTERVAL) });
  const out = new Uint8Array(r.layout.imageSize);
  const used = r.render(out, 0, out.length, n, -1);
  return out.subarray(0, used);
}

/** Frame index from the payload PTS (48 MHz ticks of n × interval). */
const indexOfPts = (pts: number): number => Math.round(pts / (INTERVAL * 4.8));

/** Streams `count` bulk frames and returns [index, bytes] pairs. */
async function streamBulk(
  t: UsbIpClientTransport,
  c: ProbeCommit,
  count: number,
): Promise<Array<[number, Uint8Array]>> {
  const out: Array<[number, Uint8Array]> = [];
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  const dest = new Uint8Array(c.maxVideoFrameSize);
  const size = c.maxPayloadTransferSize;
  const re = new PayloadReassembler({
    transfer: 'bulk',
    maxPayloadTransferSize: size,
    expectedFrameSize: c.maxVideoFrameSize,
    onFrame: (f) => {
      if (out.length < count) out.push([indexOfPts(f.pts), dest.slice(0, f.bytesUsed)]);
      re.setDestination(dest);
      if (out.length === count) done();
    },
  });
  re.setDestination(dest);
  const stream = t.openInStream(0x81, {
    transferSize: size,
    depth: 4,
    onData: (v, s) => s === 'ok' && re.pushBulk(v, size),
  });
  await enough;
  await clearHalt(t);
  await stream.stop();
  return out;
}

describe('exportCapturePin descriptors and controls', () => {
  it('describes exactly the pin formats asked for (sizes, intervals, default first)', async () => {
    const r = await rig();
    const t = await connect(r);
    const cfg = parseUvcConfiguration(await t.configDescriptor());
    expect(cfg.warnings).toEqual([]);
    const want = uvcFormatsOfRanges(
      r.exports[0]!.pin.dataRanges.filter((x) => x.kind === 'video'),
      { fourccs: ['YUY2', 'MJPG'], maxFps: 30 },
    );
    const got = cfg.functions[0]!.streamingInterfaces[0]!.formats.flatMap((f) =>
      f.frames.map((fr) => [f.fourcc, fr.width, fr.height, fr.intervals]),
    );
    expect(got).toEqual(want.map((f) => [f.fourcc, f.width, f.height, f.intervals]));
    expect(new Set(got.map((g) => g[0]))).toEqual(new Set(['YUY2', 'MJPG']));
    // maxFps 30: nothing faster than 30 fps; the camera's default (30 fps) comes first.
    for (const g of got) {
      const iv = g[3] as number[];
      expect(iv[0]).toBe(333333);
      expect(Math.min(...iv)).toBeGreaterThanOrEqual(333333);
    }
    expect(cfg.functions[0]!.processingUnits[0]!.controls).toContain('brightness');
  });

  it('SET_CUR brightness reaches the KS property; GET_* come from basic support; out of range STALLs', async () => {
    const r = await rig();
    const t = await connect(r);
    const e = r.exports[0]!;
    const props = e.filter.properties;
    const d = props.basicSupport(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness);
    const req = (request: number) =>
      t
        .controlIn({ requestType: 0xa1, request, value: 0x02 << 8, index: PU }, 2)
        .then((b) => Buffer.from(b).readInt16LE(0));
    expect([await req(0x82), await req(0x83), await req(0x84), await req(0x87)]).toEqual([
      d.min,
      d.max,
      d.step,
      d.default,
    ]);
    const target = Number(d.min) + Number(d.step) * 3;
    const le = Buffer.alloc(2);
    le.writeInt16LE(target);
    await t.controlOut({ requestType: 0x21, request: 0x01, value: 0x02 << 8, index: PU }, le);
    expect(await props.get(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness)).toBe(target);
    expect(await req(0x81)).toBe(target);
    le.writeInt16LE(Number(d.max) + 1);
    const err = await t
      .controlOut({ requestType: 0x21, request: 0x01, value: 0x02 << 8, index: PU }, le)
      .catch((x: unknown) => x);
    expect(isHalError(err, 'Stall')).toBe(true);
    const code = await t.controlIn({ requestType: 0xa1, request: 0x81, value: 0x02 << 8, index: 0 }, 1);
    expect(code[0]).toBe(4); // out-of-range
    expect(await props.get(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness)).toBe(target);
  });
});

describe('exportCapturePin streaming', () => {
  it('bulk: commit sets the pin format; 30 frames equal the camera frames of the same indices', async () => {
    const r = await rig('bulk', 1, { bulkPayloadSize: 8192 });
    const t = await connect(r);
    const e = r.exports[0]!;
    const at = await findFrame(t, 'YUY2', 160, 120);
    const c = await negotiate(t, { ...at, frameInterval: INTERVAL });
    expect(c.maxVideoFrameSize).toBe(160 * 120 * 2);
    const frames = await streamBulk(t, c, 30);
    expect(e.pin.format).toMatchObject({ width: 160, height: 120, frameInterval: BigInt(INTERVAL) });
    expect(frames.map(([n]) => n)).toEqual([...Array(30).keys()]);
    for (const [n, bytes] of frames) {
      const want = expected('YUY2', 160, 120, n);
      expect(bytes.length).toBe(want.length);
      expect(Buffer.compare(bytes, want)).toBe(0);
    }
    await e.whenStopped();
    expect(e.pin.state).toBe('stop');
    expect(e.source.outstanding).toBe(0);
  });

  it('bulk MJPEG: frames equal the camera JPEGs; a second commit restarts with the new format', async () => {
    const r = await rig('bulk', 1, { bulkPayloadSize: 8192 });
    const t = await connect(r);
    const e = r.exports[0]!;
    let c = await negotiate(t, { ...(await findFrame(t, 'YUY2', 176, 144)), frameInterval: INTERVAL });
    await streamBulk(t, c, 2);
    await e.whenStopped();
    c = await negotiate(t, { ...(await findFrame(t, 'MJPG', 160, 120)), frameInterval: INTERVAL });
    const frames = await streamBulk(t, c, 3);
    expect(e.pin.format).toMatchObject({ width: 160, height: 120 });
    for (const [n, bytes] of frames) expect(Buffer.compare(bytes, expected('MJPG', 160, 120, n))).toBe(0);
    expect(e.source.stats.runs).toBe(2);
  });

  it('iso: frames arrive whole on the alternate setting chosen by bandwidth; alt 0 stops the pin', async () => {
    const r = await rig('iso');
    const t = await connect(r);
    const e = r.exports[0]!;
    const c = await negotiate(t, { ...(await findFrame(t, 'YUY2', 160, 120)), frameInterval: INTERVAL });
    const cfg = parseUvcConfiguration(await t.configDescriptor());
    const alt = cfg.functions[0]!.streamingInterfaces[0]!.altSettings.find(
      (a) => a.bytesPerInterval >= c.maxPayloadTransferSize,
    )!;
    await t.claimInterface(VS);
    await t.setAlternateSetting(VS, alt.alt);
    const got: Array<[number, Uint8Array]> = [];
    let done!: () => void;
    const enough = new Promise<void>((res) => (done = res));
    const dest = new Uint8Array(c.maxVideoFrameSize);
    const re = new PayloadReassembler({
      transfer: 'isochronous',
      expectedFrameSize: c.maxVideoFrameSize,
      onFrame: (f) => {
        if (got.length < 3) got.push([indexOfPts(f.pts), dest.slice(0, f.bytesUsed)]);
        re.setDestination(dest);
        if (got.length === 3) done();
      },
    });
    re.setDestination(dest);
    const stream = t.openIsoInStream(0x81, {
      packetsPerTransfer: 32,
      packetSize: alt.bytesPerInterval,
      depth: 3,
      onTransfer: (v) => {
        for (let i = 0; i < v.packetCount; i++)
          re.pushIsoPacket(v.data, i * v.packetSize, v.packetLengths[i]!, v.packetStatus[i]);
      },
    });
    await enough;
    for (const [n, bytes] of got) expect(Buffer.compare(bytes, expected('YUY2', 160, 120, n))).toBe(0);
    await stream.stop();
    await t.setAlternateSetting(VS, 0);
    await e.whenStopped();
    expect(e.pin.state).toBe('stop');
  });

  it('a client vanishing mid-stream stops its pin and returns every slot; another client keeps streaming', async () => {
    const r = await rig('bulk', 2, { bulkPayloadSize: 8192 });
    const [a, b] = r.exports as [CapturePinExport, CapturePinExport];
    const ta = await connect(r, '1-1');
    const tb = await connect(r, '1-2');
    const ca = await negotiate(ta, { ...(await findFrame(ta, 'YUY2', 160, 120)), frameInterval: INTERVAL });
    let seen = 0;
    let some!: () => void;
    const three = new Promise<void>((res) => (some = res));
    ta.openInStream(0x81, {
      transferSize: ca.maxPayloadTransferSize,
      depth: 2,
      onData: () => {
        if (++seen === 3) some();
      },
    });
    await three;
    const cb = await negotiate(tb, { ...(await findFrame(tb, 'YUY2', 160, 120)), frameInterval: INTERVAL });
    await ta.close();
    while (r.server.connectionCount > 1) await new Promise((res) => setImmediate(res));
    await a.whenStopped();
    expect(a.pin.state).toBe('stop');
    expect(a.source.outstanding).toBe(0);
    const frames = await streamBulk(tb, cb, 5);
    expect(frames.map(([n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(Buffer.compare(frames[4]![1], expected('YUY2', 160, 120, 4))).toBe(0);
    await b.whenStopped();
  });
});
