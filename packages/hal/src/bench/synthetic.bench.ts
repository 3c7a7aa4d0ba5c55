// The `synthetic` bench suite: pattern rendering into pool memory beside C memcpy, GStreamer and ffmpeg.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaptureEngine } from '../capture-engine.js';
import { emptyCompletionRecord } from '../completion-ring.js';
import type { OpenedHalDevice } from '../hal-device.js';
import { PatternRenderer } from '../pattern-renderer.js';
import { SyntheticCamera } from '../synthetic-camera.js';
import { ManualTimeSource } from '../time-source.js';
import { imageLayout, type Fourcc, type VideoFormat } from '../pixel-format.js';
import { createPoolMemory } from '../pool-memory.js';
import {
  CONSUMER_SLEEPING,
  PRODUCER_SLEEPING,
  PUBLISHED,
  RELEASED,
  waitForChange,
  writeAndWake,
  type ConsumerSetup,
} from './synthetic-consumer.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const SIZES: ReadonlyArray<readonly [number, number]> = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
  [3840, 2160],
];
const FOURCCS: readonly Fourcc[] = ['YUY2', 'NV12'];
/** Optional size filter, e.g. KSEMU_SYNTHETIC_SIZES=1920x1080 (the runner's --only keeps every peer). */
const SIZE_FILTER = process.env['KSEMU_SYNTHETIC_SIZES']?.split(',');
const SLOTS = 4;
const INSTALL = process.argv.includes('--install') || process.env['KSEMU_BENCH_INSTALL'] === '1';
const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
const MEMCPY_BIN = `${BENCH_DIR}build/memcpy-ring`;

const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Makes sure a peer tool exists; installs it with apt only when asked (--install). */
function requireTool(command: string, packages: readonly string[]): void {
  if (have(command)) return;
  if (!INSTALL)
    throw new Error(
      `${command} is not installed (run with --install or KSEMU_BENCH_INSTALL=1 to apt-get it)`,
    );
  execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'ignore' });
  if (!have(command))
    throw new Error(`${command} is still missing after apt-get install ${packages.join(' ')}`);
}

function buildMemcpy(): void {
  if (existsSync(MEMCPY_BIN)) return;
  requireTool('gcc', ['gcc']);
  mkdirSync(`${BENCH_DIR}build`, { recursive: true });
  execFileSync('gcc', ['-O2', '-o', MEMCPY_BIN, `${BENCH_DIR}memcpy-ring.c`], { stdio: 'inherit' });
}

/** One group's pool: 4 slots of the frame in wasm-backed (or plain) shared memory. */
function makePool(frameBytes: number, wasm: boolean): { memory: Uint8Array; stride: number } {
  const stride = (frameBytes + 63) & ~63;
  const sab = wasm ? createPoolMemory(stride * SLOTS) : new SharedArrayBuffer(stride * SLOTS);
  return { memory: new Uint8Array(sab), stride };
}

function renderCase(group: string, format: VideoFormat, mode: 'full' | 'dirty', wasm: boolean): BenchCase {
  let renderer: PatternRenderer | undefined;
  let pool: { memory: Uint8Array; stride: number } | undefined;
  const held = new Float64Array(SLOTS).fill(-1);
  let n = 0;
  return {
    name: `${group} hal ${mode} render${wasm ? '' : ' (plain SAB)'}`,
    group,
    unit: 'fps',
    better: 'higher',
    setup() {
      renderer = new PatternRenderer({ pattern: 'moving-box' }, format);
      pool = makePool(renderer.layout.imageSize, wasm);
    },
    async run(iterations) {
      const r = renderer!;
      const { memory, stride } = pool!;
      const size = r.layout.imageSize;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++, n++) {
        const slot = n % SLOTS;
        r.render(memory, slot * stride, size, n, mode === 'dirty' ? held[slot]! : -1);
        held[slot] = n;
      }
      const s = seconds(t0);
      return { seconds: s, value: iterations / s };
    },
  };
}

