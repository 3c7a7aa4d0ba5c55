// Probe/commit checked against real uvcvideo traffic: the Logitech C310 usbmon capture in ../shared/fixtures/uvc (skipped when absent).

import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSetupPacket } from './controls.js';
import { parseUvcDescriptors } from './descriptor-parser.js';
import {
  decodeProbeCommit,
  encodeProbeCommit,
  fixupProbe,
  interpretProbeReply,
  probeCommitSize,
  selectAltSetting,
  validateProbeAnswer,
} from './probe-commit.js';

const ROOT =
  process.env['KSEMU_UVC_FIXTURES'] ??
  fileURLToPath(new URL('../../../../../shared/fixtures/uvc/', import.meta.url));
const CAPTURE = join(ROOT, 'text', 'gallimaufry', 'logitech_C310_enum.pcapng');
const d = existsSync(CAPTURE) ? describe : describe.skip;

interface Urb {
  id: bigint;
  kind: 'S' | 'C';
  transferType: number;
  setup: Uint8Array;
  data: Uint8Array;
}

/** Minimal pcapng reader for usbmon (DLT_USB_LINUX_MMAPPED, 64-byte header) enhanced packet blocks. */
function readUsbmon(bytes: Uint8Array): Urb[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Urb[] = [];
  for (let off = 0; off + 12 <= bytes.length;) {
    const type = v.getUint32(off, true);
    const len = v.getUint32(off + 4, true);
    if (len < 12) break;
    if (type === 6) {
      const cap = v.getUint32(off + 20, true);
      const p = off + 28;
      out.push({
        id: v.getBigUint64(p, true),
        kind: String.fromCharCode(bytes[p + 8]!) as 'S' | 'C',
        transferType: bytes[p + 9]!,
        setup: bytes.subarray(p + 40, p + 48),
        data: bytes.subarray(p + 64, p + cap),
      });
    }
    off += len;
  }
  return out;
}

d('probe/commit against the C310 capture', () => {
  // Loaded in beforeAll, not in the describe body: jest runs a skipped describe's body too, so
  // reading here failed the whole file wherever the capture is absent (a fresh CI clone).
  let urbs: Urb[];
  let fn: ReturnType<typeof parseUvcDescriptors>['functions'][number];
  let vs: (typeof fn)['streamingInterfaces'][number];
  let probes: { urb: Urb; setup: ReturnType<typeof decodeSetupPacket> }[];
  // URB ids are kernel addresses and get reused: the completion is the next 'C' with the same id.
  const completion = (u: Urb): Urb =>
    urbs.slice(urbs.indexOf(u) + 1).find((c) => c.kind === 'C' && c.id === u.id)!;
  beforeAll(() => {
    urbs = readUsbmon(new Uint8Array(readFileSync(CAPTURE)));
    const config = urbs.map((u) => u.data).find((x) => x.length === 2469)!;
    fn = parseUvcDescriptors(config).functions[0]!;
    vs = fn.streamingInterfaces[0]!;
    probes = urbs
      .filter((u) => u.kind === 'S' && u.transferType === 2)
      .map((u) => ({ urb: u, setup: decodeSetupPacket(u.setup) }))
      .filter(
        ({ setup }) =>
          (setup.requestType & 0x7f) === 0x21 &&
          setup.value >> 8 === 1 &&
          (setup.index & 0xff) === vs.interfaceNumber,
      );
  });

  it('uvcvideo used the 26-byte block that bcdUVC 1.00 implies', () => {
    expect(fn.bcdUVC).toBe(0x0100);
    expect(probes.map((p) => p.setup.request)).toEqual([0x87, 0x01, 0x81]); // GET_DEF, SET_CUR, GET_CUR
    for (const p of probes) expect(p.setup.length).toBe(probeCommitSize(fn.bcdUVC));
  });

  it('decodes the real GET_DEF/GET_CUR answers and re-encodes them byte for byte', () => {
    const def = completion(probes[0]!.urb).data;
    const reply = interpretProbeReply('def', def, 26);
    expect(reply.ok).toBe(true);
    const p = decodeProbeCommit(def);
    expect(p).toMatchObject({
      formatIndex: 1,
      frameIndex: 1,
      frameInterval: 333333,
      maxVideoFrameSize: 614400,
      maxPayloadTransferSize: 3060,
    });
    expect(Array.from(encodeProbeCommit(p, 26))).toEqual(Array.from(def));
    // uvcvideo sent the default back with SET_CUR and read the same block with GET_CUR.
    expect(Array.from(probes[1]!.urb.data)).toEqual(Array.from(def));
    expect(Array.from(completion(probes[2]!.urb).data)).toEqual(Array.from(def));
  });

  it('the answer validates against the parsed descriptors, needs no fix-up, and fits the top alt setting', () => {
    const p = decodeProbeCommit(completion(probes[2]!.urb).data);
    expect(
      validateProbeAnswer(p, p, vs.formats, Math.max(...vs.altSettings.map((a) => a.bytesPerInterval))),
    ).toEqual([]);
    const fmt = vs.formats.find((f) => f.index === p.formatIndex)!;
    const frame = fmt.frames.find((f) => f.index === p.frameIndex)!;
    expect(fixupProbe(p, fmt, frame, { bcdUVC: fn.bcdUVC }).changes).toEqual([]);
    const sel = selectAltSetting(vs.altSettings, p.maxPayloadTransferSize);
    expect(sel).toEqual({ ok: true, alt: vs.altSettings.at(-1)!.alt, bytesPerInterval: 3060 });
  });
});
