// Guest-side probe of `pnpm bench usb`: streams a USB/IP pattern camera through UvcCamera + UvcCaptureEngine and prints one JSON line (fps, frames lost).
//   node dist/bench/usb-rate-probe.js --backend usbfs|node-usb --width 640 --height 480 --frames 150 [--vidpid 1209:0001]
//        [--depth N (bulk or iso transfers in flight; default: the driver's)]
// The camera embeds its frame number in the first 8 bytes of each frame (little endian); with the bench server's
// strict pacing the numbers are consecutive for every frame the device sent, so a gap is a frame this host lost.
import { paintPocBars } from '../testing/poc-bars.js';
import { readFileSync } from 'node:fs';
import { FrameStatus } from '../capture-engine.js';
import { emptyCompletionRecord } from '../completion-ring.js';
import type { HalDevice } from '../hal-device.js';
import { SystemTimeSource } from '../time-source.js';
import type { UsbTransportProvider } from '../usb/usb-transport.js';
import { UsbfsTransportProvider } from '../usb/usbfs-transport.js';
import type { UvcCamera } from '../uvc-camera/uvc-camera.js';
import { UvcDeviceProvider } from '../uvc-camera/uvc-device-provider.js';

const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const backend = args.get('backend') ?? 'usbfs';
const WIDTH = Number(args.get('width') ?? 640);
const HEIGHT = Number(args.get('height') ?? 480);
const FRAMES = Number(args.get('frames') ?? 150);
const TIMEOUT_MS = Number(args.get('timeout-ms') ?? 120_000);
/** Every CHECK_EVERY-th frame is compared byte for byte with the pattern (the rest: frame number only). */
const CHECK_EVERY = Number(args.get('check-every') ?? 10);
const [vidText, pidText] = (args.get('vidpid') ?? '1209:0001').split(':');
const VID = parseInt(vidText ?? '1209', 16);
const PID = parseInt(pidText ?? '0001', 16);
const FRAME_BYTES = WIDTH * HEIGHT * 2;
const DEPTH = args.has('depth') ? Number(args.get('depth')) : undefined;

/** Busy time of the whole machine (user+nice+system+irq+softirq) in ms, from /proc/stat (USER_HZ = 100); 0 elsewhere. */
function machineBusyMs(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).map(Number);
    return ((f[1] ?? 0) + (f[2] ?? 0) + (f[3] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) * 10;
  } catch {
    return 0;
  }
}

async function usbProvider(): Promise<UsbTransportProvider> {
  if (backend === 'node-usb') {
    const m = await import('../usb/node-usb-transport.js');
    return new m.NodeUsbTransportProvider();
  }
  return new UsbfsTransportProvider({ hotplugPollMs: 100 });
}

