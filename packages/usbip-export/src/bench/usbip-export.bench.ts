// Benchmarks of the USB/IP export: UVC bulk frames through the server, TCP loopback and hal's client + reassembler, beside memcpy.
import {
  PayloadReassembler,
  UsbIpClientTransport,
  emptyProbeCommit,
  encodeProbeCommit,
  decodeProbeCommit,
} from '@ksemu/hal';
import { UsbIpServer } from '../usbip-server.js';
import { UvcFunction } from '../uvc-function.js';
import { PatternFrameSource, yuy2Format } from '../testing/pattern-frame-source.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** One exported camera and one importing client, set up once per case. */
function exportCase(width: number, height: number): BenchCase {
  const frameBytes = width * height * 2;
  let server: UsbIpServer | undefined;
  let t: UsbIpClientTransport | undefined;
  let src: PatternFrameSource | undefined;
  let fn: UvcFunction | undefined;
  /** PROBE then COMMIT: a bulk UVC stream starts at the commit (stopped again by CLEAR_FEATURE(HALT)). */
  const commit = async (): Promise<void> => {
    const set = (sel: number, b: Uint8Array) =>
      t!.controlOut({ requestType: 0x21, request: 0x01, value: sel << 8, index: 1 }, b);
    await set(
      1,
      encodeProbeCommit(
        emptyProbeCommit({ hint: 1, formatIndex: 1, frameIndex: 1, frameInterval: 333333 }),
        34,
      ),
    );
    const cur = await t!.controlIn({ requestType: 0xa1, request: 0x81, value: 1 << 8, index: 1 }, 34);
    await set(2, encodeProbeCommit(decodeProbeCommit(cur), 34));
  };
  return {
    name: `usbip bulk YUY2 ${width}x${height} (server → TCP → client → reassembly)`,
    group: `YUY2 ${width}x${height} frame transport`,
    unit: 'fps',
    better: 'higher',
    async setup() {
      src = new PatternFrameSource([yuy2Format(width, height)], 'index');
      server = new UsbIpServer({ port: 0 });
      fn = new UvcFunction({ source: src, bulkPayloadSize: 16384 });
      server.addDevice(fn);
      const { port } = await server.listen();
      t = await UsbIpClientTransport.connect({ port, busid: '1-1' });
    },
    async teardown() {
      await t?.close();
      await server?.close();
    },
    async run(iterations) {
      const transport = t!;
      const source = src!;
      const dest = new Uint8Array(frameBytes);
      let frames = 0;
      let bad = 0;
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const re = new PayloadReassembler({
        transfer: 'bulk',
        maxPayloadTransferSize: 16384,
        expectedFrameSize: frameBytes,
        onFrame: (f) => {
          if (f.bytesUsed !== frameBytes) bad++;
          re.setDestination(dest);
          if (++frames === iterations) finish();
        },
      });
      re.setDestination(dest);
      await commit();
      const t0 = process.hrtime.bigint();
      const stream = transport.openInStream(0x81, {
        transferSize: 16384,
        depth: 8,
        onData: (v, s) => s === 'ok' && re.pushBulk(v, 16384),
      });
      source.autoEmit = true;
      source.emit();
      await done;
      const s = seconds(t0);
      source.autoEmit = false;
      await transport.clearHalt(0x81); // stops the stream; the frame in flight is dropped and released
      await stream.stop();
      await fn!.whenStopped();
      return {
        seconds: s,
        value: iterations / s,
        extra: { MBps: Math.round((iterations * frameBytes) / s / 1e6), badFrames: bad },
      };
    },
  };
}

function memcpyCase(width: number, height: number): BenchCase {
  const frameBytes = width * height * 2;
  const a = Buffer.alloc(frameBytes, 7);
  const b = Buffer.alloc(frameBytes);
  return {
    name: `memcpy one YUY2 ${width}x${height} frame`,
    group: `YUY2 ${width}x${height} frame transport`,
    unit: 'fps',
    better: 'higher',
    peer: true,
    async run(iterations) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) a.copy(b);
      const s = seconds(t0);
      return { seconds: s, value: iterations / s };
    },
  };
}

const suite: BenchSuite = {
  name: 'usbip-export',
  async cases() {
    return [exportCase(640, 480), memcpyCase(640, 480), exportCase(1280, 720), memcpyCase(1280, 720)];
  },
};
export default suite;
