// Tests of probe/commit: block codec by size, reply quirks, Linux fix-ups, alt-setting choice, device-side responder.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { UvcRequestCode, buildGetRequest } from './controls.js';
import type { UvcControlRequest } from './controls.js';
import type { NegotiationFormat, ProbeCommit } from './probe-commit.js';
import type { NegotiationStep, NegotiationReply } from './probe-commit.js';
import {
  ProbeNegotiation,
  ProbeCommitResponder,
  buildProbeGet,
  buildProbeSet,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  estimatePayloadSize,
  fixupProbe,
  interpretProbeReply,
  nearestInterval,
  negotiateProbe,
  probeCommitSize,
  selectAltSetting,
  validateProbeAnswer,
} from './probe-commit.js';

const YUY2: NegotiationFormat = {
  index: 1,
  type: 'uncompressed',
  bitsPerPixel: 16,
  defaultFrameIndex: 1,
  frames: [
    {
      index: 1,
      width: 640,
      height: 480,
      maxFrameBufferSize: 614400,
      defaultInterval: 333333,
      intervals: [333333, 666666, 1000000],
    },
    {
      index: 2,
      width: 320,
      height: 240,
      maxFrameBufferSize: 153600,
      defaultInterval: 333333,
      intervals: { min: 333333, max: 2000000, step: 333333 },
    },
  ],
};
const MJPG: NegotiationFormat = {
  index: 2,
  type: 'mjpeg',
  bitsPerPixel: 0,
  defaultFrameIndex: 1,
  frames: [
    {
      index: 1,
      width: 1920,
      height: 1080,
      maxFrameBufferSize: 4147200,
      defaultInterval: 333333,
      intervals: [333333],
    },
  ],
};

describe('probe/commit block codec', () => {
  it('sizes by bcdUVC like uvc_video_ctrl_size', () => {
    expect([0x0100, 0x010a, 0x0110, 0x0149, 0x0150, 0x0200].map(probeCommitSize)).toEqual([
      26, 26, 34, 34, 48, 48,
    ]);
  });

  it('encodes the 26-byte layout at the spec offsets', () => {
    const b = encodeProbeCommit(
      emptyProbeCommit({
        hint: 1,
        formatIndex: 2,
        frameIndex: 3,
        frameInterval: 333333,
        maxVideoFrameSize: 614400,
        maxPayloadTransferSize: 3072,
        clockFrequency: 5,
      }),
      26,
    );
    expect(b.length).toBe(26);
    expect(Array.from(b.subarray(0, 8))).toEqual([1, 0, 2, 3, 0x15, 0x16, 0x05, 0x00]);
    expect(Array.from(b.subarray(18, 26))).toEqual([0x00, 0x60, 0x09, 0x00, 0x00, 0x0c, 0x00, 0x00]);
  });

  it('round-trips every size (property)', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const u8 = fc.integer({ min: 0, max: 0xff });
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        fc.record({
          hint: u16,
          formatIndex: u8,
          frameIndex: u8,
          frameInterval: u32,
          keyFrameRate: u16,
          pFrameRate: u16,
          compQuality: u16,
          compWindowSize: u16,
          delay: u16,
          maxVideoFrameSize: u32,
          maxPayloadTransferSize: u32,
          clockFrequency: u32,
          framingInfo: u8,
          preferedVersion: u8,
          minVersion: u8,
          maxVersion: u8,
          usage: u8,
          bitDepthLuma: u8,
          settings: u8,
          maxNumberOfRefFramesPlus1: u8,
          rateControlModes: u16,
          layoutPerStream: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        }),
        fc.constantFrom(26, 34, 48),
        (p, size) => {
          const back = decodeProbeCommit(encodeProbeCommit(p, size));
          const expected =
            size >= 48
              ? p
              : size >= 34
                ? {
                    ...p,
                    usage: 0,
                    bitDepthLuma: 0,
                    settings: 0,
                    maxNumberOfRefFramesPlus1: 0,
                    rateControlModes: 0,
                    layoutPerStream: 0n,
                  }
                : emptyProbeCommit({
                    ...p,
                    clockFrequency: 0,
                    framingInfo: 0,
                    preferedVersion: 0,
                    minVersion: 0,
                    maxVersion: 0,
                    usage: 0,
                    bitDepthLuma: 0,
                    settings: 0,
                    maxNumberOfRefFramesPlus1: 0,
                    rateControlModes: 0,
                    layoutPerStream: 0n,
                  });
          expect(back).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects bad sizes and out-of-range fields', () => {
    expect(() => encodeProbeCommit(emptyProbeCommit(), 30)).toThrow(RangeError);
    expect(() => encodeProbeCommit(emptyProbeCommit({ formatIndex: 256 }), 26)).toThrow(RangeError);
    expect(() => encodeProbeCommit(emptyProbeCommit(), 26, new Uint8Array(10))).toThrow(RangeError);
  });

  it('decodes short blocks with missing fields as zero', () => {
    const p = decodeProbeCommit(new Uint8Array([1, 0, 2, 3]));
    expect(p).toMatchObject({
      hint: 1,
      formatIndex: 2,
      frameIndex: 3,
      frameInterval: 0,
      maxPayloadTransferSize: 0,
    });
  });
});

