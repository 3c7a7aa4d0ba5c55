// VM tier (run inside usbvm by `pnpm test:usb`, with node:test): a UVC camera through our transports against a real kernel.
// Environment: KSEMU_VM_BACKEND=node-usb|usbfs, KSEMU_VM_VIDPID=1209:0001, KSEMU_VM_WIDTH/HEIGHT, KSEMU_VM_FRAMES,
// KSEMU_VM_UNPLUG_CMD (shell command that unplugs the device), KSEMU_VM_PLUG_CMD (plugs it back).
import { paintPocBars } from '../testing/poc-bars.js';
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../hal-error.js';
import { parseUvcDescriptors } from '../uvc/descriptor-parser.js';
import type { UvcFunction, UvcStreamingInterface } from '../uvc/descriptor-types.js';
import {
  buildProbeGet,
  buildProbeSet,
  decodeProbeCommit,
  emptyProbeCommit,
  encodeProbeCommit,
  probeCommitSize,
  selectAltSetting,
} from '../uvc/probe-commit.js';
import type { ProbeCommit } from '../uvc/probe-commit.js';
import type { UvcControlRequest } from '../uvc/controls.js';
import { PayloadReassembler, UvcFrameFlag } from '../uvc/payload-reassembler.js';
import type { ReassembledFrame } from '../uvc/payload-reassembler.js';
import type { UsbTransport, UsbTransportProvider, UsbDeviceInfo, UsbStreamEnd } from './usb-transport.js';
import { UsbfsTransportProvider } from './usbfs-transport.js';

const env = process.env;
const backend = env['KSEMU_VM_BACKEND'] ?? 'usbfs';
const [vidText, pidText] = (env['KSEMU_VM_VIDPID'] ?? '1209:0001').split(':');
const VID = parseInt(vidText ?? '1209', 16);
const PID = parseInt(pidText ?? '0001', 16);
const WIDTH = Number(env['KSEMU_VM_WIDTH'] ?? 320);
const HEIGHT = Number(env['KSEMU_VM_HEIGHT'] ?? 240);
const FRAMES = Number(env['KSEMU_VM_FRAMES'] ?? 100);
const FRAME_BYTES = WIDTH * HEIGHT * 2;
const TAG = env['KSEMU_VM_TAG'];
const results: Record<string, unknown> = {
  backend,
  vidpid: `${vidText}:${pidText}`,
  width: WIDTH,
  height: HEIGHT,
};

async function makeProvider(): Promise<UsbTransportProvider> {
  if (backend === 'node-usb') {
    const m = await import('./node-usb-transport.js');
    return new m.NodeUsbTransportProvider();
  }
  return new UsbfsTransportProvider({ hotplugPollMs: 100 });
}

/**
 * Feeds payloads to hal's UVC PayloadReassembler (writing into one reused destination) and checks
 * each completed frame against paintPocBars(): size, flags, content, strictly increasing numbers.
 */
class FrameChecker {
  readonly frame = new Uint8Array(FRAME_BYTES);
  private readonly expect = new Uint8Array(FRAME_BYTES);
  readonly reassembler: PayloadReassembler;
  frames = 0;
  wrongSize = 0;
  mismatched = 0;
  errored = 0;
  gaps = 0;
  outOfOrder = 0;
  last = -1;
  firstNumber = -1;

  constructor(transfer: 'bulk' | 'isochronous', maxPayloadTransferSize: number) {
    this.reassembler = new PayloadReassembler({
      transfer,
      maxPayloadTransferSize,
      expectedFrameSize: FRAME_BYTES,
      onFrame: (f) => this.check(f),
    });
    this.reassembler.setDestination(this.frame);
  }

  private check(f: ReassembledFrame): void {
    this.reassembler.setDestination(this.frame);
    if (
      f.bytesUsed !== FRAME_BYTES ||
      (f.flags & (UvcFrameFlag.short | UvcFrameFlag.long | UvcFrameFlag.truncated)) !== 0
    ) {
      this.wrongSize++;
      return;
    }
    if ((f.flags & UvcFrameFlag.error) !== 0) {
      this.errored++;
      return;
    }
    const num = Number(new DataView(this.frame.buffer).getBigUint64(0, true));
    paintPocBars(num, this.expect, WIDTH, HEIGHT);
    if (Buffer.compare(this.frame, this.expect) !== 0) this.mismatched++;
    if (this.last >= 0 && num <= this.last) this.outOfOrder++;
    if (this.last >= 0 && num > this.last + 1) this.gaps += num - this.last - 1;
    if (this.firstNumber < 0) this.firstNumber = num;
    this.last = num;
    this.frames++;
  }
}

