// In-process UVC session: built descriptors → parsed by the host → probe/commit and controls against the device-side responders → frames through writer and reassembler.

import { describe, expect, it } from '@jest/globals';
import { ControlResponder, numericDeviceControl } from './control-responder.js';
import type { UvcControlRequest } from './controls.js';
import {
  PROCESSING_UNIT_CONTROLS,
  buildGetRequest,
  buildRequestErrorCodeRequest,
  buildSetCurRequest,
  decodeControlValue,
  decodeStall,
  encodeControlValue,
  findControl,
} from './controls.js';
import { buildUvcDescriptors } from './descriptor-builder.js';
import { parseUvcDescriptors } from './descriptor-parser.js';
import { UvcFrameFlag, PayloadReassembler } from './payload-reassembler.js';
import { PayloadWriter } from './payload-writer.js';
import { ProbeCommitResponder, ProbeNegotiation, estimatePayloadSize } from './probe-commit.js';

function session(transfer: 'bulk' | 'isochronous') {
  const built = buildUvcDescriptors({
    vendorId: 0x1209,
    productId: 0x0001,
    product: 'loopback',
    processingControls: ['brightness'],
    streaming: {
      transfer,
      isoBytesPerInterval: [512, 1024, 3072],
      formats: [
        {
          kind: 'uncompressed',
          fourcc: 'YUY2',
          frames: [{ width: 64, height: 48, intervals: [333333, 666666] }],
        },
        { kind: 'mjpeg', frames: [{ width: 64, height: 48, intervals: [333333], maxFrameBufferSize: 4096 }] },
      ],
    },
  });
  // Device side: negotiation over its own descriptors, one brightness control.
  const own = parseUvcDescriptors(built.configuration).functions[0]!;
  const ownVs = own.streamingInterfaces[0]!;
  const vsDevice = new ProbeCommitResponder({
    bcdUVC: own.bcdUVC,
    formats: ownVs.formats,
    clockFrequency: own.clockFrequency,
    payloadSize: (_f, fr, interval) =>
      transfer === 'bulk'
        ? 2048
        : Math.min(3072, estimatePayloadSize(fr.maxFrameBufferSize, interval, 8000) * 40),
  });
  let brightness = 0;
  const vcDevice = new ControlResponder(
    [
      numericDeviceControl({
        entityId: built.layout.processingUnitId,
        def: findControl(PROCESSING_UNIT_CONTROLS, 'brightness')!,
        min: -10,
        max: 10,
        res: 1,
        default: 0,
        get: () => brightness,
        set: (v) => {
          brightness = v as number;
          return undefined;
        },
      }),
    ],
    [built.layout.cameraTerminalId, built.layout.processingUnitId, built.layout.outputTerminalId],
  );
  const device = (req: UvcControlRequest) =>
    (req.index & 0xff) === built.layout.streamingInterface ? vsDevice.handle(req) : vcDevice.handle(req);
  return { built, device, vsDevice, brightnessOf: () => brightness };
}

describe('UVC loopback session', () => {
  for (const transfer of ['bulk', 'isochronous'] as const) {
    it(`${transfer}: negotiate, set a control, stream frames byte-exact`, () => {
      const { built, device, vsDevice, brightnessOf } = session(transfer);
      // Host: parse what the device sends.
      const fn = parseUvcDescriptors(built.configuration).functions[0]!;
      const vs = fn.streamingInterfaces[0]!;
      expect(vs.transfer).toBe(transfer);

      // Controls: SET in range, SET out of range → STALL → error code.
      const pu = {
        interfaceNumber: fn.controlInterface,
        entityId: fn.processingUnits[0]!.id,
        selector: 0x02,
      };
      const def = findControl(PROCESSING_UNIT_CONTROLS, 'brightness')!;
      expect(device(buildSetCurRequest(pu, encodeControlValue(def, -3))).status).toBe('ok');
      expect(brightnessOf()).toBe(-3);
      const cur = device(buildGetRequest('cur', pu, 2));
      expect(cur.status === 'ok' && decodeControlValue(def, cur.data!).value).toBe(-3);
      const bad = buildSetCurRequest(pu, encodeControlValue(def, 50));
      expect(device(bad).status).toBe('stall');
      const code = device(buildRequestErrorCodeRequest(fn.controlInterface));
      expect(decodeStall(bad, code.status === 'ok' ? code.data : undefined).requestError).toBe(
        'out-of-range',
      );

      // Probe/commit.
      const n = new ProbeNegotiation(
        {
          vsInterface: vs.interfaceNumber,
          bcdUVC: fn.bcdUVC,
          formats: vs.formats,
          transfer,
          altSettings: vs.altSettings,
        },
        { formatIndex: 1, frameIndex: 1, frameInterval: 333333 },
      );
      let step = n.step();
      while (step.kind === 'request') step = n.reply(device(step.request));
      expect(step.kind).toBe('done');
      if (step.kind !== 'done') return;
      const { committed, alt, bytesPerInterval } = step.result;
      expect(vsDevice.committed).toEqual(committed);
      expect(committed.maxVideoFrameSize).toBe(64 * 48 * 2);
      if (transfer === 'isochronous')
        expect(vs.altSettings.find((a) => a.alt === alt)!.bytesPerInterval).toBe(bytesPerInterval);
      else expect(alt).toBe(0);

      // Stream: device writes payloads sized for the link; host reassembles into slots.
      const payloadSize = transfer === 'bulk' ? committed.maxPayloadTransferSize : bytesPerInterval;
      const writer = new PayloadWriter({ maxPayloadSize: payloadSize, pts: true, scr: true });
      const got: number[][] = [];
      const slots = [
        new Uint8Array(committed.maxVideoFrameSize),
        new Uint8Array(committed.maxVideoFrameSize),
      ];
      const host = new PayloadReassembler({
        transfer,
        maxPayloadTransferSize: committed.maxPayloadTransferSize,
        expectedFrameSize: committed.maxVideoFrameSize,
        onFrame: (f) => {
          expect(
            f.flags &
              (UvcFrameFlag.error | UvcFrameFlag.short | UvcFrameFlag.truncated | UvcFrameFlag.missingEof),
          ).toBe(0);
          got.push(Array.from(f.destination!.subarray(0, f.bytesUsed)));
          host.setDestination(slots[got.length & 1]);
        },
      });
      host.setDestination(slots[0]);
      const urb = new Uint8Array(payloadSize);
      const frames = Array.from({ length: 5 }, (_, k) =>
        new Uint8Array(committed.maxVideoFrameSize).map((_, i) => (i * 7 + k) & 0xff),
      );
      for (const [k, frame] of frames.entries()) {
        writer.startFrame(frame.length, { pts: k * 1_600_000 });
        for (let p = writer.nextPayload(); p; p = writer.nextPayload()) {
          const h = writer.writeHeader(p, urb);
          urb.set(frame.subarray(p.dataOffset, p.dataOffset + p.dataLength), h);
          const len = h + p.dataLength;
          if (transfer === 'isochronous') host.pushIsoPacket(urb, 0, len);
          else host.pushBulk(urb.subarray(0, len), committed.maxPayloadTransferSize);
        }
      }
      expect(got).toEqual(frames.map((f) => Array.from(f)));
      expect(host.stats).toMatchObject({ frames: 5, invalidHeaders: 0, outOfSync: 0, errorFrames: 0 });
    });
  }
});
