// Tests of ReplayTransport (strict replay, typed failures, streams with back-pressure) and RecordingTransport round trips.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { isHalError } from '../hal-error.js';
import type { UsbTransferStatus } from '../usb/usb-transport.js';
import { RecordingTransport } from './recording-transport.js';
import { ReplayTransport, ReplayTransportProvider } from './replay-transport.js';
import { fromHex, toHex } from './usb-session.js';
import type { UsbSession, UsbSessionEvent } from './usb-session.js';

const GET_CUR = { requestType: 0xa1, request: 0x81, value: 0x0100, index: 0x0001 };
const SET_CUR = { requestType: 0x21, request: 0x01, value: 0x0100, index: 0x0001 };

function session(events: UsbSessionEvent[], isochronous = true): UsbSession {
  return {
    version: 1,
    device: {
      vendorId: 0x1209,
      productId: 1,
      busNumber: 1,
      deviceAddress: 2,
      portPath: [1],
      speed: 'high',
      deviceClass: 0xef,
      deviceSubClass: 2,
      deviceProtocol: 1,
      location: '1-1',
    },
    capabilities: { bulk: true, interrupt: true, isochronous, kernelDriver: true, hotplug: false },
    deviceDescriptor: '12010002ef02014009120100000101020301',
    configDescriptor: '09022000020100800a',
    events,
  };
}

const bulk = (end: 'stopped' | 'disconnected', ...payloads: string[]): UsbSessionEvent => ({
  op: 'inStream',
  endpoint: 0x81,
  transferSize: 8,
  transfers: payloads.map((data) => ({ data, status: 'ok' as UsbTransferStatus })),
  end,
});

