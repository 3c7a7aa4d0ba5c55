// End-to-end in-process: hal's USB/IP client transport against our USB/IP server and the pattern device.
import { afterEach, describe, expect, it } from '@jest/globals';
import { UsbIpClientTransport, UsbIpTransportProvider, isHalError } from '@ksemu/hal';
import type { IsoTransferView, UsbTransferStatus } from '@ksemu/hal';
import { UsbIpServer } from './usbip-server.js';
import {
  PATTERN_BULK_IN,
  PATTERN_ISO_IN,
  PATTERN_ISO_PACKET,
  PatternDevice,
  PatternRequest,
  patternByte,
} from './testing/pattern-device.js';
import type { ControlResult, UsbIpDevice } from './usbip-device.js';

const servers: UsbIpServer[] = [];
const transports: UsbIpClientTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const s of servers.splice(0)) await s.close();
});

async function serve(...devices: UsbIpDevice[]): Promise<{ server: UsbIpServer; port: number }> {
  const server = new UsbIpServer({ port: 0 });
  servers.push(server);
  for (const d of devices) server.addDevice(d);
  return { server, port: (await server.listen()).port };
}
async function open(port: number, busid = '1-1'): Promise<UsbIpClientTransport> {
  const t = await UsbIpClientTransport.connect({ port, busid });
  transports.push(t);
  return t;
}
async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
const vendorOut = (request: number, value = 0, index = 0) => ({ requestType: 0x40, request, value, index });

