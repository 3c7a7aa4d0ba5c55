// Tests of the viewer protocol: request parsing never throws and never lets a malformed request through; frame header round trips.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FRAME_HEADER, parseViewRequest, readFrameHeader, writeFrameHeader } from './view-protocol.js';

describe('parseViewRequest', () => {
  it('accepts the requests the page sends', () => {
    expect(parseViewRequest('{"type":"ack"}')).toEqual({ ok: true, request: { type: 'ack' } });
    expect(parseViewRequest('{"type":"set","key":"k/1/f","value":3,"id":7}')).toEqual({
      ok: true,
      request: { type: 'set', key: 'k/1/f', value: 3, id: 7 },
    });
    expect(parseViewRequest('{"type":"set","key":"k/1/f","mode":"auto"}').ok).toBe(true);
    expect(
      parseViewRequest('{"type":"format","range":2,"width":320,"height":240,"interval":"333333"}').ok,
    ).toBe(true);
    expect(parseViewRequest('{"type":"tune","action":"channel-up"}').ok).toBe(true);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[1]'],
    ['no type', '{}'],
    ['unknown type', '{"type":"explode"}'],
    ['set without key', '{"type":"set","value":1}'],
    ['set with an object value', '{"type":"set","key":"a","value":{}}'],
    ['set with neither value nor mode', '{"type":"set","key":"a"}'],
    ['set with a bad mode', '{"type":"set","key":"a","value":1,"mode":"turbo"}'],
    ['format with a negative range', '{"type":"format","range":-1,"width":1,"height":1,"interval":"1"}'],
    ['format with a numeric interval', '{"type":"format","range":0,"width":1,"height":1,"interval":1}'],
    ['format with a fractional width', '{"type":"format","range":0,"width":1.5,"height":1,"interval":"1"}'],
    ['tune with an unknown action', '{"type":"tune","action":"warp"}'],
    ['a fractional id', '{"type":"start","id":1.5}'],
  ])('refuses %s with a reason', (_what, text) => {
    const r = parseViewRequest(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(5);
  });

  it('keeps the id of a refused request so the page can match the error', () => {
    expect(parseViewRequest('{"type":"set","id":4}')).toMatchObject({ ok: false, id: 4 });
  });

  it('never throws, whatever arrives', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const r = parseViewRequest(text);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepted set requests always carry a key and a value or a mode', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            type: fc.constant('set'),
            key: fc.oneof(fc.string(), fc.integer()),
            value: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string(), fc.constant(null)),
            mode: fc.oneof(fc.constant('auto'), fc.constant('manual'), fc.string()),
          },
          { requiredKeys: ['type'] },
        ),
        (m) => {
          const r = parseViewRequest(JSON.stringify(m));
          if (!r.ok || r.request.type !== 'set') return;
          expect(typeof r.request.key).toBe('string');
          expect(r.request.value !== undefined || r.request.mode !== undefined).toBe(true);
          if (typeof r.request.value === 'number') expect(Number.isFinite(r.request.value)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('frame header', () => {
  it('round trips every field', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.constantFrom('YUY2', 'UYVY', 'NV12', 'I420', 'RGB24', 'BGRA', 'GRAY8', 'MJPG'),
        fc.nat({ max: 64 }),
        fc.nat({ max: 0xffffffff }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (sequence, width, height, fourcc, payload, drops, latency) => {
          const msg = new Uint8Array(FRAME_HEADER.bytes + payload);
          writeFrameHeader(
            new DataView(msg.buffer),
            sequence,
            width,
            height,
            fourcc,
            payload,
            drops,
            latency,
          );
          expect(readFrameHeader(msg)).toEqual({
            sequence,
            width,
            height,
            fourcc,
            payloadBytes: payload,
            drops,
            latencyMs: latency,
          });
        },
      ),
    );
  });

  it('rejects short messages, a bad magic and a wrong length', () => {
    expect(() => readFrameHeader(new Uint8Array(10))).toThrow(RangeError);
    expect(() => readFrameHeader(new Uint8Array(FRAME_HEADER.bytes))).toThrow(/magic/);
    const msg = new Uint8Array(FRAME_HEADER.bytes + 4);
    writeFrameHeader(new DataView(msg.buffer), 0, 1, 1, 'GRAY8', 8, 0, 0);
    expect(() => readFrameHeader(msg)).toThrow(/payload/);
  });
});
