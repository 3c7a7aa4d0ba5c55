// VM tier (node:test, inside usbvm): the same cameras as usb/uvc-camera.vm.test.ts, streamed through UvcDeviceProvider → UvcCamera → UvcCaptureEngine.
// Environment: KSEMU_VM_BACKEND=node-usb|usbfs, KSEMU_VM_VIDPID=1209:0001, KSEMU_VM_WIDTH/HEIGHT, KSEMU_VM_FRAMES,
// KSEMU_VM_TAG (results file name), KSEMU_VM_UNPLUG_CMD (shell command that unplugs the device).
import { paintPocBars } from '../testing/poc-bars.js';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { FrameStatus, type CaptureEngine } from '../capture-engine.js';
import { emptyCompletionRecord } from '../completion-ring.js';
import type { HalDevice } from '../hal-device.js';
import { isHalError } from '../hal-error.js';
import { SystemTimeSource } from '../time-source.js';
import type { UsbTransportProvider } from '../usb/usb-transport.js';
import { UsbfsTransportProvider } from '../usb/usbfs-transport.js';
import type { UvcCamera } from './uvc-camera.js';
import type { UvcCameraSession } from './uvc-camera-session.js';
import { UvcDeviceProvider } from './uvc-device-provider.js';

const env = process.env;
const backend = env['KSEMU_VM_BACKEND'] ?? 'usbfs';
const [vidText, pidText] = (env['KSEMU_VM_VIDPID'] ?? '1209:0001').split(':');
const VID = parseInt(vidText ?? '1209', 16);
const PID = parseInt(pidText ?? '0001', 16);
const WIDTH = Number(env['KSEMU_VM_WIDTH'] ?? 320);
const HEIGHT = Number(env['KSEMU_VM_HEIGHT'] ?? 240);
const FRAMES = Number(env['KSEMU_VM_FRAMES'] ?? 100);
const FRAME_BYTES = WIDTH * HEIGHT * 2;
const TAG = env['KSEMU_VM_TAG'] ?? backend;
const results: Record<string, unknown> = {
  backend,
  vidpid: `${vidText}:${pidText}`,
  width: WIDTH,
  height: HEIGHT,
};

/** `p`, or `fallback` after `ms`; the timer is cleared either way so it cannot keep the process alive. */
async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function usbProvider(): Promise<UsbTransportProvider> {
  if (backend === 'node-usb') {
    const m = await import('../usb/node-usb-transport.js');
    return new m.NodeUsbTransportProvider();
  }
  return new UsbfsTransportProvider({ hotplugPollMs: 100 });
}

function interfaceDriver(location: string, iface: number): string | undefined {
  const link = `/sys/bus/usb/devices/${location}:1.${iface}/driver`;
  return existsSync(link) ? (readlinkSync(link).split('/').pop() ?? undefined) : undefined;
}

async function findCamera(): Promise<{ cam: UvcCamera; provider: UvcDeviceProvider }> {
  const provider = new UvcDeviceProvider(await usbProvider());
  const cams = (await provider.list()).filter(
    (d: HalDevice) => d.identity.vendorId === VID && d.identity.productId === PID,
  );
  assert.equal(cams.length, 1, `exactly one ${vidText}:${pidText} UVC camera, got ${cams.length}`);
  return { cam: cams[0] as UvcCamera, provider };
}

interface Consumer {
  frames: number;
  mismatched: number;
  wrongSize: number;
  notOk: number;
  outOfOrder: number;
  disconnected: number;
  last: number;
  done: Promise<void>;
}

/** Programs `slots` whole-slot mappings and re-programs each as it completes; checks every frame's bytes. */
function consume(engine: CaptureEngine, slots: number, want: number): Consumer {
  const stride = Math.ceil(FRAME_BYTES / 4) * 4;
  const memory = new SharedArrayBuffer(stride * slots);
  const bytes = new Uint8Array(memory);
  engine.registerPool(
    { slotCount: slots, dataOffset: 0, slotStride: stride, dataLength: FRAME_BYTES },
    memory,
  );
  const expect = new Uint8Array(FRAME_BYTES);
  const rec = emptyCompletionRecord();
  let read = engine.completions.count;
  let finish!: () => void;
  const c: Consumer = {
    frames: 0,
    mismatched: 0,
    wrongSize: 0,
    notOk: 0,
    outOfOrder: 0,
    disconnected: 0,
    last: -1,
    done: new Promise<void>((r) => (finish = r)),
  };
  engine.onCompletion(() => {
    while (read < engine.completions.count) {
      engine.completions.read(read++, rec);
      if (rec.status === FrameStatus.Disconnected) {
        c.disconnected++;
        continue;
      }
      if (rec.status === FrameStatus.Cancelled) continue;
      if (rec.status !== FrameStatus.Ok) c.notOk++;
      else if (rec.bytesUsed !== FRAME_BYTES) c.wrongSize++;
      else {
        const frame = bytes.subarray(rec.slot * stride, rec.slot * stride + FRAME_BYTES);
        const num = Number(new DataView(memory, rec.slot * stride).getBigUint64(0, true));
        paintPocBars(num, expect, WIDTH, HEIGHT);
        if (Buffer.compare(frame, expect) !== 0) c.mismatched++;
        if (num <= c.last) c.outOfOrder++;
        c.last = num;
        c.frames++;
      }
      if (c.frames >= want) finish();
      if (engine.state === 'running')
        engine.program([{ slot: rec.slot, offset: 0, length: FRAME_BYTES, cookie: rec.cookie }]);
    }
  });
  engine.program(
    Array.from({ length: slots }, (_, i) => ({ slot: i, offset: 0, length: FRAME_BYTES, cookie: i })),
  );
  return c;
}

