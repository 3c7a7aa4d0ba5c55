// `pnpm bench usb`: our UVC driver vs uvcvideo on one USB/IP camera (640x480 YUY2 30 fps, bulk and iso) in the usbvm guest.
//
// One VM boot runs every round (usbvm/bench/usb-rates.sh → usbvm/guest/bench-usb-rates.sh): per round and mode
// the camera is attached, then ours (usbfs; node-usb in bulk) and uvcvideo (`v4l2-ctl --stream-mmap`) each
// stream FRAMES frames, in an order that alternates every round. The cases replay those rounds to the runner
// in order (fixedIterations: 1), so its per-round ratios compare drivers of the same round.
//   fps: from a driver's first frame to its last (start-up excluded for both; fpsWithStartup in raw results).
//   lost: gaps in the frame numbers the driver delivered. The camera (strict pacing) numbers only the frames
//   it sends, so a gap is a frame the driver lost; ticks it could not send (previous frame not yet drained,
//   or the server woke late) are `deviceSkipped`, counted while the driver was receiving, except the ones
//   right after its first frame (`deviceSkippedAtStart`: the driver had not yet queued its transfers).
// Env: KSEMU_BENCH_USB_FRAMES (150), KSEMU_BENCH_USB_SERVER (host|guest; host), KSEMU_BENCH_USB_OUT (results dir).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase, SuiteOptions, BenchSuite } from '@ksemu/bench-kit';

/** One stream of one driver, as the guest script writes it (rates.jsonl). */
interface StreamLine {
  mode: 'bulk' | 'iso';
  round: number;
  driver: 'ours' | 'uvcvideo';
  backend?: string;
  frames?: number;
  fps?: number;
  fpsWithStartup?: number;
  lost?: number;
  outOfOrder?: number;
  mismatched?: number;
  cpuMsPerFrame?: number;
  machineCpuMsPerFrame?: number;
  error?: string;
  device?: { skippedInWindow?: number; skippedAtStart?: number };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const script = join(root, 'usbvm', 'bench', 'usb-rates.sh');
const env = process.env;
const FRAMES = Number(env['KSEMU_BENCH_USB_FRAMES'] ?? 150);
const SERVER = env['KSEMU_BENCH_USB_SERVER'] ?? 'host';

/** Runs the VM once for all cases; resolves with its stream lines. */
function runVm(rounds: number, log: (s: string) => void): Promise<StreamLine[]> {
  const out =
    env['KSEMU_BENCH_USB_OUT'] ??
    join(root, '.usbvm-cache', 'out', `bench-usb-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  mkdirSync(out, { recursive: true });
  log(
    `  usb: booting the usbvm guest (${rounds} rounds × ${FRAMES} frames, server on the ${SERVER}); results in ${out}`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, out], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...env, ROUNDS: String(rounds), FRAMES: String(FRAMES), SERVER_AT: SERVER },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 3) {
        reject(new Error(stderr.trim() || 'the VM harness is not set up (run once as root: usbvm/setup.sh)'));
        return;
      }
      const file = join(out, 'rates.jsonl');
      const lines = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as StreamLine)
        : [];
      if (code !== 0 && lines.length === 0) {
        reject(new Error(`usbvm run failed (rc ${String(code)}); see ${out}/vm.log ${stderr.trim()}`));
        return;
      }
      resolve(lines);
    });
  });
}

function keyOf(l: StreamLine): string {
  return l.driver === 'uvcvideo' ? `uvcvideo ${l.mode}` : `ours ${l.backend ?? '?'} ${l.mode}`;
}

const suite: BenchSuite = {
  name: 'usb',
  cases(options: SuiteOptions = {}): Promise<BenchCase[]> {
    const rounds = options.rounds ?? 5;
    const log = (s: string): void => void process.stderr.write(`${s}\n`);
    let vm: Promise<Map<string, StreamLine[]>> | undefined;
    const results = (): Promise<Map<string, StreamLine[]>> =>
      (vm ??= runVm(rounds, log).then((lines) => {
        const byKey = new Map<string, StreamLine[]>();
        for (const l of lines.sort((a, b) => a.round - b.round)) {
          const list = byKey.get(keyOf(l)) ?? [];
          list.push(l);
          byKey.set(keyOf(l), list);
        }
        return byKey;
      }));
    const make = (key: string, group: string, peer: boolean): BenchCase => {
      let next = 0;
      const totals = { lost: 0, deviceSkipped: 0, atStart: 0, frames: 0, cpuMs: 0, cpuRounds: 0 };
      let streams: StreamLine[] = [];
      return {
        name: key,
        group,
        unit: 'fps',
        better: 'higher',
        peer,
        showExtra: true,
        fixedIterations: 1,
        async setup() {
          if (options.named === false)
            throw new Error('boots a VM for minutes; run it by name: pnpm bench usb');
          streams = (await results()).get(key) ?? [];
          if (streams.length === 0) throw new Error(`no ${key} streams in the VM's results`);
        },
        run() {
          const s = streams[next++];
          if (!s) return Promise.reject(new Error(`the VM ran only ${streams.length} rounds of ${key}`));
          if (s.error !== undefined || s.fps === undefined)
            return Promise.reject(new Error(`${key} round ${s.round}: ${s.error ?? 'no fps'}`));
          const lost = s.lost ?? 0;
          const atStart = s.device?.skippedAtStart ?? 0;
          const skipped = (s.device?.skippedInWindow ?? 0) - atStart;
          totals.lost += lost;
          totals.deviceSkipped += skipped;
          totals.atStart += atStart;
          totals.frames += s.frames ?? 0;
          if (s.machineCpuMsPerFrame !== undefined) {
            totals.cpuMs += s.machineCpuMsPerFrame;
            totals.cpuRounds++;
          }
          // the runner shows the last round's extra: totals over the rounds so far
          return Promise.resolve({
            seconds: (s.frames ?? 0) / Math.max(s.fps, 1e-9),
            value: s.fps,
            extra: {
              frames: totals.frames,
              lost: totals.lost,
              deviceSkipped: totals.deviceSkipped,
              deviceSkippedAtStart: totals.atStart,
              // the whole guest's busy CPU per frame (driver + vhci + network), mean over the rounds
              ...(totals.cpuRounds > 0
                ? { guestCpuMsPerFrame: +(totals.cpuMs / totals.cpuRounds).toFixed(1) }
                : {}),
              ...((s.mismatched ?? 0) + (s.outOfOrder ?? 0) > 0
                ? { badFrames: (s.mismatched ?? 0) + (s.outOfOrder ?? 0) }
                : {}),
            },
          });
        },
      };
    };
    const bulk = '640x480 YUY2 30 fps bulk';
    const iso = '640x480 YUY2 30 fps iso';
    return Promise.resolve([
      make('ours usbfs bulk', bulk, false),
      make('ours node-usb bulk', bulk, false),
      make('uvcvideo bulk', bulk, true),
      make('ours usbfs iso', iso, false),
      make('uvcvideo iso', iso, true),
    ]);
  },
};

export default suite;