async function main(): Promise<Record<string, unknown>> {
  const provider = new UvcDeviceProvider(
    await usbProvider(),
    DEPTH === undefined ? {} : { bulkDepth: DEPTH, isoDepth: DEPTH },
  );
  const cams = (await provider.list()).filter(
    (d: HalDevice) => d.identity.vendorId === VID && d.identity.productId === PID,
  );
  if (cams.length !== 1)
    throw new Error(`exactly one ${vidText}:${pidText} camera expected, got ${cams.length}`);
  const cam = cams[0] as UvcCamera;
  const size = cam.capabilities.video
    .find((v) => v.fourcc === 'YUY2')
    ?.sizes.find((s) => s.width === WIDTH && s.height === HEIGHT);
  if (!size) throw new Error(`no YUY2 ${WIDTH}x${HEIGHT}`);
  const session = await cam.open({ timeSource: new SystemTimeSource(), detachKernelDriver: true });
  try {
    const engine = session.captureEngine();
    engine.configure({ fourcc: 'YUY2', width: WIDTH, height: HEIGHT, interval: size.defaultInterval });
    const slots = 8;
    const stride = Math.ceil(FRAME_BYTES / 64) * 64;
    const memory = new SharedArrayBuffer(stride * slots);
    const bytes = new Uint8Array(memory);
    const view = new DataView(memory);
    engine.registerPool(
      { slotCount: slots, dataOffset: 0, slotStride: stride, dataLength: FRAME_BYTES },
      memory,
    );
    const expect = new Uint8Array(FRAME_BYTES);
    const rec = emptyCompletionRecord();
    // Everything the per-frame callback touches is allocated here, before the stream starts.
    const times = new Float64Array(FRAMES);
    const c = {
      frames: 0,
      first: -1,
      last: -1,
      lost: 0,
      outOfOrder: 0,
      notOk: 0,
      wrongSize: 0,
      checked: 0,
      mismatched: 0,
    };
    let read = engine.completions.count;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const one = [{ slot: 0, offset: 0, length: FRAME_BYTES, cookie: 0 }];
    const onCompletion = (): void => {
      while (read < engine.completions.count) {
        engine.completions.read(read++, rec);
        if (rec.status === FrameStatus.Cancelled || rec.status === FrameStatus.Disconnected) continue;
        if (rec.status !== FrameStatus.Ok) c.notOk++;
        else if (rec.bytesUsed !== FRAME_BYTES) c.wrongSize++;
        else if (c.frames < FRAMES) {
          const base = rec.slot * stride;
          const num = Number(view.getBigUint64(base, true));
          times[c.frames] = performance.now();
          if (c.first < 0) c.first = num;
          else if (num <= c.last) c.outOfOrder++;
          else c.lost += num - c.last - 1;
          c.last = num;
          if (c.frames % CHECK_EVERY === 0) {
            paintPocBars(num, expect, WIDTH, HEIGHT);
            c.checked++;
            if (Buffer.compare(bytes.subarray(base, base + FRAME_BYTES), expect) !== 0) c.mismatched++;
          }
          c.frames++;
          if (c.frames === FRAMES) finish();
        }
        if (engine.state === 'running') {
          const m = one[0]!;
          m.slot = rec.slot;
          m.cookie = rec.cookie;
          engine.program(one);
        }
      }
    };
    engine.onCompletion(onCompletion);
    engine.program(
      Array.from({ length: slots }, (_, i) => ({ slot: i, offset: 0, length: FRAME_BYTES, cookie: i })),
    );
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const busy0 = machineBusyMs();
    await engine.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, TIMEOUT_MS)))]);
    clearTimeout(timer);
    const cpu = process.cpuUsage(cpu0);
    const busy = machineBusyMs() - busy0;
    const stats = engine.stats();
    await engine.stop();
    const n = c.frames;
    const tFirst = times[0] ?? 0;
    const tLast = times[Math.max(0, n - 1)] ?? 0;
    const half = n >> 1;
    const tHalf = times[half] ?? 0;
    let maxGapMs = 0;
    for (let i = 1; i < n; i++) maxGapMs = Math.max(maxGapMs, times[i]! - times[i - 1]!);
    return {
      driver: 'ours',
      backend,
      ...(DEPTH === undefined ? {} : { depth: DEPTH }),
      width: WIDTH,
      height: HEIGHT,
      frames: n,
      // steady: from the first frame to the last (start-up excluded); total: from the start call
      fps: n > 1 ? +(((n - 1) * 1000) / (tLast - tFirst)).toFixed(2) : 0,
      fpsSecondHalf: n - half > 1 ? +(((n - 1 - half) * 1000) / (tLast - tHalf)).toFixed(2) : 0,
      fpsWithStartup: n > 0 ? +((n * 1000) / (tLast - t0)).toFixed(2) : 0,
      startupMs: +(tFirst - t0).toFixed(1),
      maxGapMs: +maxGapMs.toFixed(1),
      // this process's CPU time (user + system, which includes the kernel's usbfs copies) per frame
      cpuMsPerFrame: n > 0 ? +((cpu.user + cpu.system) / 1000 / n).toFixed(2) : 0,
      // the whole guest's busy CPU time per frame (driver, vhci, network), start call to last frame
      machineCpuMsPerFrame: n > 0 ? +(busy / n).toFixed(2) : 0,
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      firstNumber: c.first,
      lastNumber: c.last,
      lost: c.lost,
      outOfOrder: c.outOfOrder,
      notOk: c.notOk,
      wrongSize: c.wrongSize,
      checked: c.checked,
      mismatched: c.mismatched,
      engine: stats,
    };
  } finally {
    await session.close();
  }
}

main().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  },
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ driver: 'ours', backend, error: String(err) }) + '\n');
    process.exit(1);
  },
);
