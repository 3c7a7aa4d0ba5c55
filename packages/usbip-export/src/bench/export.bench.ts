// Benchmarks `ksemu serve-usbip` (a synthetic camera's KS capture pin exported as UVC) beside the proof-of-concept USB/IP camera, both consumed by hal's USB/IP client.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PayloadReassembler,
  UsbIpClientTransport,
  createFrameRenderer,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  parseUvcConfiguration,
} from '@ksemu/hal';
import type { ProbeCommit } from '@ksemu/hal';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const KSEMU_BIN = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));
/** Shared material: run in place, never copied into the repo. */
const POC = process.env.KSEMU_POC_SERVER ?? '/work/shared/usbvm/poc/usbip-uvc-server.js';
const PAYLOAD = 16384;
const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
let nextPort = 3300 + (process.pid % 200);

/** utime + stime of a process in seconds (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}

interface Spec {
  readonly fourcc: 'YUY2' | 'MJPG';
  readonly width: number;
  readonly height: number;
  /** Frames per run, the same for both servers: each run starts the stream (ours: stop → setFormat → run). */
  readonly frames: number;
}

/** One server process (ours or the PoC) and one importing hal client in this process. */
function serverCase(kind: 'ksemu' | 'poc', spec: Spec, tmp: string): BenchCase {
  const label = `${spec.fourcc} ${spec.width}x${spec.height}`;
  let child: ChildProcess | undefined;
  let t: UsbIpClientTransport | undefined;
  let at: { formatIndex: number; frameIndex: number; interval: number; size: number } | undefined;
  return {
    name:
      kind === 'ksemu'
        ? `ksemu serve-usbip synthetic:camera bulk ${label} (camera render + export → hal client)`
        : `PoC usbip-uvc-server.js bulk ${label} (prebuilt frame → hal client)`,
    group: `USB/IP UVC bulk ${label}`,
    unit: 'fps',
    better: 'higher',
    peer: kind === 'poc',
    fixedIterations: spec.frames,
    async setup() {
      const port = nextPort++;
      const args =
        kind === 'ksemu'
          ? [
              KSEMU_BIN,
              'serve-usbip',
              'synthetic:camera?pattern=box',
              '--port',
              String(port),
              '--clock',
              'virtual',
              '--formats',
              spec.fourcc,
              '--max-fps',
              '30',
            ]
          : [
              POC,
              '--port',
              String(port),
              '--mode',
              'bulk',
              '--width',
              String(spec.width),
              '--height',
              String(spec.height),
              '--fps',
              '1000',
              '--payload',
              String(PAYLOAD),
              ...(spec.fourcc === 'MJPG' ? ['--jpeg', jpegFile(spec, tmp)] : []),
            ];
      child = spawn(process.execPath, args, { stdio: 'ignore' });
      for (let i = 0; ; i++) {
        try {
          t = await UsbIpClientTransport.connect({ port, busid: '1-1', connectTimeoutMs: 1000 });
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const cfg = parseUvcConfiguration(await t.configDescriptor());
      for (const f of cfg.functions[0]!.streamingInterfaces[0]!.formats) {
        if (f.fourcc !== spec.fourcc) continue;
        const fr = f.frames.find((x) => x.width === spec.width && x.height === spec.height);
        if (fr)
          at = {
            formatIndex: f.index,
            frameIndex: fr.index,
            interval: Array.isArray(fr.intervals) ? (fr.intervals[0] ?? 333333) : fr.intervals.min,
            size: fr.maxFrameBufferSize,
          };
      }
      if (!at) throw new Error(`${kind} offers no ${label}`);
    },
    async teardown() {
      await t?.close();
      child?.kill('SIGINT');
      await new Promise((r) => (child?.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
    async run(iterations) {
      const transport = t!;
      const f = at!;
      const set = (sel: number, p: ProbeCommit) =>
        transport.controlOut(
          { requestType: 0x21, request: 0x01, value: sel << 8, index: 1 },
          encodeProbeCommit(p, 34),
        );
      await set(
        1,
        emptyProbeCommit({
          hint: 1,
          formatIndex: f.formatIndex,
          frameIndex: f.frameIndex,
          frameInterval: f.interval,
        }),
      );
      const c = decodeProbeCommit(
        await transport.controlIn({ requestType: 0xa1, request: 0x81, value: 1 << 8, index: 1 }, 34),
      );
      const size = c.maxPayloadTransferSize;
      const dest = new Uint8Array(Math.max(c.maxVideoFrameSize, f.size));
      let frames = 0;
      let bytes = 0;
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const re = new PayloadReassembler({
        transfer: 'bulk',
        maxPayloadTransferSize: size,
        ...(spec.fourcc === 'MJPG' ? {} : { expectedFrameSize: c.maxVideoFrameSize }),
        onFrame: (fr) => {
          bytes += fr.bytesUsed;
          re.setDestination(dest);
          if (++frames === iterations) finish();
        },
      });
      re.setDestination(dest);
      const stream = transport.openInStream(0x81, {
        transferSize: size,
        depth: 8,
        onData: (v, s) => s === 'ok' && re.pushBulk(v, size),
      });
      const cpu0 = cpuSeconds(child?.pid);
      const me0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await set(2, c); // bulk streams start at the commit
      await done;
      const s = seconds(t0);
      const serverCpu = cpuSeconds(child?.pid) - cpu0;
      const me = process.cpuUsage(me0);
      await transport.clearHalt(0x81);
      await stream.stop();
      return {
        seconds: s,
        value: iterations / s,
        extra: {
          serverCpuPct: Math.round((serverCpu / s) * 100),
          clientCpuPct: Math.round(((me.user + me.system) / 1e6 / s) * 100),
          MBps: Math.round(bytes / s / 1e5) / 10,
        },
      };
    },
  };
}

/** The PoC serves MJPEG from a file: give it the camera's own JPEG of that size. */
function jpegFile(spec: Spec, tmp: string): string {
  const file = join(tmp, `poc-${spec.width}x${spec.height}.jpg`);
  if (existsSync(file)) return file;
  const r = createFrameRenderer(
    { pattern: 'moving-box' },
    { fourcc: 'MJPG', width: spec.width, height: spec.height, interval: 333333n },
  );
  const out = new Uint8Array(r.layout.imageSize);
  writeFileSync(file, out.subarray(0, r.render(out, 0, out.length, 0, -1)));
  return file;
}

const SPECS: readonly Spec[] = [
  { fourcc: 'YUY2', width: 640, height: 480, frames: 300 },
  { fourcc: 'YUY2', width: 1280, height: 720, frames: 150 },
  { fourcc: 'MJPG', width: 1920, height: 1080, frames: 40 },
];

const suite: BenchSuite = {
  name: 'export',
  async cases() {
    const tmp = mkdtempSync(join(tmpdir(), 'ksemu-export-bench-'));
    process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
    const out: BenchCase[] = [];
    for (const s of SPECS) {
      out.push(serverCase('ksemu', s, tmp));
      if (existsSync(POC)) out.push(serverCase('poc', s, tmp));
    }
    return out;
  },
};
export default suite;