function workerConsumerCase(group: string, format: VideoFormat, mode: 'full' | 'dirty'): BenchCase {
  let renderer: PatternRenderer | undefined;
  let pool: { memory: Uint8Array; stride: number } | undefined;
  let worker: Worker | undefined;
  let control: Int32Array | undefined;
  const held = new Float64Array(SLOTS).fill(-1);
  let n = 0;
  return {
    name: `${group} hal ${mode} render + Worker consumer`,
    group,
    unit: 'fps',
    better: 'higher',
    async setup() {
      renderer = new PatternRenderer({ pattern: 'moving-box' }, format);
      pool = makePool(renderer.layout.imageSize, true);
      control = new Int32Array(new SharedArrayBuffer(64));
      const setup: ConsumerSetup = {
        control: control.buffer as SharedArrayBuffer,
        pool: pool.memory.buffer as SharedArrayBuffer,
        slotStride: pool.stride,
        frameBytes: renderer.layout.imageSize,
        slots: SLOTS,
      };
      worker = new Worker(new URL('./synthetic-consumer.js', import.meta.url), { workerData: setup });
      await new Promise((resolve) => worker!.once('online', resolve));
    },
    async teardown() {
      if (control !== undefined) {
        Atomics.store(control, PUBLISHED, -1);
        Atomics.notify(control, PUBLISHED);
      }
      await worker?.terminate();
    },
    async run(iterations) {
      const r = renderer!;
      const c = control!;
      const { memory, stride } = pool!;
      const size = r.layout.imageSize;
      const t0 = process.hrtime.bigint();
      const end = n + iterations;
      let released = Atomics.load(c, RELEASED);
      for (; n < end; n++) {
        // Wait while every slot is still held by the consumer.
        while (n - released >= SLOTS) released = waitForChange(c, RELEASED, released, PRODUCER_SLEEPING);
        const slot = n % SLOTS;
        r.render(memory, slot * stride, size, n, mode === 'dirty' ? held[slot]! : -1);
        held[slot] = n;
        writeAndWake(c, PUBLISHED, n + 1, CONSUMER_SLEEPING);
      }
      while (released < end) released = waitForChange(c, RELEASED, released, PRODUCER_SLEEPING);
      const s = seconds(t0);
      return { seconds: s, value: iterations / s };
    },
  };
}

/**
 * The whole device path: a SyntheticCamera's capture engine on a ManualTimeSource, one mapping
 * programmed per frame (4-slot ring), each completion read from the shared ring.
 */
function engineCase(group: string, format: VideoFormat): BenchCase {
  let session: OpenedHalDevice | undefined;
  let engine: CaptureEngine | undefined;
  let clock: ManualTimeSource | undefined;
  let frameBytes = 0;
  let stride = 0;
  let programmed = 0;
  let read = 0;
  const record = emptyCompletionRecord();
  return {
    name: `${group} hal camera engine (dirty, ManualTimeSource)`,
    group,
    unit: 'fps',
    better: 'higher',
    async setup() {
      const camera = new SyntheticCamera({ pattern: 'moving-box' });
      clock = new ManualTimeSource();
      session = await camera.open({ timeSource: clock });
      engine = session.captureEngine();
      frameBytes = imageLayout(format.fourcc, format.width, format.height).imageSize;
      stride = (frameBytes + 63) & ~63;
      engine.registerPool(
        { slotCount: SLOTS, dataOffset: 0, slotStride: stride, dataLength: frameBytes },
        createPoolMemory(stride * SLOTS),
      );
      engine.configure(format);
      for (; programmed < SLOTS - 1; programmed++) {
        engine.program([{ slot: programmed % SLOTS, offset: 0, length: frameBytes, cookie: programmed }]);
      }
      await engine.start({ startTime: 0n });
    },
    async teardown() {
      await session?.close();
    },
    async run(iterations) {
      const e = engine!;
      const t = clock!;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) {
        e.program([{ slot: programmed % SLOTS, offset: 0, length: frameBytes, cookie: programmed }]);
        programmed++;
        t.advanceTo(BigInt(read) * format.interval);
        if (!e.completions.read(read, record) || record.bytesUsed !== frameBytes)
          throw new Error('frame not produced');
        read++;
      }
      const s = seconds(t0);
      return { seconds: s, value: iterations / s };
    },
  };
}

