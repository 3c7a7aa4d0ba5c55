// UvcFunction end to end in-process: hal's USB/IP client + UVC parser/probe/reassembler against our export.
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  PayloadReassembler,
  UsbIpClientTransport,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  isHalError,
  parseUvcConfiguration,
} from '@ksemu/hal';
import type { ProbeCommit } from '@ksemu/hal';
import { UsbIpServer } from './usbip-server.js';
import { UvcFunction } from './uvc-function.js';
import type { UvcFunctionOptions } from './uvc-function.js';
import { PatternFrameSource, framePatternByte, yuy2Format } from './testing/pattern-frame-source.js';

const servers: UsbIpServer[] = [];
const transports: UsbIpClientTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(
  options: Partial<UvcFunctionOptions> = {},
): Promise<{ fn: UvcFunction; src: PatternFrameSource; t: UsbIpClientTransport; server: UsbIpServer }> {
  const src =
    (options.source as PatternFrameSource | undefined) ??
    new PatternFrameSource([yuy2Format(64, 48), yuy2Format(32, 24)]);
  const fn = new UvcFunction({ ...options, source: src });
  const server = new UsbIpServer({ port: 0 });
  servers.push(server);
  server.addDevice(fn);
  const { port } = await server.listen();
  const t = await UsbIpClientTransport.connect({ port, busid: '1-1', controlTimeoutMs: 0 });
  transports.push(t);
  return { fn, src, t, server };
}

const VS = 1;
async function negotiate(t: UsbIpClientTransport, ask: Partial<ProbeCommit>): Promise<ProbeCommit> {
  const set = (sel: number, p: ProbeCommit) =>
    t.controlOut({ requestType: 0x21, request: 0x01, value: sel << 8, index: VS }, encodeProbeCommit(p, 34));
  expect(await set(1, emptyProbeCommit({ hint: 1, ...ask }))).toBe(34);
  const cur = decodeProbeCommit(
    await t.controlIn({ requestType: 0xa1, request: 0x81, value: 1 << 8, index: VS }, 34),
  );
  await set(2, cur);
  return cur;
}
function expectFrame(bytes: Uint8Array, length: number): number {
  expect(bytes.length).toBe(length);
  const n = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
  let ok = true;
  for (let i = 0; i < length && ok; i++) ok = bytes[i] === framePatternByte(n, i);
  expect(ok).toBe(true);
  return n;
}

describe('UvcFunction descriptors and controls', () => {
  it('builds descriptors hal parses back into the same formats, sizes, intervals and controls', async () => {
    const { t } = await setup({ transfer: 'iso' });
    const cfg = parseUvcConfiguration(await t.configDescriptor());
    expect(cfg.warnings).toEqual([]);
    const f = cfg.functions[0]!;
    expect(f.processingUnits[0]!.controls).toEqual(['brightness']);
    const vs = f.streamingInterfaces[0]!;
    expect(vs.transfer).toBe('isochronous');
    expect(vs.altSettings.map((a) => a.bytesPerInterval)).toEqual([128, 512, 1024, 2048, 3072]);
    expect(
      vs.formats.map((x) => [
        x.fourcc,
        x.bitsPerPixel,
        x.frames.map((fr) => [fr.width, fr.height, fr.intervals, fr.maxFrameBufferSize]),
      ]),
    ).toEqual([
      [
        'YUY2',
        16,
        [
          [64, 48, [333333, 666666], 6144],
          [32, 24, [333333, 666666], 1536],
        ],
      ],
    ]);
  });

  it('routes brightness GET/SET to the source, and STALLs out-of-range values with a request error', async () => {
    const { t, src } = await setup();
    const pu = (2 << 8) | 0;
    await t.controlOut(
      { requestType: 0x21, request: 0x01, value: 0x02 << 8, index: pu },
      Uint8Array.of(0xf6, 0xff),
    );
    expect(src.brightnessSets).toEqual([-10]);
    const cur = await t.controlIn({ requestType: 0xa1, request: 0x81, value: 0x02 << 8, index: pu }, 2);
    expect(Buffer.from(cur).readInt16LE(0)).toBe(-10);
    const max = await t.controlIn({ requestType: 0xa1, request: 0x83, value: 0x02 << 8, index: pu }, 2);
    expect(Buffer.from(max).readInt16LE(0)).toBe(64);
    const err = await t
      .controlOut({ requestType: 0x21, request: 0x01, value: 0x02 << 8, index: pu }, Uint8Array.of(100, 0))
      .catch((e: unknown) => e);
    expect(isHalError(err, 'Stall')).toBe(true);
    const code = await t.controlIn({ requestType: 0xa1, request: 0x81, value: 0x02 << 8, index: 0 }, 1);
    expect(code[0]).toBe(4); // out-of-range
    expect(src.brightnessSets).toEqual([-10]);
  });
});