function formatOf(cam: UvcCamera): { fourcc: 'YUY2'; width: number; height: number; interval: bigint } {
  const size = cam.capabilities.video
    .find((v) => v.fourcc === 'YUY2')
    ?.sizes.find((s) => s.width === WIDTH && s.height === HEIGHT);
  assert.ok(size, `a YUY2 ${WIDTH}x${HEIGHT} size`);
  return { fourcc: 'YUY2', width: WIDTH, height: HEIGHT, interval: size.defaultInterval };
}

test(
  `${backend}: UvcCamera lists, refuses a kernel-held open, streams ${FRAMES} frames through the CaptureEngine, reattaches`,
  { timeout: 180_000 },
  async () => {
    const { cam } = await findCamera();
    const location = cam.identity.location.replace(/^usb:/, '');
    results['id'] = cam.identity.id;
    results['location'] = cam.identity.location;
    results['formats'] = cam.capabilities.video.map((v) => v.fourcc);
    const driverBefore = interfaceDriver(location, 0) ?? null;
    results['driverBefore'] = driverBefore;
    if (driverBefore === 'uvcvideo') {
      await assert.rejects(
        cam.open(),
        (e: unknown) => isHalError(e, 'Busy') && /uvcvideo/.test((e as Error).message),
      );
    }
    const session = (await cam.open({
      timeSource: new SystemTimeSource(),
      detachKernelDriver: true,
    })) as UvcCameraSession;
    try {
      results['controls'] = cam.capabilities.controls.map((c) => c.id);
      if (cam.capabilities.controls.some((c) => c.id === 'brightness')) {
        const b = cam.capabilities.controls.find((c) => c.id === 'brightness')!;
        const v = Math.min(b.max, b.min + 7 * b.step);
        await session.writeControl('brightness', v);
        assert.equal(await session.readControl('brightness'), v, 'brightness read back');
      }
      const engine = session.captureEngine();
      engine.configure(formatOf(cam));
      const c = consume(engine, 8, FRAMES);
      const t0 = process.hrtime.bigint();
      try {
        await engine.start();
      } catch (err) {
        if (backend === 'node-usb' && isHalError(err, 'Unsupported')) {
          results['iso'] = 'Unsupported (as documented)';
          return;
        }
        throw err;
      }
      await within(c.done, 60_000, undefined);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await engine.stop();
      Object.assign(results, {
        frames: c.frames,
        fps: +(c.frames / seconds).toFixed(2),
        mismatched: c.mismatched,
        wrongSize: c.wrongSize,
        notOk: c.notOk,
        outOfOrder: c.outOfOrder,
        stats: engine.stats(),
      });
      assert.ok(c.frames >= FRAMES, `${c.frames} frames`);
      assert.equal(c.mismatched, 0, 'every frame byte-identical to the expected pattern');
      assert.equal(c.outOfOrder, 0, 'frame numbers strictly increasing');
      assert.equal(engine.outstanding, 0);
    } finally {
      await session.close();
      writeFileSync(`/results/vm-host-${TAG}.json`, JSON.stringify(results, null, 1));
    }
    if (driverBefore === 'uvcvideo')
      assert.equal(interfaceDriver(location, 0), 'uvcvideo', 'uvcvideo reattached');
  },
);

test(
  `${backend}: unplug mid-stream completes outstanding mappings Disconnected and emits disconnect`,
  { skip: !env['KSEMU_VM_UNPLUG_CMD'], timeout: 120_000 },
  async () => {
    const { cam } = await findCamera();
    const session = await cam.open({ timeSource: new SystemTimeSource(), detachKernelDriver: true });
    const gone = new Promise<unknown>((resolve) => cam.on('disconnect', resolve));
    try {
      const engine = session.captureEngine();
      engine.configure(formatOf(cam));
      const c = consume(engine, 8, 10);
      try {
        await engine.start();
      } catch (err) {
        if (isHalError(err, 'Unsupported')) return; // iso on node-usb
        throw err;
      }
      await within(c.done, 30_000, undefined);
      execSync(env['KSEMU_VM_UNPLUG_CMD'] ?? 'false', { stdio: 'inherit' });
      const reason = await within(gone, 20_000, 'timeout');
      assert.ok(isHalError(reason, 'Disconnected'), `disconnect event, got ${String(reason)}`);
      assert.equal(engine.state, 'disconnected');
      assert.equal(engine.outstanding, 0);
      assert.ok(c.disconnected > 0, 'outstanding mappings completed Disconnected');
      assert.throws(
        () => session.getControl('brightness'),
        (e: unknown) => isHalError(e, 'Disconnected'),
      );
      writeFileSync(
        `/results/vm-host-${TAG}-unplug.json`,
        JSON.stringify({ framesBefore: c.frames, disconnectedCompletions: c.disconnected }),
      );
    } finally {
      await session.close();
    }
  },
);
