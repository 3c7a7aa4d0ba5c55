// Benchmarks of the pure UVC protocol code: payload reassembly (iso, bulk) beside a whole-frame memcpy peer, payload planning, descriptor parsing.
import { buildUvcDescriptors } from '../uvc/descriptor-builder.js';
import { parseUvcDescriptors } from '../uvc/descriptor-parser.js';
import { PayloadReassembler } from '../uvc/payload-reassembler.js';
import { PayloadWriter } from '../uvc/payload-writer.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

interface Stream {
  frameBytes: number;
  /** Iso: packed transfers with per-packet lengths; bulk: transfers as views. */
  transfers: { data: Uint8Array; lengths: Uint32Array; status: Int32Array; count: number }[];
}

/** Two frames' worth of payloads (FID 0 and 1) produced by the writer, replayed alternately. */
function isoStream(width: number, height: number, packetSize: number, packetsPerTransfer: number): Stream {
  const frameBytes = width * height * 2;
  const w = new PayloadWriter({ maxPayloadSize: packetSize, pts: true, scr: true });
  const frame = new Uint8Array(frameBytes).map((_, i) => i & 0xff);
  const transfers: Stream['transfers'] = [];
  let cur = {
    data: new Uint8Array(packetSize * packetsPerTransfer),
    lengths: new Uint32Array(packetsPerTransfer),
    status: new Int32Array(packetsPerTransfer),
    count: 0,
  };
  for (let n = 0; n < 2; n++) {
    w.startFrame(frameBytes, { pts: n });
    for (let p = w.nextPayload(); p; p = w.nextPayload()) {
      const at = cur.count * packetSize;
      const h = w.writeHeader(p, cur.data, at);
      cur.data.set(frame.subarray(p.dataOffset, p.dataOffset + p.dataLength), at + h);
      cur.lengths[cur.count++] = h + p.dataLength;
      if (cur.count === packetsPerTransfer) {
        transfers.push(cur);
        cur = {
          data: new Uint8Array(packetSize * packetsPerTransfer),
          lengths: new Uint32Array(packetsPerTransfer),
          status: new Int32Array(packetsPerTransfer),
          count: 0,
        };
      }
    }
  }
  if (cur.count) transfers.push(cur);
  return { frameBytes, transfers };
}

function bulkStream(width: number, height: number, maxPayload: number, transferSize: number): Stream {
  const frameBytes = width * height * 2;
  const w = new PayloadWriter({ maxPayloadSize: maxPayload, pts: true, scr: true });
  const frame = new Uint8Array(frameBytes).map((_, i) => i & 0xff);
  const transfers: Stream['transfers'] = [];
  for (let n = 0; n < 2; n++) {
    w.startFrame(frameBytes, { pts: n });
    for (let p = w.nextPayload(); p; p = w.nextPayload()) {
      const buf = new Uint8Array(p.headerLength + p.dataLength);
      const h = w.writeHeader(p, buf);
      buf.set(frame.subarray(p.dataOffset, p.dataOffset + p.dataLength), h);
      for (let off = 0; off < buf.length; off += transferSize) {
        transfers.push({
          data: buf.subarray(off, Math.min(buf.length, off + transferSize)),
          lengths: new Uint32Array(0),
          status: new Int32Array(0),
          count: transferSize,
        });
      }
    }
  }
  return { frameBytes, transfers };
}

function reassemblyCase(
  name: string,
  group: string,
  s: Stream,
  transfer: 'bulk' | 'isochronous',
  maxPayload: number,
  packetSize: number,
): BenchCase {
  return {
    name,
    group,
    unit: 'frames/s',
    better: 'higher',
    run: async (iterations) => {
      const slots = [new Uint8Array(s.frameBytes), new Uint8Array(s.frameBytes)];
      let frames = 0;
      let k = 0;
      const r = new PayloadReassembler({
        transfer,
        maxPayloadTransferSize: maxPayload,
        expectedFrameSize: s.frameBytes,
        onFrame: (f) => {
          if (f.flags & 0x1f) throw new Error(`bench frame flagged 0x${f.flags.toString(16)}`);
          frames++;
          r.setDestination(slots[++k & 1]);
        },
      });
      r.setDestination(slots[0]);
      const t0 = process.hrtime.bigint();
      // Each iteration replays two frames; a frame completes on EOF, so the count is exact.
      for (let i = 0; i < iterations; i++) {
        for (const t of s.transfers) {
          if (transfer === 'bulk') r.pushBulk(t.data, t.count);
          else
            r.pushIsoTransfer({
              data: t.data,
              packetCount: t.lengths.length,
              packetSize,
              packetLengths: t.lengths,
              packetStatus: t.status,
            });
        }
      }
      const sec = seconds(t0);
      return {
        seconds: sec,
        value: frames / sec,
        extra: { MBps: Math.round((frames * s.frameBytes) / sec / 1e6) },
      };
    },
  };
}