function memcpyPeer(group: string, frameBytes: number): BenchCase {
  return {
    name: 'C memcpy, 4-slot ring',
    group,
    unit: 'fps',
    better: 'higher',
    peer: true,
    setup: buildMemcpy,
    async run(iterations) {
      const out = execFileSync(MEMCPY_BIN, [String(frameBytes), String(iterations)], { encoding: 'utf8' });
      const r = JSON.parse(out) as { secs: number; fps: number };
      return { seconds: r.secs, value: r.fps };
    },
  };
}

/**
 * A tool timed as a whole process. Steady-state fps removes start-up with a second, 1-frame
 * run in the same round: (N − 1) / (wall(N) − wall(1)).
 */
function processPeer(
  group: string,
  name: string,
  command: string,
  packages: readonly string[],
  frames: number,
  args: (frames: number) => string[],
): BenchCase {
  const wall = (n: number): number => {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(command, args(n), { stdio: ['ignore', 'ignore', 'pipe'] });
    const s = seconds(t0);
    if (res.status !== 0) throw new Error(`${command} failed: ${String(res.stderr).slice(0, 200)}`);
    return s;
  };
  return {
    name,
    group,
    unit: 'fps',
    better: 'higher',
    peer: true,
    fixedIterations: frames,
    setup: () => requireTool(command, packages),
    async run(iterations) {
      const wN = wall(iterations);
      const w1 = wall(1);
      const steady = (iterations - 1) / Math.max(1e-6, wN - w1);
      return { seconds: wN + w1, value: steady, extra: { wholeProcessFps: Math.round(iterations / wN) } };
    },
  };
}

const GST = ['gstreamer1.0-tools', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good'];

function peersFor(group: string, fourcc: Fourcc, width: number, height: number): BenchCase[] {
  const scale = (1920 * 1080) / (width * height);
  const frames = (fps1080: number): number => Math.max(20, Math.round(fps1080 * scale));
  const gst = (pattern: string) => (n: number) => [
    '-q',
    'videotestsrc',
    `num-buffers=${n}`,
    `pattern=${pattern}`,
    'is-live=false',
    '!',
    `video/x-raw,format=${fourcc},width=${width},height=${height},framerate=30/1`,
    '!',
    'fakesink',
    'sync=false',
  ];
  const pixFmt = fourcc === 'YUY2' ? 'yuyv422' : 'nv12';
  return [
    memcpyPeer(group, imageLayout(fourcc, width, height).imageSize),
    processPeer(group, 'gst videotestsrc pattern=smpte', 'gst-launch-1.0', GST, frames(600), gst('smpte')),
    processPeer(group, 'gst videotestsrc pattern=ball', 'gst-launch-1.0', GST, frames(170), gst('ball')),
    processPeer(
      group,
      'gst videotestsrc pattern=smpte100',
      'gst-launch-1.0',
      GST,
      frames(3000),
      gst('smpte100'),
    ),
    processPeer(group, 'ffmpeg lavfi testsrc2', 'ffmpeg', ['ffmpeg'], frames(400), (n) => [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=1000`,
      '-frames:v',
      String(n),
      '-pix_fmt',
      pixFmt,
      '-f',
      'null',
      '-',
    ]),
  ];
}

const suite: BenchSuite = {
  name: 'synthetic',
  async cases() {
    const out: BenchCase[] = [];
    for (const fourcc of FOURCCS) {
      for (const [width, height] of SIZES) {
        if (SIZE_FILTER !== undefined && !SIZE_FILTER.includes(`${width}x${height}`)) continue;
        const group = `${fourcc} ${width}x${height}`;
        const format: VideoFormat = { fourcc, width, height, interval: 333333n };
        out.push(
          renderCase(group, format, 'full', true),
          renderCase(group, format, 'full', false),
          renderCase(group, format, 'dirty', true),
          workerConsumerCase(group, format, 'dirty'),
          engineCase(group, format),
          ...peersFor(group, fourcc, width, height),
        );
      }
    }
    return out;
  },
};

export default suite;
