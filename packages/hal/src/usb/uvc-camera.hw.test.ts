// Hardware test: a real UVC camera (KSEMU_UVC_DEVICE=vid:pid) through our transports; skipped without one.
import { describe, it, expect } from '@jest/globals';
import { parseUvcDescriptors } from '../uvc/descriptor-parser.js';
import {
  buildProbeGet,
  buildProbeSet,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  probeCommitSize,
  selectAltSetting,
} from '../uvc/probe-commit.js';
import { PayloadReassembler, UvcFrameFlag } from '../uvc/payload-reassembler.js';
import { openUsbTransportProvider } from './usb-backend.js';
import type { UsbBackend } from './usb-backend.js';

const wanted = process.env['KSEMU_UVC_DEVICE'];
const backend = (process.env['KSEMU_UVC_BACKEND'] ?? 'auto') as UsbBackend;
const suite = wanted !== undefined && /^[0-9a-f]{4}:[0-9a-f]{4}$/i.test(wanted) ? describe : describe.skip;

suite(`real UVC camera ${wanted ?? '(set KSEMU_UVC_DEVICE=vid:pid)'}`, () => {
  it('enumerates, parses, negotiates, reads a control, streams 30 frames and gives the camera back', async () => {
    const [vid, pid] = (wanted ?? '0:0').split(':').map((x) => parseInt(x, 16));
    const provider = await openUsbTransportProvider(backend);
    const [info] = await provider.listDevices({ vendorId: vid, productId: pid });
    expect(info).toBeDefined();
    if (info === undefined) return;
    const t = await provider.open(info);
    try {
      const parsed = parseUvcDescriptors(await t.configDescriptor());
      const fn = parsed.functions[0];
      const vs = fn?.streamingInterfaces[0];
      expect(fn && vs).toBeTruthy();
      if (fn === undefined || vs === undefined) return;
      const hadDriver = await t.detachKernelDriver(fn.controlInterface);
      await t.detachKernelDriver(vs.interfaceNumber);
      await t.claimInterface(fn.controlInterface);
      await t.claimInterface(vs.interfaceNumber);
      // brightness: read-only round trip (GET_CUR then SET_CUR of the same value) so the camera is left as found
      const pu = fn.processingUnits.find((u) => u.controls.includes('brightness'));
      if (pu !== undefined) {
        const addr = {
          requestType: 0xa1,
          request: 0x81,
          value: 0x0200,
          index: (pu.id << 8) | fn.controlInterface,
        };
        const cur = await t.controlIn(addr, 2);
        expect(cur.length).toBe(2);
        await t.controlOut({ ...addr, requestType: 0x21, request: 0x01 }, cur);
      }
      const fmt = vs.formats.find((f) => f.type === 'uncompressed') ?? vs.formats[0];
      const frame = fmt?.frames.slice().sort((a, b) => a.width * a.height - b.width * b.height)[0];
      expect(fmt && frame).toBeTruthy();
      if (fmt === undefined || frame === undefined) return;
      const size = probeCommitSize(fn.bcdUVC);
      const probeSet = buildProbeSet(
        'probe',
        vs.interfaceNumber,
        encodeProbeCommit(
          emptyProbeCommit({
            hint: 1,
            formatIndex: fmt.index,
            frameIndex: frame.index,
            frameInterval: frame.defaultInterval,
          }),
          size,
        ),
      );
      await t.controlOut(probeSet, probeSet.data ?? new Uint8Array(0));
      const got = decodeProbeCommit(await t.controlIn(buildProbeGet('cur', vs.interfaceNumber, size), size));
      const commit = buildProbeSet('commit', vs.interfaceNumber, encodeProbeCommit(got, size));
      await t.controlOut(commit, commit.data ?? new Uint8Array(0));
      const expected =
        fmt.type === 'uncompressed' ? (frame.width * frame.height * fmt.bitsPerPixel) / 8 : undefined;
      const dest = new Uint8Array(Math.max(got.maxVideoFrameSize, frame.maxFrameBufferSize, expected ?? 0));
      const sizes: number[] = [];
      let done!: () => void;
      const enough = new Promise<void>((r) => (done = r));
      const reassembler = new PayloadReassembler({
        transfer: vs.transfer,
        maxPayloadTransferSize: got.maxPayloadTransferSize,
        expectedFrameSize: expected,
        onFrame: (f) => {
          reassembler.setDestination(dest);
          sizes.push((f.flags & UvcFrameFlag.error) !== 0 ? -1 : f.bytesUsed);
          if (sizes.length === 30) done();
        },
      });
      reassembler.setDestination(dest);
      let stream: { stop(): Promise<void> };
      if (vs.transfer === 'bulk') {
        stream = t.openInStream(vs.endpointAddress, {
          transferSize: got.maxPayloadTransferSize,
          depth: 8,
          onData: (v, st) => st === 'ok' && reassembler.pushBulk(v, got.maxPayloadTransferSize),
        });
      } else {
        const sel = selectAltSetting(vs.altSettings, got.maxPayloadTransferSize);
        expect(sel.ok).toBe(true);
        if (!sel.ok) return;
        await t.setAlternateSetting(vs.interfaceNumber, sel.alt);
        stream = t.openIsoInStream(vs.endpointAddress, {
          packetsPerTransfer: 32,
          packetSize: sel.bytesPerInterval,
          depth: 8,
          onTransfer: (x) => reassembler.pushIsoTransfer(x),
        });
      }
      await enough;
      await stream.stop();
      if (vs.transfer === 'bulk') await t.clearHalt(vs.endpointAddress);
      else await t.setAlternateSetting(vs.interfaceNumber, 0);
      if (expected !== undefined) {
        expect(sizes.filter((s) => s === expected).length).toBeGreaterThanOrEqual(25);
      }
      await t.releaseInterface(vs.interfaceNumber);
      await t.releaseInterface(fn.controlInterface);
      if (hadDriver) await t.attachKernelDriver(fn.controlInterface);
    } finally {
      await t.close();
    }
  }, 60_000);
});