interface Session {
  provider: UsbTransportProvider;
  info: UsbDeviceInfo;
  t: UsbTransport;
  fn: UvcFunction;
  vs: UvcStreamingInterface;
}

async function findOne(provider: UsbTransportProvider): Promise<UsbDeviceInfo> {
  const list = await provider.listDevices({ vendorId: VID, productId: PID });
  assert.equal(list.length, 1, `exactly one ${vidText}:${pidText} device, got ${list.length}`);
  return list[0] as UsbDeviceInfo;
}

async function controlIn(t: UsbTransport, r: UvcControlRequest): Promise<Uint8Array> {
  return t.controlIn(r, r.length);
}

async function negotiate(s: Session): Promise<ProbeCommit> {
  const { t, fn, vs } = s;
  const fmt = vs.formats.find((f) => f.type === 'uncompressed' && f.fourcc === 'YUY2');
  assert.ok(fmt, 'a YUY2 format');
  const frame = fmt.frames.find((f) => f.width === WIDTH && f.height === HEIGHT);
  assert.ok(frame, `a ${WIDTH}x${HEIGHT} frame`);
  const size = probeCommitSize(fn.bcdUVC);
  const want = emptyProbeCommit({
    hint: 1,
    formatIndex: fmt.index,
    frameIndex: frame.index,
    frameInterval: frame.defaultInterval,
  });
  const probeSet = buildProbeSet('probe', vs.interfaceNumber, encodeProbeCommit(want, size));
  await t.controlOut(probeSet, probeSet.data ?? new Uint8Array(0));
  const got = decodeProbeCommit(await controlIn(t, buildProbeGet('cur', vs.interfaceNumber, size)));
  assert.equal(got.formatIndex, fmt.index);
  assert.equal(got.frameIndex, frame.index);
  const commit = buildProbeSet('commit', vs.interfaceNumber, encodeProbeCommit(got, size));
  await t.controlOut(commit, commit.data ?? new Uint8Array(0));
  return got;
}

function interfaceDriver(info: UsbDeviceInfo, iface: number): string | undefined {
  const link = `/sys/bus/usb/devices/${info.location}:1.${iface}/driver`;
  return existsSync(link) ? (readlinkSync(link).split('/').pop() ?? undefined) : undefined;
}

async function openSession(): Promise<Session> {
  const provider = await makeProvider();
  const info = await findOne(provider);
  const t = await provider.open(info);
  const dd = t.deviceDescriptor();
  assert.equal(dd[1], 1);
  assert.equal((dd[8] ?? 0) | ((dd[9] ?? 0) << 8), VID);
  const parsed = parseUvcDescriptors(await t.configDescriptor());
  const fn = parsed.functions[0];
  assert.ok(fn, 'one UVC function');
  const vs = fn.streamingInterfaces[0];
  assert.ok(vs, 'a streaming interface');
  return { provider, info, t, fn, vs };
}

async function takeInterfaces(s: Session): Promise<void> {
  const { t, fn, vs } = s;
  results['driverBefore'] = interfaceDriver(s.info, fn.controlInterface) ?? null;
  if (results['driverBefore'] === 'uvcvideo') {
    assert.equal(await t.isKernelDriverActive(fn.controlInterface), true);
    // claiming what uvcvideo holds is a typed Busy, not a crash or a silent steal
    await assert.rejects(t.claimInterface(fn.controlInterface), (e: unknown) => isHalError(e, 'Busy'));
  }
  await t.detachKernelDriver(fn.controlInterface);
  await t.detachKernelDriver(vs.interfaceNumber); // false after VC: uvcvideo released both
  await t.claimInterface(fn.controlInterface);
  await t.claimInterface(vs.interfaceNumber);
}

async function giveBack(s: Session): Promise<void> {
  const { t, fn, vs } = s;
  await t.releaseInterface(vs.interfaceNumber);
  await t.releaseInterface(fn.controlInterface);
  if (results['driverBefore'] === 'uvcvideo') {
    await t.attachKernelDriver(fn.controlInterface);
    assert.equal(interfaceDriver(s.info, fn.controlInterface), 'uvcvideo', 'uvcvideo reattached');
  }
}