describe('USB/IP loopback: client transport ↔ server', () => {
  it('lists and imports devices, with descriptors and identity', async () => {
    const dev = new PatternDevice({ busid: '3-2' });
    const { port } = await serve(dev);
    const provider = new UsbIpTransportProvider({ port });
    const [info] = await provider.listDevices({ vendorId: 0x1209 });
    expect(info).toMatchObject({
      vendorId: 0x1209,
      productId: 0x0002,
      busNumber: 3,
      portPath: [2],
      speed: 'high',
      location: '3-2',
    });
    const t = (await provider.open(info!)) as UsbIpClientTransport;
    transports.push(t);
    expect(Array.from(t.deviceDescriptor())).toEqual(Array.from(dev.deviceDescriptor));
    expect(Array.from(await t.configDescriptor())).toEqual(Array.from(dev.configDescriptor));
  });

  it('refuses an import of an unknown or busy device with NotFound', async () => {
    const { port } = await serve(new PatternDevice());
    expect(isHalError(await caught(UsbIpClientTransport.connect({ port, busid: '7-7' })), 'NotFound')).toBe(
      true,
    );
    await open(port);
    expect(isHalError(await caught(UsbIpClientTransport.connect({ port, busid: '1-1' })), 'NotFound')).toBe(
      true,
    );
  });

  it('does control OUT/IN echo and maps STALL to HalError Stall', async () => {
    const { port } = await serve(new PatternDevice());
    const t = await open(port);
    const data = Uint8Array.from({ length: 34 }, (_v, i) => 255 - i);
    expect(await t.controlOut(vendorOut(PatternRequest.EchoStore), data)).toBe(34);
    const back = await t.controlIn(
      { requestType: 0xc0, request: PatternRequest.EchoLoad, value: 0, index: 0 },
      64,
    );
    expect(Array.from(back)).toEqual(Array.from(data));
    const err = await caught(t.controlIn({ requestType: 0xc0, request: 0x66, value: 0, index: 0 }, 4));
    expect(isHalError(err, 'Stall')).toBe(true);
  });

  it('times out a control request the device never answers, via CMD_UNLINK', async () => {
    const dev = new PatternDevice();
    const never: UsbIpDevice = Object.assign(Object.create(dev) as PatternDevice, {
      handleControl: (): Promise<ControlResult> => new Promise<ControlResult>(() => undefined),
    });
    const { port } = await serve(never);
    const t = await open(port);
    const err = await caught(
      t.controlIn({ requestType: 0xc0, request: 1, value: 0, index: 0 }, 4, { timeoutMs: 30 }),
    );
    expect(isHalError(err, 'TimedOut')).toBe(true);
    expect(t.pendingUrbs).toBe(0);
  });

  it('streams the bulk pattern through a callback stream and stops cleanly', async () => {
    const dev = new PatternDevice({ seed: 5 });
    const { port } = await serve(dev);
    const t = await open(port);
    await t.claimInterface(0);
    const chunks: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const stream = t.openInStream(PATTERN_BULK_IN, {
      transferSize: 512,
      depth: 4,
      onData: (view: Uint8Array, status: UsbTransferStatus) => {
        if (status !== 'ok') return;
        chunks.push(...view);
        if (chunks.length >= 10 * 1000) done();
      },
    });
    await t.controlOut(vendorOut(PatternRequest.BulkStart, 10, 1000), new Uint8Array(0));
    await all;
    expect(chunks.length).toBe(10_000);
    expect(chunks.every((b, i) => b === patternByte(5, i))).toBe(true);
    await stream.stop();
    expect(await stream.ended).toEqual({ reason: 'stopped' });
    expect(t.pendingUrbs).toBe(0);
    expect(dev.waitingBulkUrbs).toBe(0);
    expect(dev.released).toBe(10);
  });

  it('streams bulk through the async iterator with back-pressure', async () => {
    const dev = new PatternDevice({ seed: 2 });
    const { port } = await serve(dev);
    const t = await open(port);
    await t.claimInterface(0);
    await t.controlOut(vendorOut(PatternRequest.BulkStart, 6, 300), new Uint8Array(0));
    const stream = t.openInStream(PATTERN_BULK_IN, { transferSize: 256, depth: 2 });
    const got: number[] = [];
    const lengths: number[] = [];
    for await (const r of stream) {
      got.push(...r.data);
      lengths.push(r.data.length);
      if (got.length === 1800) break;
    }
    expect(lengths).toEqual([256, 44, 256, 44, 256, 44, 256, 44, 256, 44, 256, 44]);
    expect(got.every((b, i) => b === patternByte(2, i))).toBe(true);
    expect(await stream.ended).toEqual({ reason: 'stopped' });
  });

  it('streams iso packets in order and stops with SET_INTERFACE alt 0', async () => {
    const dev = new PatternDevice();
    const { port } = await serve(dev);
    const t = await open(port);
    await t.claimInterface(1);
    await t.setAlternateSetting(1, 1);
    const counters: number[] = [];
    let resolve!: () => void;
    const three = new Promise<void>((r) => (resolve = r));
    let transfers = 0;
    const stream = t.openIsoInStream(PATTERN_ISO_IN, {
      packetsPerTransfer: 8,
      packetSize: PATTERN_ISO_PACKET,
      depth: 2,
      onTransfer: (v: IsoTransferView) => {
        if (v.status !== 'ok') return;
        for (let i = 0; i < v.packetCount; i++) {
          expect(v.packetLengths[i]).toBe(PATTERN_ISO_PACKET);
          const p = v.data.subarray(i * v.packetSize);
          counters.push(p[0]! | (p[1]! << 8));
          expect(p[100]).toBe(patternByte(1, 100));
        }
        if (++transfers === 3) resolve();
      },
    });
    await three;
    await stream.stop();
    expect(await stream.ended).toEqual({ reason: 'stopped' });
    expect(counters.slice(0, 24)).toEqual(Array.from({ length: 24 }, (_v, i) => i));
    await t.setAlternateSetting(1, 0);
    expect(dev.isoStreaming).toBe(false);
    expect(t.pendingUrbs).toBe(0);
  });

  it('reports the server going away: listeners, streams and later calls', async () => {
    const dev = new PatternDevice();
    const { server, port } = await serve(dev);
    const t = await open(port);
    const gone = new Promise<Error>((r) => t.onDisconnect(r));
    const stream = t.openInStream(PATTERN_BULK_IN, { transferSize: 512, depth: 2, onData: () => undefined });
    await server.close();
    expect(isHalError(await gone, 'Disconnected')).toBe(true);
    expect((await stream.ended).reason).toBe('disconnected');
    expect(t.state).toBe('disconnected');
    expect(
      isHalError(
        await caught(t.controlIn({ requestType: 0x80, request: 0, value: 0, index: 0 }, 2)),
        'Disconnected',
      ),
    ).toBe(true);
    expect(dev.detachReasons).toHaveLength(1);
  });

  it('serves several devices to several clients at once, and the device sees a clean detach on close', async () => {
    const a = new PatternDevice({ busid: '1-1', seed: 3 });
    const b = new PatternDevice({ busid: '1-2', seed: 4 });
    const { server, port } = await serve(a, b);
    const [ta, tb] = await Promise.all([open(port, '1-1'), open(port, '1-2')]);
    const collect = async (t: UsbIpClientTransport, seed: number): Promise<boolean> => {
      await t.claimInterface(0);
      const bytes: number[] = [];
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const s = t.openInStream(PATTERN_BULK_IN, {
        transferSize: 512,
        depth: 3,
        onData: (v) => {
          bytes.push(...v);
          if (bytes.length >= 4000) done();
        },
      });
      await t.controlOut(vendorOut(PatternRequest.BulkStart, 4, 1000), new Uint8Array(0));
      await all;
      await s.stop();
      return bytes.every((x, i) => x === patternByte(seed, i));
    };
    expect(await Promise.all([collect(ta!, 3), collect(tb!, 4)])).toEqual([true, true]);
    await ta!.close();
    while (server.connectionCount > 1) await new Promise((r) => setImmediate(r));
    expect(a.detachReasons).toHaveLength(1);
    expect(b.detachReasons).toHaveLength(0);
  });
});
