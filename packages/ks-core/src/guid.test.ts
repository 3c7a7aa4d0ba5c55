// Tests of GUID parsing, normalisation, byte layout and the known-GUID registry.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import {
  compareGuids,
  fourccGuid,
  fourccOf,
  guid,
  guidFromBytes,
  guidToBytes,
  isGuid,
  tryParseGuid,
} from './guid.js';
import {
  GuidRegistry,
  KsCategory,
  MediaSubtype,
  MediaType,
  PropSetId,
  knownGuids,
  FormatType,
  NodeType,
} from './known-guids.js';

describe('guid', () => {
  it('normalises every common spelling to the lower-case canonical form', () => {
    const canonical = '65e8773d-8f56-11d0-a3b9-00a0c9223196';
    for (const text of [
      '65E8773D-8F56-11D0-A3B9-00A0C9223196',
      '{65E8773D-8F56-11D0-A3B9-00A0C9223196}',
      '(65e8773d-8f56-11d0-a3b9-00a0c9223196)',
      '  65e8773d8f5611d0a3b900a0c9223196 ',
    ]) {
      expect(guid(text)).toBe(canonical);
    }
    expect(isGuid(canonical)).toBe(true);
    expect(isGuid(canonical.toUpperCase())).toBe(false);
  });

  it('rejects malformed text with a TypeError', () => {
    for (const bad of [
      '',
      'xyz',
      '65e8773d-8f56-11d0-a3b9-00a0c922319',
      '{65e8773d-8f56-11d0-a3b9-00a0c9223196',
      '65e8773d-8f56-11d0-a3b9-00a0c9223196-00',
      'g5e8773d-8f56-11d0-a3b9-00a0c9223196',
    ]) {
      expect(() => guid(bad)).toThrow(TypeError);
      expect(tryParseGuid(bad)).toBeUndefined();
    }
    expect(tryParseGuid(42 as unknown as string)).toBeUndefined();
  });

  it('uses the Windows little-endian layout for Data1..Data3', () => {
    const bytes = guidToBytes(MediaSubtype.YUY2);
    // MEDIASUBTYPE_YUY2 in memory starts with 'YUY2'.
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('YUY2');
    expect([...bytes.subarray(4, 16)]).toEqual([
      0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
    ]);
    expect(() => guidFromBytes(new Uint8Array(15))).toThrow(RangeError);
    expect(() => guidToBytes(MediaSubtype.YUY2, new Uint8Array(20), 5)).toThrow(RangeError);
  });

  it('round-trips bytes ↔ GUID for any 16 bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const g = guidFromBytes(b);
        expect(isGuid(g)).toBe(true);
        expect([...guidToBytes(g)]).toEqual([...b]);
        expect(guid(g.toUpperCase())).toBe(g);
        expect(guid(`{${g}}`)).toBe(g);
      }),
    );
  });

  it('orders GUIDs totally and derives FOURCC subtypes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (a, b) => {
          const x = guidFromBytes(a);
          const y = guidFromBytes(b);
          expect(Math.sign(compareGuids(x, y))).toBe(-Math.sign(compareGuids(y, x)));
          expect(compareGuids(x, y) === 0).toBe(x === y);
        },
      ),
    );
    expect(fourccGuid('NV12')).toBe(MediaSubtype.NV12);
    expect(fourccGuid(0x32595559)).toBe(MediaSubtype.YUY2);
    expect(fourccOf(MediaSubtype.MJPG)).toBe('MJPG');
    expect(fourccOf(MediaSubtype.RGB24)).toBeUndefined();
    expect(() => fourccGuid('YUY')).toThrow(TypeError);
    expect(() => fourccGuid(-1)).toThrow(RangeError);
  });
});

describe('known GUIDs', () => {
  it('carries the real ksmedia.h / uuids.h values', () => {
    expect(KsCategory.CAPTURE).toBe('65e8773d-8f56-11d0-a3b9-00a0c9223196');
    expect(KsCategory.VIDEO_CAMERA).toBe('e5323777-f976-4f5b-9b55-b94699c46e44');
    expect(KsCategory.TVTUNER).toBe('a799a800-a46d-11d0-a18c-00a02401dcd4');
    expect(MediaType.Video).toBe('73646976-0000-0010-8000-00aa00389b71');
    expect(MediaSubtype.RGB24).toBe('e436eb7d-524f-11ce-9f53-0020af0ba770');
    expect(MediaSubtype.ARGB32).toBe('773c9ac0-3274-11d0-b724-00aa006c1a01');
    expect(MediaSubtype.I420).toBe('30323449-0000-0010-8000-00aa00389b71');
    expect(FormatType.VideoInfo).toBe('05589f80-c356-11ce-bf01-00aa0055595a');
    expect(PropSetId.VideoProcAmp).toBe('c6e13360-30ac-11d0-a18c-00a0c9118956');
    expect(PropSetId.CameraControl).toBe('c6e13370-30ac-11d0-a18c-00a0c9118956');
    expect(PropSetId.Tuner).toBe('6a2e0605-28e4-11d0-a18c-00a0c9118956');
    expect(PropSetId.Pin).toBe('8c134960-51ad-11cf-878a-94f801c10000');
    expect(PropSetId.Connection).toBe('1d58c920-ac9b-11cf-a5d6-28db04c10000');
    expect(PropSetId.Topology).toBe('720d4ac0-7533-11d0-a5d6-28db04c10000');
    expect(PropSetId.Clock).toBe('df12a4c0-ac17-11cf-a5d6-28db04c10000');
    expect(NodeType.VIDEO_PROCESSING).toBe('dff229e5-f70f-11d0-b917-00a0c9223196');
    expect(knownGuids.nameOf(MediaSubtype.YUY2)).toBe('MEDIASUBTYPE_YUY2');
    expect(knownGuids.lookup('PROPSETID_VIDCAP_VIDEOPROCAMP')).toBe(PropSetId.VideoProcAmp);
    expect(Object.isFrozen(PropSetId)).toBe(true);
  });

  it('registers each GUID once: a second name for it is an error', () => {
    const r = new GuidRegistry();
    const g = r.register('A', '65E8773D-8F56-11D0-A3B9-00A0C9223196');
    expect(r.register('A', g)).toBe(g);
    expect(() => r.register('B', g)).toThrow(/already registered as A/);
    expect(() => r.register('A', '65e8773e-8f56-11d0-a3b9-00a0c9223196')).toThrow(/already registered for/);
    expect(() => r.register('C', 'nope')).toThrow(TypeError);
    expect(r.describe(g)).toBe('A');
    expect(r.entries()).toEqual([{ name: 'A', guid: g }]);
  });

  it('has no duplicate values among the well-known GUIDs', () => {
    const entries = knownGuids.entries();
    expect(new Set(entries.map((e) => e.guid)).size).toBe(entries.length);
  });
});
