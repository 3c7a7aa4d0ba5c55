// Round-trip and fuzz tests of the USB/IP codecs and incremental decoders (fast-check).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isHalError } from '../hal-error.js';
import { ByteQueue } from './byte-queue.js';
import {
  NON_ISO_PACKETS,
  UsbIpSpeed,
  concatParts,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeOpReqDevlist,
  encodeOpReqImport,
  encodeRetSubmit,
  encodeRetUnlink,
} from './usbip-protocol.js';
import type {
  CmdSubmit,
  CmdUnlink,
  IsoPacketDescriptor,
  RetSubmit,
  UsbIpDeviceRecord,
  UsbIpExportedDevice,
  UsbIpReply,
  UsbIpRequest,
} from './usbip-protocol.js';
import { UsbIpReplyDecoder, UsbIpRequestDecoder } from './usbip-stream-decoder.js';
import type { SubmittedUrb } from './usbip-stream-decoder.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const latin = (max: number) =>
  fc.string({ maxLength: max, unit: fc.integer({ min: 1, max: 0x7e }).map((c) => String.fromCharCode(c)) });

const deviceRecord = (nIf: number): fc.Arbitrary<UsbIpDeviceRecord> =>
  fc.record({
    path: latin(255),
    busid: latin(31),
    busnum: u32,
    devnum: u32,
    speed: fc.constantFrom(...Object.values(UsbIpSpeed)),
    idVendor: u16,
    idProduct: u16,
    bcdDevice: u16,
    bDeviceClass: u8,
    bDeviceSubClass: u8,
    bDeviceProtocol: u8,
    bConfigurationValue: u8,
    bNumConfigurations: u8,
    bNumInterfaces: fc.constant(nIf),
  });

const exportedDevice: fc.Arbitrary<UsbIpExportedDevice> = fc.integer({ min: 0, max: 5 }).chain((n) =>
  fc.record({
    device: deviceRecord(n),
    interfaces: fc.array(fc.record({ bInterfaceClass: u8, bInterfaceSubClass: u8, bInterfaceProtocol: u8 }), {
      minLength: n,
      maxLength: n,
    }),
  }),
);

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const isoPackets = (bufLen: number): fc.Arbitrary<IsoPacketDescriptor[]> =>
  fc.array(
    fc.integer({ min: 0, max: bufLen }).chain((offset) =>
      fc.record({
        offset: fc.constant(offset),
        length: fc.integer({ min: 0, max: bufLen - offset }),
        actualLength: fc.constant(0),
        status: fc.constant(0),
      }),
    ),
    { maxLength: 8 },
  );

/** A CMD_SUBMIT whose fields the encoder accepts. */
const cmdSubmit: fc.Arbitrary<CmdSubmit> = fc
  .record({
    seqnum: u32,
    devid: u32,
    direction: fc.constantFrom('in' as const, 'out' as const),
    ep: fc.integer({ min: 0, max: 15 }),
    transferFlags: u32,
    startFrame: u32,
    interval: u32,
    setup: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    len: fc.integer({ min: 0, max: 300 }),
    iso: fc.boolean(),
    nonIsoNp: fc.constantFrom(0, NON_ISO_PACKETS),
  })
  .chain((r) =>
    fc
      .record({
        data:
          r.direction === 'out'
            ? fc.uint8Array({ minLength: r.len, maxLength: r.len })
            : fc.constant(new Uint8Array(0)),
        // an iso URB must carry at least one packet to be told apart without endpoint knowledge
        packets: r.iso ? isoPackets(r.len).filter((p) => p.length > 0) : fc.constant(undefined),
      })
      .map(({ data, packets }): CmdSubmit => ({
        kind: 'cmd-submit',
        seqnum: r.seqnum,
        devid: r.devid,
        direction: r.direction,
        ep: r.ep,
        transferFlags: r.transferFlags,
        transferBufferLength: r.len,
        startFrame: r.startFrame,
        numberOfPackets: packets ? packets.length : r.nonIsoNp,
        interval: r.interval,
        setup: r.setup,
        data,
        ...(packets ? { isoPackets: packets } : {}),
      })),
  );

const cmdUnlink: fc.Arbitrary<CmdUnlink> = fc.record({
  kind: fc.constant('cmd-unlink' as const),
  seqnum: u32,
  devid: u32,
  direction: fc.constantFrom('in' as const, 'out' as const),
  ep: fc.integer({ min: 0, max: 15 }),
  unlinkSeqnum: u32,
});