describe('host-side quirks and fix-ups', () => {
  it('accepts a 2-byte GET_MIN/MAX (wCompQuality only) and falls back from a bad GET_DEF', () => {
    expect(interpretProbeReply('max', new Uint8Array([0x10, 0x27]), 26)).toEqual({
      ok: true,
      value: emptyProbeCommit({ compQuality: 10000 }),
      quirk: 'comp-quality-only',
    });
    expect(interpretProbeReply('def', new Uint8Array(0), 34)).toMatchObject({
      ok: false,
      fallback: 'get-cur',
    });
    expect(interpretProbeReply('cur', new Uint8Array(26), 34)).toMatchObject({ ok: false });
    expect(interpretProbeReply('cur', new Uint8Array(34), 34).ok).toBe(true);
  });

  it('takes dwMaxVideoFrameSize from the frame for uncompressed formats and 1.0 zeroes only', () => {
    const frame = YUY2.frames[0]!;
    const p = emptyProbeCommit({
      formatIndex: 1,
      frameIndex: 1,
      maxVideoFrameSize: 12345,
      maxPayloadTransferSize: 3072,
    });
    expect(fixupProbe(p, YUY2, frame, { bcdUVC: 0x0110 }).value.maxVideoFrameSize).toBe(614400);
    const mj = MJPG.frames[0]!;
    expect(
      fixupProbe({ ...p, maxVideoFrameSize: 12345 }, MJPG, mj, { bcdUVC: 0x0100 }).value.maxVideoFrameSize,
    ).toBe(12345);
    expect(
      fixupProbe({ ...p, maxVideoFrameSize: 0 }, MJPG, mj, { bcdUVC: 0x0100 }).value.maxVideoFrameSize,
    ).toBe(4147200);
    expect(
      fixupProbe({ ...p, maxVideoFrameSize: 0 }, MJPG, mj, { bcdUVC: 0x0110 }).value.maxVideoFrameSize,
    ).toBe(0);
  });

  it('masks a sign-extended payload size and clamps to the endpoint maximum', () => {
    const p = emptyProbeCommit({ maxPayloadTransferSize: 0xffff0c00 });
    const r = fixupProbe(p, YUY2, YUY2.frames[0], { bcdUVC: 0x0100 });
    expect(r.value.maxPayloadTransferSize).toBe(0x0c00);
    expect(r.changes.join()).toMatch(/sign-extension/);
    expect(
      fixupProbe(emptyProbeCommit({ maxPayloadTransferSize: 5000 }), YUY2, YUY2.frames[0], {
        bcdUVC: 0x100,
        maxBytesPerInterval: 3072,
      }).value.maxPayloadTransferSize,
    ).toBe(3072);
  });

  it('FIX_BANDWIDTH estimates like uvcvideo', () => {
    const p = emptyProbeCommit({ frameInterval: 333333, maxPayloadTransferSize: 3072 });
    // 640*480/8*16 = 614400; × (30+1) = 19046400; /1000 = 19046; /8 = 2380; +12 = 2392
    expect(
      fixupProbe(p, YUY2, YUY2.frames[0], { bcdUVC: 0x100, fixBandwidth: true }).value.maxPayloadTransferSize,
    ).toBe(2392);
  });

  it('selects the smallest alternate setting that fits', () => {
    const alts = [
      { alt: 0, bytesPerInterval: 0 },
      { alt: 1, bytesPerInterval: 192 },
      { alt: 2, bytesPerInterval: 3060 },
      { alt: 3, bytesPerInterval: 1024 },
    ];
    expect(selectAltSetting(alts, 1000)).toEqual({ ok: true, alt: 3, bytesPerInterval: 1024 });
    expect(selectAltSetting(alts, 0)).toEqual({ ok: true, alt: 1, bytesPerInterval: 192 });
    expect(selectAltSetting(alts, 3060)).toEqual({ ok: true, alt: 2, bytesPerInterval: 3060 });
    expect(selectAltSetting(alts, 4000)).toEqual({ ok: false, needed: 4000, largest: 3060 });
  });

  it('validates a device answer', () => {
    const asked = emptyProbeCommit({ formatIndex: 1, frameIndex: 2 });
    expect(validateProbeAnswer(asked, { ...asked, maxPayloadTransferSize: 100 }, [YUY2], 3072)).toEqual([]);
    expect(validateProbeAnswer(asked, { ...asked, frameIndex: 9 }, [YUY2]).join()).toMatch(
      /unknown frame index 9/,
    );
    expect(
      validateProbeAnswer(asked, { ...asked, maxPayloadTransferSize: 4000 }, [YUY2], 3072).join(),
    ).toMatch(/exceeds/);
  });

  it('builds VS probe requests', () => {
    expect(buildProbeGet('cur', 1, 34)).toEqual({
      requestType: 0xa1,
      request: 0x81,
      value: 0x0100,
      index: 0x0001,
      length: 34,
    });
    const set = buildProbeSet('commit', 1, new Uint8Array(26));
    expect(set).toMatchObject({ requestType: 0x21, request: 0x01, value: 0x0200, index: 1, length: 26 });
  });
});