async function stream(
  s: Session,
  probe: ProbeCommit,
  frames: number,
  onFrame?: (c: FrameChecker) => void,
): Promise<{ checker: FrameChecker; end: UsbStreamEnd; seconds: number }> {
  const { t, vs } = s;
  const checker = new FrameChecker(vs.transfer, probe.maxPayloadTransferSize);
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  let seen = 0;
  const after = (): void => {
    if (checker.frames !== seen) {
      seen = checker.frames;
      onFrame?.(checker);
      if (checker.frames >= frames) done();
    }
  };
  const t0 = process.hrtime.bigint();
  let st: { stop(): Promise<void>; ended: Promise<UsbStreamEnd> };
  if (vs.transfer === 'bulk') {
    st = t.openInStream(vs.endpointAddress, {
      transferSize: probe.maxPayloadTransferSize,
      depth: 8,
      onData: (view, status) => {
        if (status !== 'ok') return;
        checker.reassembler.pushBulk(view, probe.maxPayloadTransferSize);
        after();
      },
    });
  } else {
    const sel = selectAltSetting(vs.altSettings, probe.maxPayloadTransferSize);
    assert.ok(sel.ok, 'an alternate setting with enough bandwidth');
    await t.setAlternateSetting(vs.interfaceNumber, sel.alt);
    st = t.openIsoInStream(vs.endpointAddress, {
      packetsPerTransfer: 32,
      packetSize: sel.bytesPerInterval,
      depth: 8,
      onTransfer: (x) => {
        checker.reassembler.pushIsoTransfer(x);
        after();
      },
    });
  }
  const end = await Promise.race([enough.then(() => undefined), st.ended]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await st.stop();
  const e = end ?? (await st.ended);
  if (s.t.state === 'open') {
    if (vs.transfer === 'bulk') await t.clearHalt(vs.endpointAddress);
    else await t.setAlternateSetting(vs.interfaceNumber, 0);
  }
  return { checker, end: e, seconds };
}

test(
  `${backend}: enumerate, parse, control, stream ${FRAMES} frames, stop, reattach`,
  { timeout: 180_000 },
  async () => {
    const s = await openSession();
    try {
      results['transfer'] = s.vs.transfer;
      results['location'] = s.info.location;
      await takeInterfaces(s);
      // brightness on the first processing unit: SET_CUR then GET_CUR reads it back
      const pu = s.fn.processingUnits[0];
      assert.ok(pu, 'a processing unit');
      const addr = {
        requestType: 0x21,
        request: 0x01,
        value: 0x02 << 8,
        index: (pu.id << 8) | s.fn.controlInterface,
      };
      await s.t.controlOut(addr, Uint8Array.of(77, 0));
      const back = await s.t.controlIn({ ...addr, requestType: 0xa1, request: 0x81 }, 2);
      assert.equal(back[0], 77, 'brightness read back');
      if (VID === 0x1209) {
        // the PoC camera has no contrast control: GET_CUR is answered with STALL, a typed error, and the device keeps working
        const contrast = { ...addr, requestType: 0xa1, request: 0x81, value: 0x03 << 8 };
        await assert.rejects(s.t.controlIn(contrast, 2), (e: unknown) => isHalError(e, 'Stall'));
        assert.equal((await s.t.controlIn({ ...addr, requestType: 0xa1, request: 0x81 }, 2))[0], 77);
      }
      if (s.vs.transfer === 'isochronous' && !s.t.capabilities.isochronous) {
        assert.throws(
          () =>
            s.t.openIsoInStream(s.vs.endpointAddress, {
              packetsPerTransfer: 8,
              packetSize: 1024,
              depth: 2,
              onTransfer: () => {},
            }),
          (e: unknown) => isHalError(e, 'Unsupported'),
        );
        results['iso'] = 'Unsupported (as documented)';
        await giveBack(s);
        return;
      }
      const probe = await negotiate(s);
      results['maxPayloadTransferSize'] = probe.maxPayloadTransferSize;
      const { checker, end, seconds } = await stream(s, probe, FRAMES);
      Object.assign(results, {
        frames: checker.frames,
        fps: +(checker.frames / seconds).toFixed(2),
        MBps: +((checker.frames * FRAME_BYTES) / seconds / 1e6).toFixed(3),
        gaps: checker.gaps,
        wrongSize: checker.wrongSize,
        mismatched: checker.mismatched,
        errored: checker.errored,
        outOfOrder: checker.outOfOrder,
        end: end.reason,
      });
      assert.ok(checker.frames >= FRAMES, `${checker.frames} frames`);
      assert.equal(checker.mismatched, 0, 'every frame byte-identical to the expected pattern');
      assert.equal(checker.outOfOrder, 0, 'frame numbers strictly increasing');
      assert.equal(end.reason, 'stopped');
      await giveBack(s);
    } finally {
      await s.t.close();
      writeFileSync(
        `/results/vm-${TAG ?? `${backend}-${String(results['transfer'])}`}.json`,
        JSON.stringify(results, null, 1),
      );
    }
  },
);

test(
  `${backend}: unplug mid-stream ends the stream with Disconnected, later calls reject`,
  { skip: !env['KSEMU_VM_UNPLUG_CMD'], timeout: 120_000 },
  async () => {
    const s = await openSession();
    try {
      if (s.vs.transfer === 'isochronous' && !s.t.capabilities.isochronous) return;
      await takeInterfaces(s);
      const probe = await negotiate(s);
      let unplugged = false;
      let disconnectEvents = 0;
      s.t.onDisconnect(() => disconnectEvents++);
      const { checker, end } = await stream(s, probe, 1_000_000, (c) => {
        if (!unplugged && c.frames >= 10) {
          unplugged = true;
          execSync(env['KSEMU_VM_UNPLUG_CMD'] ?? 'false', { stdio: 'inherit' });
        }
      });
      results['unplug'] = { framesBefore: checker.frames, end: end.reason };
      assert.equal(end.reason, 'disconnected');
      assert.ok('error' in end && isHalError(end.error, 'Disconnected'));
      assert.equal(s.t.state, 'disconnected');
      assert.equal(disconnectEvents, 1);
      await assert.rejects(s.t.claimInterface(s.fn.controlInterface), (e: unknown) =>
        isHalError(e, 'Disconnected'),
      );
      writeFileSync(
        `/results/vm-${TAG ?? `${backend}-${s.vs.transfer}`}-unplug.json`,
        JSON.stringify(results['unplug']),
      );
    } finally {
      await s.t.close();
      await s.t.close(); // idempotent
    }
  },
);

test(
  `${backend}: hotplug reports the device attaching`,
  { skip: !env['KSEMU_VM_PLUG_CMD'], timeout: 60_000 },
  async () => {
    const provider = await makeProvider();
    // start from "unplugged" whatever the earlier tests left behind
    execSync(env['KSEMU_VM_UNPLUG_CMD'] ?? 'true', { stdio: 'inherit' });
    for (
      let i = 0;
      i < 100 && (await provider.listDevices({ vendorId: VID, productId: PID })).length > 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // providers unref their monitors (a library must not keep a process alive); the test keeps the loop up
    const keepAlive = setInterval(() => undefined, 1000);
    let off: () => void = () => undefined;
    try {
      const seen = new Promise<UsbDeviceInfo>((resolve) => {
        off = provider.watch((e) => {
          if (e.type === 'attach' && e.device.vendorId === VID && e.device.productId === PID)
            resolve(e.device);
        });
      });
      execSync(env['KSEMU_VM_PLUG_CMD'] ?? 'false', { stdio: 'inherit' });
      const dev = await seen;
      assert.equal(dev.productId, PID);
      const again = await findOne(provider);
      assert.equal(again.location, dev.location);
    } finally {
      off();
      clearInterval(keepAlive);
    }
  },
);

test(
  `${backend}: a user without access to the device node gets AccessDenied with the udev hint`,
  { timeout: 60_000 },
  () => {
    const url = new URL(
      backend === 'node-usb' ? './node-usb-transport.js' : './usbfs-transport.js',
      import.meta.url,
    ).href;
    const cls = backend === 'node-usb' ? 'NodeUsbTransportProvider' : 'UsbfsTransportProvider';
    const script = `
    const m = await import(${JSON.stringify(url)});
    const p = new m.${cls}();
    const [d] = await p.listDevices({ vendorId: ${VID}, productId: ${PID} });
    try { const t = await p.open(d); await t.close(); console.log(JSON.stringify({ code: 'opened' })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, udev: /udev/.test(e.message) })); }
    process.exit(0);`;
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8', timeout: 50_000 },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `child output: ${r.stdout} ${r.stderr}`);
    assert.deepEqual(JSON.parse(line), { code: 'AccessDenied', udev: true });
  },
);