function encodeRequest(m: UsbIpRequest): Uint8Array {
  switch (m.kind) {
    case 'op-req-devlist':
      return encodeOpReqDevlist();
    case 'op-req-import':
      return encodeOpReqImport(m.busid);
    case 'cmd-submit':
      return concatParts(encodeCmdSubmit(m));
    case 'cmd-unlink':
      return encodeCmdUnlink(m);
  }
}

/** Splits `b` at the given cut points (any values; reduced modulo the length). */
function chunk(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (b.length ? c % (b.length + 1) : 0)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

function drain<T>(d: { next(): T | undefined }): T[] {
  const out: T[] = [];
  for (let m = d.next(); m !== undefined; m = d.next()) out.push(m);
  return out;
}

/** Normalises decoded messages for comparison (Uint8Array views vs Buffers become arrays). */
function plain(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return Array.from(x as Uint8Array);
  if (Array.isArray(x)) return x.map(plain);
  if (typeof x === 'object' && x !== null)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

describe('ByteQueue', () => {
  it('returns the same bytes however they were chunked', () => {
    fc.assert(
      fc.property(
        bytes(200),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.nat({ max: 50 }), { maxLength: 10 }),
        (b, cuts, takes) => {
          const q = new ByteQueue();
          for (const c of chunk(b, cuts)) q.push(c);
          const got: number[] = [];
          for (const t of takes) {
            const n = Math.min(t, q.length);
            got.push(...q.take(n));
          }
          got.push(...q.take(q.length));
          expect(got).toEqual(Array.from(b));
        },
      ),
    );
  });
  it('refuses to peek beyond what is queued', () => {
    const q = new ByteQueue();
    q.push(new Uint8Array(3));
    expect(() => q.peek(4)).toThrow(RangeError);
    expect(() => q.consume(4)).toThrow(RangeError);
  });
});

describe('UsbIpRequestDecoder', () => {
  it('round-trips OP_REQ_IMPORT then any CMD_SUBMIT/CMD_UNLINK sequence across any chunking', () => {
    fc.assert(
      fc.property(
        latin(31),
        fc.array(fc.oneof(cmdSubmit, cmdUnlink), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (busid, urbs, cuts) => {
          const msgs: UsbIpRequest[] = [{ kind: 'op-req-import', busid }, ...urbs];
          const stream = Buffer.concat(msgs.map(encodeRequest));
          const d = new UsbIpRequestDecoder();
          const got: UsbIpRequest[] = [];
          for (const c of chunk(stream, cuts)) {
            d.push(c);
            got.push(...drain(d));
          }
          expect(d.buffered).toBe(0);
          expect(plain(got)).toEqual(plain(msgs));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes OP_REQ_DEVLIST and stays in the op phase', () => {
    const d = new UsbIpRequestDecoder();
    d.push(encodeOpReqDevlist());
    expect(d.next()).toEqual({ kind: 'op-req-devlist' });
    expect(d.phase).toBe('op');
  });

  it('uses the endpoint type, not number_of_packets, when told which endpoints are iso', () => {
    const d = new UsbIpRequestDecoder({ isIsoEndpoint: (_dev, dir, ep) => dir === 'in' && ep === 1 });
    d.push(encodeOpReqImport('1-1'));
    d.next();
    // vhci's non-iso URB with np 0 on a bulk endpoint; then an iso URB with 0 packets on the iso endpoint
    const bulk = encodeCmdSubmit({
      seqnum: 1,
      devid: 1,
      direction: 'in',
      ep: 2,
      transferFlags: 0,
      transferBufferLength: 64,
      startFrame: 0,
      interval: 0,
    });
    const iso = encodeCmdSubmit({
      seqnum: 2,
      devid: 1,
      direction: 'in',
      ep: 1,
      transferFlags: 0,
      transferBufferLength: 64,
      startFrame: 0,
      interval: 0,
      isoPackets: [],
    });
    d.push(concatParts([...bulk, ...iso]));
    const [a, b] = drain(d) as CmdSubmit[];
    expect(a?.isoPackets).toBeUndefined();
    expect(b?.isoPackets).toEqual([]);
  });

  const badCases: [string, () => Uint8Array][] = [
    ['a wrong version', () => Buffer.from([0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0])],
    ['an unknown operation', () => Buffer.from([0x01, 0x11, 0x80, 0x07, 0, 0, 0, 0])],
  ];
  it.each(badCases)('rejects %s with HalError Protocol and stays failed', (_n, make) => {
    const d = new UsbIpRequestDecoder();
    d.push(make());
    let first: unknown;
    try {
      d.next();
    } catch (e) {
      first = e;
    }
    expect(isHalError(first, 'Protocol')).toBe(true);
    expect(() => d.next()).toThrow(first as Error);
  });

  function urbDecoder(): UsbIpRequestDecoder {
    const d = new UsbIpRequestDecoder({ maxTransferLength: 1024 });
    d.push(encodeOpReqImport('1-1'));
    d.next();
    return d;
  }
  function header(fields: Record<number, number>): Uint8Array {
    const h = Buffer.alloc(48);
    for (const [off, v] of Object.entries(fields)) h.writeUInt32BE(v, Number(off));
    return h;
  }
  const badUrbs: [string, Uint8Array][] = [
    ['an unknown command', header({ 0: 9 })],
    ['a RET_SUBMIT sent to a server', header({ 0: 3 })],
    ['a bad direction', header({ 0: 1, 12: 2 })],
    ['a bad endpoint', header({ 0: 1, 12: 1, 16: 16 })],
    ['a huge transfer length', header({ 0: 1, 12: 0, 24: 0x7fffffff })],
    ['too many iso packets', header({ 0: 1, 12: 1, 24: 100, 32: 5000 })],
    [
      'an iso packet outside the buffer',
      Buffer.concat([header({ 0: 1, 12: 1, 24: 100, 32: 1 }), header({ 0: 90, 4: 20 }).subarray(0, 16)]),
    ],
  ];
  it.each(badUrbs)('rejects %s with HalError Protocol', (_n, bytesIn) => {
    const d = urbDecoder();
    d.push(bytesIn);
    let err: unknown;
    try {
      d.next();
    } catch (e) {
      err = e;
    }
    expect(isHalError(err, 'Protocol')).toBe(true);
  });

  it('waits (returns undefined) on a truncated message instead of failing or hanging', () => {
    fc.assert(
      fc.property(cmdSubmit, (m) => {
        const full = encodeRequest(m);
        const d = urbDecoder();
        d.push(full.subarray(0, full.length - 1));
        expect(d.next()).toBeUndefined();
        d.push(full.subarray(full.length - 1));
        expect(d.next()?.kind).toBe('cmd-submit');
      }),
      { numRuns: 50 },
    );
  });

  it('never throws anything but HalError Protocol on random garbage, in either phase', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(bytes(120), { maxLength: 6 }), (afterImport, chunks) => {
        const d = new UsbIpRequestDecoder();
        if (afterImport) {
          d.push(encodeOpReqImport('1-1'));
          d.next();
        }
        try {
          for (const c of chunks) {
            d.push(c);
            drain(d);
          }
        } catch (e) {
          expect(isHalError(e, 'Protocol')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but HalError Protocol on mutated valid streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(cmdSubmit, cmdUnlink), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (urbs, flips, cuts) => {
          const stream = Buffer.concat([encodeOpReqImport('1-1'), ...urbs.map(encodeRequest)]);
          for (const [pos, val] of flips) stream[pos % stream.length] = val;
          const d = new UsbIpRequestDecoder({ maxTransferLength: 4096 });
          try {
            for (const c of chunk(stream, cuts)) {
              d.push(c);
              drain(d);
            }
          } catch (e) {
            expect(isHalError(e, 'Protocol')).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('UsbIpReplyDecoder', () => {
  it('round-trips OP_REP_DEVLIST across any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(exportedDevice, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (devices, cuts) => {
          const d = new UsbIpReplyDecoder({ expect: 'devlist' });
          const got: UsbIpReply[] = [];
          for (const c of chunk(encodeOpRepDevlist(devices), cuts)) {
            d.push(c);
            got.push(...drain(d));
          }
          expect(plain(got)).toEqual(plain([{ kind: 'op-rep-devlist', status: 0, devices }]));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('decodes a refused import and then expects nothing more', () => {
    const d = new UsbIpReplyDecoder({ expect: 'import' });
    d.push(encodeOpRepImport(1));
    expect(d.next()).toEqual({ kind: 'op-rep-import', status: 1 });
    d.push(new Uint8Array(1));
    expect(() => d.next()).toThrow(expect.objectContaining({ code: 'Protocol' }) as unknown as Error);
  });

  /** A RET_SUBMIT consistent with the URB it answers. */
  const retFor = (seqnum: number): fc.Arbitrary<{ urb: SubmittedUrb; ret: RetSubmit }> =>
    fc
      .record({
        direction: fc.constantFrom('in' as const, 'out' as const),
        len: fc.integer({ min: 0, max: 200 }),
        iso: fc.boolean(),
        status: fc.integer({ min: -200, max: 0 }),
      })
      .chain(({ direction, len, iso, status }) => {
        const packets = iso
          ? fc.array(fc.nat({ max: 20 }), { maxLength: 6 }).map((ls) => {
              // packets laid out back to back within the buffer, actual ≤ length
              const out: IsoPacketDescriptor[] = [];
              let off = 0;
              for (const l of ls) {
                const length = Math.min(l, len - off);
                out.push({ offset: off, length, actualLength: Math.floor(length / 2), status: 0 });
                off += length;
              }
              return out;
            })
          : fc.constant(undefined);
        return fc
          .record({ packets, actual: fc.integer({ min: 0, max: len }) })
          .chain(({ packets, actual }) => {
            const inLen = packets ? packets.reduce((s, p) => s + p.actualLength, 0) : actual;
            return fc
              .uint8Array({
                minLength: direction === 'in' ? inLen : 0,
                maxLength: direction === 'in' ? inLen : 0,
              })
              .map((data) => ({
                urb: {
                  direction,
                  transferBufferLength: len,
                  ...(packets ? { isoPackets: packets.length } : {}),
                },
                ret: {
                  kind: 'ret-submit' as const,
                  seqnum,
                  devid: 0,
                  direction: 'out' as const,
                  ep: 0,
                  status,
                  actualLength:
                    direction === 'in'
                      ? inLen
                      : packets
                        ? packets.reduce((s, p) => s + p.actualLength, 0)
                        : actual,
                  startFrame: 0,
                  numberOfPackets: packets ? packets.length : NON_ISO_PACKETS,
                  errorCount: 0,
                  data,
                  ...(packets ? { isoPackets: packets } : {}),
                },
              }));
          });
      });

  it('round-trips OP_REP_IMPORT then RET_SUBMIT/RET_UNLINK across any chunking', () => {
    fc.assert(
      fc.property(
        deviceRecord(2),
        fc.array(
          fc.oneof(
            retFor(0),
            fc.integer({ min: -104, max: 0 }).map((status) => ({ unlinkStatus: status })),
          ),
          { maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 12 }),
        (device, items, cuts) => {
          const urbs = new Map<number, SubmittedUrb>();
          const expected: UsbIpReply[] = [{ kind: 'op-rep-import', status: 0, device }];
          const parts: Uint8Array[] = [encodeOpRepImport(0, device)];
          items.forEach((it, i) => {
            const seqnum = i + 1;
            if ('unlinkStatus' in it) {
              parts.push(encodeRetUnlink({ seqnum, status: it.unlinkStatus }));
              expected.push({
                kind: 'ret-unlink',
                seqnum,
                devid: 0,
                direction: 'out',
                ep: 0,
                status: it.unlinkStatus,
              });
              return;
            }
            const ret = { ...it.ret, seqnum };
            urbs.set(seqnum, it.urb);
            parts.push(
              ...encodeRetSubmit({
                seqnum,
                status: ret.status,
                data: [ret.data],
                actualLength: ret.actualLength,
                numberOfPackets: ret.numberOfPackets,
                ...(ret.isoPackets ? { isoPackets: ret.isoPackets } : {}),
              }),
            );
            expected.push(ret);
          });
          const d = new UsbIpReplyDecoder({ expect: 'import', lookup: (s) => urbs.get(s) });
          const got: UsbIpReply[] = [];
          for (const c of chunk(Buffer.concat(parts), cuts)) {
            d.push(c);
            got.push(...drain(d));
          }
          expect(plain(got)).toEqual(plain(expected));
        },
      ),
      { numRuns: 200 },
    );
  });

  function imported(lookup: (s: number) => SubmittedUrb | undefined): UsbIpReplyDecoder {
    const d = new UsbIpReplyDecoder({ expect: 'import', lookup });
    d.push(
      encodeOpRepImport(0, {
        path: '/x',
        busid: '1-1',
        busnum: 1,
        devnum: 2,
        speed: 3,
        idVendor: 1,
        idProduct: 2,
        bcdDevice: 3,
        bDeviceClass: 0,
        bDeviceSubClass: 0,
        bDeviceProtocol: 0,
        bConfigurationValue: 1,
        bNumConfigurations: 1,
        bNumInterfaces: 1,
      }),
    );
    d.next();
    return d;
  }
  function nextError(d: UsbIpReplyDecoder): unknown {
    try {
      d.next();
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it('rejects a RET_SUBMIT for an unknown seqnum', () => {
    const d = imported(() => undefined);
    d.push(concatParts(encodeRetSubmit({ seqnum: 7, status: 0 })));
    expect(isHalError(nextError(d), 'Protocol')).toBe(true);
  });
  it('rejects actual_length beyond the submitted buffer', () => {
    const d = imported(() => ({ direction: 'in', transferBufferLength: 4 }));
    d.push(concatParts(encodeRetSubmit({ seqnum: 1, status: 0, data: [new Uint8Array(5)] })));
    expect(isHalError(nextError(d), 'Protocol')).toBe(true);
  });
  it('rejects iso replies whose packet lengths do not add up (vhci drops those too)', () => {
    const d = imported(() => ({ direction: 'in', transferBufferLength: 100, isoPackets: 1 }));
    const h = Buffer.alloc(48);
    h.writeUInt32BE(3, 0);
    h.writeUInt32BE(1, 4);
    h.writeUInt32BE(10, 24);
    h.writeUInt32BE(1, 32);
    const desc = Buffer.alloc(16);
    desc.writeUInt32BE(100, 4);
    desc.writeUInt32BE(9, 8);
    d.push(Buffer.concat([h, Buffer.alloc(10), desc]));
    expect(isHalError(nextError(d), 'Protocol')).toBe(true);
  });
  it('rejects a different iso packet count than submitted', () => {
    const d = imported(() => ({ direction: 'in', transferBufferLength: 100, isoPackets: 2 }));
    d.push(concatParts(encodeRetSubmit({ seqnum: 1, status: 0, isoPackets: [] })));
    expect(isHalError(nextError(d), 'Protocol')).toBe(true);
  });

  it('never throws anything but HalError Protocol on random garbage', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('devlist' as const, 'import' as const),
        fc.array(bytes(400), { maxLength: 5 }),
        (expectKind, chunks) => {
          const d = new UsbIpReplyDecoder({
            expect: expectKind,
            lookup: () => ({ direction: 'in', transferBufferLength: 64, isoPackets: 2 }),
          });
          try {
            for (const c of chunks) {
              d.push(c);
              drain(d);
            }
          } catch (e) {
            expect(isHalError(e, 'Protocol')).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('encoders', () => {
  it('refuse out-of-range fields with RangeError', () => {
    expect(() => encodeOpReqImport('x'.repeat(32))).toThrow(RangeError);
    expect(() => encodeCmdUnlink({ seqnum: -1, devid: 0, direction: 'in', ep: 0, unlinkSeqnum: 0 })).toThrow(
      RangeError,
    );
    expect(() =>
      encodeRetSubmit({
        seqnum: 1,
        status: 0,
        data: [new Uint8Array(4)],
        isoPackets: [{ offset: 0, length: 4, actualLength: 3, status: 0 }],
      }),
    ).toThrow(RangeError);
    expect(() =>
      encodeCmdSubmit({
        seqnum: 1,
        devid: 0,
        direction: 'out',
        ep: 0,
        transferFlags: 0,
        transferBufferLength: 4,
        startFrame: 0,
        interval: 0,
      }),
    ).toThrow(RangeError);
  });
  it('write control OUT replies with actual_length and no data', () => {
    const b = concatParts(encodeRetSubmit({ seqnum: 5, status: 0, actualLength: 34 }));
    expect(b.length).toBe(48);
    expect(Buffer.from(b).readUInt32BE(24)).toBe(34);
    expect(Buffer.from(b).readUInt32BE(32)).toBe(NON_ISO_PACKETS);
  });
});