describe('device-side negotiation', () => {
  const options = {
    bcdUVC: 0x0110,
    formats: [YUY2, MJPG],
    clockFrequency: 48_000_000,
    payloadSize: () => 3072,
  };

  it('snaps intervals and falls back to valid indices', () => {
    expect(nearestInterval([333333, 666666, 1000000], 480000)).toBe(333333);
    expect(nearestInterval([333333, 666666, 1000000], 700000)).toBe(666666);
    expect(nearestInterval({ min: 333333, max: 2000000, step: 333333 }, 5_000_000)).toBe(1999998);
    expect(nearestInterval({ min: 333333, max: 2000000, step: 333333 }, 100)).toBe(333333);
    const a = negotiateProbe(
      emptyProbeCommit({ formatIndex: 9, frameIndex: 9, frameInterval: 700000 }),
      options,
    )!;
    expect(a).toMatchObject({
      formatIndex: 1,
      frameIndex: 1,
      frameInterval: 666666,
      maxVideoFrameSize: 614400,
      maxPayloadTransferSize: 3072,
      clockFrequency: 48_000_000,
      framingInfo: 3,
    });
  });

  it('runs the SET probe / GET probe / SET commit sequence and refuses bad requests', () => {
    const r = new ProbeCommitResponder(options);
    expect(r.committed).toBeUndefined();
    const ask = encodeProbeCommit(
      emptyProbeCommit({ hint: 1, formatIndex: 2, frameIndex: 1, frameInterval: 333333 }),
      34,
    );
    expect(r.handle(buildProbeSet('probe', 1, ask))).toEqual({ status: 'ok' });
    const cur = r.handle(buildProbeGet('cur', 1, 34));
    expect(cur.status).toBe('ok');
    const got = decodeProbeCommit((cur as { data: Uint8Array }).data);
    expect(got).toMatchObject({ formatIndex: 2, frameIndex: 1, maxVideoFrameSize: 4147200 });
    expect(r.handle(buildProbeSet('commit', 1, encodeProbeCommit(got, 34)))).toEqual({ status: 'ok' });
    expect(r.committed).toMatchObject({ formatIndex: 2, frameIndex: 1 });
    // A commit of a format that does not exist is refused and leaves the commit in place.
    expect(
      r.handle(
        buildProbeSet(
          'commit',
          1,
          encodeProbeCommit(emptyProbeCommit({ formatIndex: 7, frameIndex: 1 }), 34),
        ),
      ),
    ).toEqual({ status: 'stall', error: 'out-of-range' });
    expect(r.committed).toMatchObject({ formatIndex: 2 });
    expect(r.handle(buildProbeSet('probe', 1, new Uint8Array(10)))).toEqual({
      status: 'stall',
      error: 'invalid-request',
    });
    expect(r.handle(buildGetRequest('cur', { interfaceNumber: 1, entityId: 0, selector: 0x05 }, 1))).toEqual({
      status: 'stall',
      error: 'invalid-control',
    });
    const len = r.handle(buildProbeGet('len', 1, 2));
    expect(len).toEqual({ status: 'ok', data: new Uint8Array([34, 0]) });
    // macOS-style short SET_CUR (26 bytes) to a 1.1 device is accepted.
    expect(
      r.handle(
        buildProbeSet('probe', 1, encodeProbeCommit(emptyProbeCommit({ formatIndex: 1, frameIndex: 2 }), 26)),
      ),
    ).toEqual({ status: 'ok' });
    const min = r.handle({
      requestType: 0xa1,
      request: UvcRequestCode.getMin,
      value: 0x100,
      index: 1,
      length: 34,
    });
    const max = r.handle({
      requestType: 0xa1,
      request: UvcRequestCode.getMax,
      value: 0x100,
      index: 1,
      length: 34,
    });
    expect(decodeProbeCommit((min as { data: Uint8Array }).data).frameInterval).toBe(333333);
    expect(decodeProbeCommit((max as { data: Uint8Array }).data).frameInterval).toBe(2000000);
    r.reset();
    expect(r.committed).toBeUndefined();
  });

  it('the responder never throws on arbitrary requests (property)', () => {
    const r = new ProbeCommitResponder(options);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 64 }),
        fc.uint8Array({ maxLength: 60 }),
        (request, value, length, data) => {
          const a = r.handle({
            requestType: request & 0x80 ? 0xa1 : 0x21,
            request,
            value,
            index: 1,
            length,
            data,
          });
          expect(['ok', 'stall']).toContain(a.status);
          if (a.status === 'ok' && a.data) expect(a.data.length).toBeLessThanOrEqual(length);
          const c = r.committed;
          if (c)
            expect(
              [YUY2, MJPG].some(
                (f) => f.index === c.formatIndex && f.frames.some((x) => x.index === c.frameIndex),
              ),
            ).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('estimates iso payload sizes', () => {
    // 614400 B at 30 fps over 8000 microframes/s = 2304 (+12 header).
    expect(estimatePayloadSize(614400, 333333)).toBe(2317);
  });
});

describe('host-side ProbeNegotiation', () => {
  type Device = (req: UvcControlRequest) => NegotiationReply;
  function run(n: ProbeNegotiation, device: Device): { end: NegotiationStep; requests: number[] } {
    const requests: number[] = [];
    let s = n.step();
    for (let i = 0; s.kind === 'request' && i < 20; i++) {
      requests.push((s.request.request << 8) | (s.request.value >> 8));
      s = n.reply(device(s.request));
    }
    return { end: s, requests };
  }
  const alts = [
    { alt: 1, bytesPerInterval: 1024 },
    { alt: 2, bytesPerInterval: 3072 },
  ];

  it('negotiates against the device-side responder (iso) and picks the smallest alt that fits', () => {
    const dev = new ProbeCommitResponder({
      bcdUVC: 0x0110,
      formats: [YUY2, MJPG],
      clockFrequency: 48e6,
      payloadSize: () => 2400,
    });
    const n = new ProbeNegotiation(
      { vsInterface: 1, bcdUVC: 0x0110, formats: [YUY2, MJPG], transfer: 'isochronous', altSettings: alts },
      { formatIndex: 1, frameIndex: 1, frameInterval: 700000 },
    );
    const { end, requests } = run(n, (r) => dev.handle(r));
    expect(requests).toEqual([0x0101, 0x8101, 0x0102]);
    expect(end.kind).toBe('done');
    if (end.kind !== 'done') return;
    expect(end.result).toMatchObject({ alt: 2, bytesPerInterval: 3072, changes: [] });
    expect(end.result.committed).toMatchObject({
      formatIndex: 1,
      frameIndex: 1,
      frameInterval: 666666,
      maxVideoFrameSize: 614400,
      maxPayloadTransferSize: 2400,
    });
    expect(dev.committed).toMatchObject({ formatIndex: 1, frameIndex: 1, frameInterval: 666666 });
  });

  it('applies the fix-ups to a quirky answer and commits the fixed block', () => {
    let committed: ProbeCommit | undefined;
    const n = new ProbeNegotiation(
      { vsInterface: 1, bcdUVC: 0x0100, formats: [YUY2], transfer: 'bulk' },
      { formatIndex: 1, frameIndex: 1, frameInterval: 333333 },
    );
    const { end } = run(n, (r) => {
      if (r.request === 0x81)
        return {
          status: 'ok',
          data: encodeProbeCommit(
            emptyProbeCommit({
              formatIndex: 1,
              frameIndex: 1,
              frameInterval: 333333,
              maxVideoFrameSize: 0,
              maxPayloadTransferSize: 0xffff8000,
            }),
            26,
          ),
        };
      if (r.value >> 8 === 2) committed = decodeProbeCommit(r.data!);
      return { status: 'ok' };
    });
    expect(end.kind).toBe('done');
    if (end.kind !== 'done') return;
    expect(end.result.alt).toBe(0);
    expect(end.result.committed).toMatchObject({ maxVideoFrameSize: 614400, maxPayloadTransferSize: 0x8000 });
    expect(end.result.changes).toHaveLength(2);
    expect(committed).toEqual(end.result.committed);
  });

  it('probes a second time when the device moves the frame', () => {
    const dev = new ProbeCommitResponder({
      bcdUVC: 0x0150,
      formats: [YUY2],
      clockFrequency: 48e6,
      payloadSize: () => 1000,
    });
    let first = true;
    const n = new ProbeNegotiation(
      { vsInterface: 1, bcdUVC: 0x0150, formats: [YUY2], transfer: 'isochronous', altSettings: alts },
      { formatIndex: 1, frameIndex: 2, frameInterval: 333333 },
    );
    const { end, requests } = run(n, (r) => {
      if (r.request === 0x01 && r.value >> 8 === 1 && first) {
        first = false;
        // The device prefers frame 1.
        return dev.handle({
          ...r,
          requestType: 0x21,
          index: 1,
          data: encodeProbeCommit({ ...decodeProbeCommit(r.data!), frameIndex: 1 }, 48),
        });
      }
      return dev.handle(r);
    });
    expect(requests).toEqual([0x0101, 0x8101, 0x0101, 0x8101, 0x0102]);
    expect(end.kind === 'done' && end.result.committed.frameIndex).toBe(1);
  });

  it('fails with NoBandwidth, Stall and Protocol', () => {
    const opts = {
      vsInterface: 1,
      bcdUVC: 0x0110,
      formats: [YUY2],
      transfer: 'isochronous' as const,
      altSettings: alts,
    };
    const want = { formatIndex: 1, frameIndex: 1, frameInterval: 333333 };
    const big = new ProbeCommitResponder({
      bcdUVC: 0x0110,
      formats: [YUY2],
      clockFrequency: 1,
      payloadSize: () => 5000,
    });
    expect(run(new ProbeNegotiation(opts, want), (r) => big.handle(r)).end).toMatchObject({
      kind: 'failed',
      code: 'NoBandwidth',
    });
    expect(run(new ProbeNegotiation(opts, want), () => ({ status: 'stall' })).end).toMatchObject({
      kind: 'failed',
      code: 'Stall',
    });
    expect(
      run(new ProbeNegotiation(opts, want), (r) =>
        r.request === 0x81 ? { status: 'ok', data: new Uint8Array(26) } : { status: 'ok' },
      ).end,
    ).toMatchObject({ kind: 'failed', code: 'Protocol' });
    expect(
      run(new ProbeNegotiation(opts, want), (r) =>
        r.request === 0x81
          ? { status: 'ok', data: encodeProbeCommit(emptyProbeCommit({ formatIndex: 9, frameIndex: 1 }), 34) }
          : { status: 'ok' },
      ).end,
    ).toMatchObject({ kind: 'failed', code: 'Protocol' });
    expect(() => new ProbeNegotiation(opts, { ...want, frameIndex: 9 })).toThrow(RangeError);
  });
});