describe('UvcFunction streaming', () => {
  it('streams bulk frames equal to the source frames, split into payloads, and releases every buffer on stop', async () => {
    const { t, src, fn } = await setup({ bulkPayloadSize: 1000, headerClock: 'pts' });
    const c = await negotiate(t, { formatIndex: 1, frameIndex: 1, frameInterval: 333333 });
    expect([c.formatIndex, c.frameIndex, c.maxVideoFrameSize, c.maxPayloadTransferSize]).toEqual([
      1, 1, 6144, 1000,
    ]);
    expect(src.started?.format.width).toBe(64);
    const frames: number[] = [];
    let got!: () => void;
    const five = new Promise<void>((r) => (got = r));
    const dest = new Uint8Array(8192);
    const re = new PayloadReassembler({
      transfer: 'bulk',
      maxPayloadTransferSize: 1000,
      expectedFrameSize: 6144,
      onFrame: (f) => {
        frames.push(expectFrame(dest.subarray(0, f.bytesUsed), 6144));
        re.setDestination(dest);
        if (frames.length === 5) got();
      },
    });
    re.setDestination(dest);
    const stream = t.openInStream(0x81, {
      transferSize: 1000,
      depth: 4,
      onData: (v, s) => s === 'ok' && re.pushBulk(v, 1000),
    });
    src.autoEmit = true;
    src.emit();
    await five;
    expect(frames).toEqual([0, 1, 2, 3, 4]);
    src.autoEmit = false;
    await t.clearHalt(0x81);
    await stream.stop();
    await fn.whenStopped();
    expect([src.starts, src.stops, src.outstanding]).toEqual([1, 1, 0]);
    expect(fn.streamState).toBe('idle');
  });

  it('streams iso frames on the alternate setting the bandwidth needs and stops on alt 0', async () => {
    const { t, src, fn } = await setup({ transfer: 'iso' });
    const c = await negotiate(t, { formatIndex: 1, frameIndex: 2, frameInterval: 333333 });
    expect(c.maxPayloadTransferSize).toBe(128); // 1536 B per 266 µframes + header fits the smallest alt
    await t.claimInterface(VS);
    await t.setAlternateSetting(VS, 1);
    const frames: number[] = [];
    let got!: () => void;
    const three = new Promise<void>((r) => (got = r));
    const dest = new Uint8Array(4096);
    const re = new PayloadReassembler({
      transfer: 'isochronous',
      expectedFrameSize: 1536,
      onFrame: (f) => {
        frames.push(expectFrame(dest.subarray(0, f.bytesUsed), 1536));
        re.setDestination(dest);
        if (frames.length === 3) got();
      },
    });
    re.setDestination(dest);
    const stream = t.openIsoInStream(0x81, {
      packetsPerTransfer: 16,
      packetSize: 128,
      depth: 3,
      onTransfer: (v) => {
        for (let i = 0; i < v.packetCount; i++)
          re.pushIsoPacket(v.data, i * v.packetSize, v.packetLengths[i]!, v.packetStatus[i]);
      },
    });
    src.autoEmit = true;
    src.emit();
    await three;
    expect(frames.slice(0, 3)).toEqual([0, 1, 2]);
    src.autoEmit = false;
    await stream.stop();
    await t.setAlternateSetting(VS, 0);
    await fn.whenStopped();
    expect([src.stops, src.outstanding]).toEqual([1, 0]);
  });

  it('stops the source and returns every frame when the client vanishes mid-stream', async () => {
    const { t, src, fn, server } = await setup({ bulkPayloadSize: 512 });
    await negotiate(t, { formatIndex: 1, frameIndex: 1, frameInterval: 333333 });
    let seen = 0;
    let first!: () => void;
    const one = new Promise<void>((r) => (first = r));
    t.openInStream(0x81, {
      transferSize: 512,
      depth: 2,
      onData: () => {
        if (++seen === 3) first();
      },
    });
    src.emit();
    src.emit(); // dropped: the first frame is still being sent
    await one;
    await t.close();
    while (server.connectionCount > 0) await new Promise((r) => setImmediate(r));
    await fn.whenStopped();
    expect([src.stops, src.outstanding]).toEqual([1, 0]);
    expect(fn.stats.framesDropped).toBe(1);
    expect(fn.committed).toBeUndefined();
  });
});