function memcpyPeer(name: string, group: string, frameBytes: number): BenchCase {
  return {
    name,
    group,
    unit: 'frames/s',
    better: 'higher',
    peer: true,
    run: async (iterations) => {
      const src = new Uint8Array(frameBytes).fill(7);
      const dst = new Uint8Array(frameBytes);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations * 2; i++) dst.set(src);
      const sec = seconds(t0);
      return { seconds: sec, value: (iterations * 2) / sec };
    },
  };
}

const suite: BenchSuite = {
  name: 'uvc',
  async cases() {
    const vga = isoStream(640, 480, 3072, 32);
    const hd = isoStream(1920, 1080, 3072, 32);
    const bulk = bulkStream(1920, 1080, 65536, 16384);
    const desc = buildUvcDescriptors({
      vendorId: 1,
      productId: 2,
      cameraControls: ['ae-mode', 'exposure-time-absolute', 'focus-auto'],
      processingControls: ['brightness', 'contrast', 'gain'],
      streaming: {
        transfer: 'isochronous',
        isoBytesPerInterval: [192, 384, 512, 640, 800, 944, 1280, 1600, 1984, 2688, 3060],
        formats: [
          {
            kind: 'uncompressed',
            fourcc: 'YUY2',
            frames: Array.from({ length: 19 }, (_, i) => ({
              width: 160 + 64 * i,
              height: 120 + 36 * i,
              intervals: [333333, 416666, 500000, 666666, 1000000, 1333333, 2000000],
            })),
          },
          {
            kind: 'mjpeg',
            frames: Array.from({ length: 17 }, (_, i) => ({
              width: 160 + 64 * i,
              height: 120 + 36 * i,
              intervals: [333333, 416666, 500000, 666666, 1000000, 1333333, 2000000],
            })),
          },
        ],
      },
    });
    return [
      reassemblyCase(
        'iso reassembly 640x480 YUY2 (3072 B packets, PTS+SCR)',
        'uvc-reassembly-vga',
        vga,
        'isochronous',
        3072,
        3072,
      ),
      memcpyPeer('memcpy 640x480 YUY2 frame (Uint8Array.set)', 'uvc-reassembly-vga', vga.frameBytes),
      reassemblyCase(
        'iso reassembly 1920x1080 YUY2 (3072 B packets, PTS+SCR)',
        'uvc-reassembly-1080p',
        hd,
        'isochronous',
        3072,
        3072,
      ),
      reassemblyCase(
        'bulk reassembly 1920x1080 YUY2 (64 KiB payloads, 16 KiB transfers)',
        'uvc-reassembly-1080p',
        bulk,
        'bulk',
        65536,
        0,
      ),
      memcpyPeer('memcpy 1920x1080 YUY2 frame (Uint8Array.set)', 'uvc-reassembly-1080p', hd.frameBytes),
      {
        name: 'payload planning 1920x1080 YUY2 (3072 B payloads, headers written)',
        unit: 'frames/s',
        better: 'higher',
        run: async (iterations) => {
          const w = new PayloadWriter({ maxPayloadSize: 3072, pts: true, scr: true });
          const header = new Uint8Array(12);
          let sum = 0;
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < iterations; i++) {
            w.startFrame(1920 * 1080 * 2, { pts: i });
            for (let p = w.nextPayload(); p; p = w.nextPayload())
              sum += w.writeHeader(p, header) + p.dataLength;
          }
          const sec = seconds(t0);
          if (sum !== iterations * (1920 * 1080 * 2 + 12 * w.payloadCount(1920 * 1080 * 2)))
            throw new Error('bad plan');
          return { seconds: sec, value: iterations / sec };
        },
      },
      {
        name: `descriptor parse (C920-sized, ${desc.configuration.length} B)`,
        unit: 'parses/s',
        better: 'higher',
        run: async (iterations) => {
          let n = 0;
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < iterations; i++) n += parseUvcDescriptors(desc.configuration).functions.length;
          const sec = seconds(t0);
          if (n !== iterations) throw new Error('parse failed');
          return { seconds: sec, value: iterations / sec };
        },
      },
    ];
  },
};

export default suite;