describe('ReplayTransport', () => {
  it('replays recorded calls in order and rejects anything unrecorded with Protocol', async () => {
    const t = new ReplayTransport(
      session([
        { op: 'claimInterface', args: [0] },
        { op: 'controlOut', setup: SET_CUR, data: '0102', result: 2 },
        { op: 'controlIn', setup: GET_CUR, length: 2, data: '0102' },
        { op: 'controlIn', setup: GET_CUR, length: 2, error: { code: 'Stall', message: 'stalled' } },
      ]),
    );
    expect(t.deviceDescriptor()[0]).toBe(0x12);
    await t.claimInterface(0);
    await expect(t.claimInterface(1)).rejects.toThrow(/unrecorded call claimInterface\(1\)/);
    expect(await t.controlOut(SET_CUR, Uint8Array.of(1, 2))).toBe(2);
    expect(Array.from(await t.controlIn(GET_CUR, 2))).toEqual([1, 2]);
    const stall = await t.controlIn(GET_CUR, 2).catch((e: unknown) => e);
    expect(isHalError(stall, 'Stall')).toBe(true);
    const extra = await t.controlIn(GET_CUR, 2).catch((e: unknown) => e);
    expect(isHalError(extra, 'Protocol')).toBe(true);
    expect(t.remaining).toBe(0);
    await t.close();
    await expect(t.claimInterface(0)).rejects.toThrow(/requires state 'open', current state is 'closed'/);
  });

  it('rejects a control OUT whose data differs from the recording', async () => {
    const t = new ReplayTransport(session([{ op: 'controlOut', setup: SET_CUR, data: '0102' }]));
    const e = await t.controlOut(SET_CUR, Uint8Array.of(1, 3)).catch((x: unknown) => x);
    expect(isHalError(e, 'Protocol')).toBe(true);
  });

  it('streams recorded transfers in order in callback form, then idles until stop()', async () => {
    const t = new ReplayTransport(session([bulk('stopped', '0a0b', '0c', '0d0e0f')]));
    const seen: string[] = [];
    let all!: () => void;
    const got3 = new Promise<void>((r) => (all = r));
    const s = t.openInStream(0x81, {
      transferSize: 8,
      depth: 2,
      onData: (v, st) => {
        seen.push(`${toHex(v)}:${st}`);
        if (seen.length === 3) all();
      },
    });
    await got3;
    await s.stop();
    expect(seen).toEqual(['0a0b:ok', '0c:ok', '0d0e0f:ok']);
    expect(await s.ended).toEqual({ reason: 'stopped' });
    expect(s.stats).toEqual({ transfers: 3, bytes: 6, errors: 0 });
  });

  it('holds buffers in iterator form (back-pressure) and ends with Disconnected at a recorded unplug', async () => {
    const t = new ReplayTransport(session([bulk('disconnected', '01', '02', '03', '04', '05')]));
    let disconnects = 0;
    t.onDisconnect(() => disconnects++);
    const s = t.openInStream(0x81, { transferSize: 8, depth: 2 });
    const out: number[] = [];
    for await (const r of s) out.push(r.data[0] ?? -1);
    expect(out).toEqual([1, 2, 3, 4, 5]);
    const end = await s.ended;
    expect(end.reason).toBe('disconnected');
    expect('error' in end && isHalError(end.error, 'Disconnected')).toBe(true);
    expect(t.state).toBe('disconnected');
    expect(disconnects).toBe(1);
    await expect(t.claimInterface(0)).rejects.toThrow(/disconnected/);
  });

  it('ends the stream with reason error (cause kept) when the consumer throws, and delivers nothing after', async () => {
    const t = new ReplayTransport(session([bulk('stopped', '01', '02', '03')]));
    let calls = 0;
    const boom = new Error('consumer bug');
    const s = t.openInStream(0x81, {
      transferSize: 8,
      depth: 1,
      onData: () => {
        calls++;
        throw boom;
      },
    });
    const end = await s.ended;
    expect(end.reason).toBe('error');
    expect('error' in end && isHalError(end.error, 'Io') && end.error.cause === boom).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(() => s[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('reports isochronous as Unsupported when the recorded backend could not do it', () => {
    const t = new ReplayTransport(session([], false));
    expect(() =>
      t.openIsoInStream(0x81, { packetsPerTransfer: 1, packetSize: 8, depth: 1, onTransfer: () => {} }),
    ).toThrow(/not supported/);
  });

  it('replays iso packets with their lengths and statuses', async () => {
    const t = new ReplayTransport(
      session([
        {
          op: 'isoStream',
          endpoint: 0x81,
          packetsPerTransfer: 2,
          packetSize: 4,
          transfers: [
            {
              status: 'ok',
              packets: [
                { data: '0c8c', status: 0 },
                { data: '', status: -18 },
              ],
            },
          ],
          end: 'stall',
        },
      ]),
    );
    const seen: string[] = [];
    const s = t.openIsoInStream(0x81, {
      packetsPerTransfer: 2,
      packetSize: 4,
      depth: 2,
      onTransfer: (x) =>
        seen.push(
          `${toHex(x.data.subarray(0, x.packetLengths[0]))}/${x.packetLengths[1]}/${x.packetStatus[1]}`,
        ),
    });
    const end = await s.ended;
    expect(seen).toEqual(['0c8c/0/-18']);
    expect(end.reason).toBe('stall');
    expect(s.stats.packetErrors).toBe(1);
  });

  it('lists and opens sessions through the provider; unknown devices are NotFound', async () => {
    const p = new ReplayTransportProvider([session([])]);
    const [d] = await p.listDevices({ vendorId: 0x1209 });
    expect(d?.location).toBe('1-1');
    expect(await p.listDevices({ vendorId: 1 })).toEqual([]);
    const e = await p.open({ ...(d as NonNullable<typeof d>), location: '2-2' }).catch((x: unknown) => x);
    expect(isHalError(e, 'NotFound')).toBe(true);
  });
});

describe('RecordingTransport', () => {
  it('records a session that replays to the same results (round trip)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        async (payloads, ctl) => {
          const original = session([
            { op: 'claimInterface', args: [1] },
            { op: 'controlIn', setup: GET_CUR, length: 4, data: toHex(ctl) },
            bulk('stopped', ...payloads.map(toHex)),
          ]);
          const rec = new RecordingTransport(new ReplayTransport(original));
          await rec.configDescriptor();
          await rec.claimInterface(1);
          await rec.controlIn(GET_CUR, 4);
          let n = 0;
          let done!: () => void;
          const all = new Promise<void>((r) => (done = r));
          const s = rec.openInStream(0x81, {
            transferSize: 8,
            depth: 3,
            onData: () => {
              if (++n === payloads.length) done();
            },
          });
          await all;
          await s.stop();
          expect(rec.session()).toEqual(original);
          expect(Array.from(fromHex(toHex(ctl)))).toEqual(Array.from(ctl));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('records failures with their HalError code', async () => {
    const original = session([
      { op: 'controlIn', setup: GET_CUR, length: 1, error: { code: 'Stall', message: 'stalled' } },
    ]);
    const rec = new RecordingTransport(new ReplayTransport(original));
    await expect(rec.controlIn(GET_CUR, 1)).rejects.toThrow('stalled');
    expect(rec.session().events).toEqual(original.events);
  });

  it('rejects corrupt hex in sessions with TypeError', () => {
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
  });
});
