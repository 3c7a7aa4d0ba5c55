// Test entry point: serves a UvcFunction over the pattern frame source (for VM tests with vhci-hcd + uvcvideo).
//   node dist/testing/serve-pattern-camera.js [--host 127.0.0.1] [--port 3240] [--transfer bulk|iso] [--fps 30]
//        [--clock pts+scr|pts|none] [--pattern pattern|poc-bars] [--width W --height H] [--busid 1-1]
//        [--pace interval|strict] [--stats FILE]
// --pace strict (benchmarks): ticks on an absolute schedule (start + k × period, no setInterval drift); a tick
// while the previous frame is still being sent, or one the server woke too late for, is a *device skip*: it is
// counted and does NOT consume a frame number, so every gap in the numbers a host receives is a frame the host
// lost. --stats FILE appends one JSON line per stream (at its stop) with the device-side counts.
// Invoked like the proof-of-concept server (`--mode bulk|iso`), it defaults to its frames (poc-bars, 320x240),
// so it can replace usbvm/poc/usbip-uvc-server.js in hal's VM tier (KSEMU_SERVER=<this file>).

import { appendFileSync } from 'node:fs';
import { destination, pino } from 'pino';
import { UsbIpServer } from '../usbip-server.js';
import { UvcFunction } from '../uvc-function.js';
import { PatternFrameSource, yuy2Format } from './pattern-frame-source.js';

const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const pocStyle = args.has('mode');
const transfer = (args.get('transfer') ?? args.get('mode')) === 'iso' ? 'iso' : 'bulk';
const fps = Number(args.get('fps') ?? 30);
const log = pino({ level: args.get('log') ?? 'info' }, destination(2));
const pattern = (args.get('pattern') ?? (pocStyle ? 'poc-bars' : 'pattern')) as 'pattern' | 'poc-bars';
const sizes: [number, number][] = args.has('width')
  ? [[Number(args.get('width')), Number(args.get('height') ?? 240)]]
  : pocStyle
    ? [[320, 240]]
    : [
        [64, 48],
        [160, 120],
      ];
const source = new PatternFrameSource(
  sizes.map(([w, h]) => yuy2Format(w, h)),
  pattern,
);
const brightness = source.controls[0]!;
const headerClock = (args.get('clock') ?? 'pts+scr') as 'pts+scr' | 'pts' | 'none';
const busid = args.get('busid') ?? '1-1';
const fn = new UvcFunction({ source, transfer, headerClock, busid, logger: log.child({ device: busid }) });
const server = new UsbIpServer({
  host: args.get('host') ?? '127.0.0.1',
  port: Number(args.get('port') ?? 3240),
  logger: log,
});
server.addDevice(fn);
const periodMs = 1000 / fps;
const statsFile = args.get('stats');
/** Device-side counts of the current stream (strict pacing). */
const stream = {
  n: 0,
  t0: 0,
  ticks: 0,
  emitted: 0,
  skippedBusy: 0,
  skippedLate: 0,
  sentBefore: 0,
  /** For each skipped tick, the number of frames emitted before it (so a host can tell which skips fell inside its window). */
  skipsAt: [] as number[],
};
let timer: NodeJS.Timeout | undefined;
if (args.get('pace') === 'strict') {
  // Absolute schedule: tick k is due at t0 + k × period; one wake-up may cover several due ticks when the
  // process was late, and all but the frame it sends count as late skips.
  let nextTick = 0;
  const wake = (): void => {
    timer = undefined;
    if (!source.started) return;
    const now = performance.now();
    const due = Math.floor((now - stream.t0) / periodMs) + 1;
    if (due > nextTick) {
      const missed = due - nextTick - 1;
      stream.ticks += due - nextTick;
      stream.skippedLate += missed;
      for (let i = 0; i < missed && stream.skipsAt.length < 10_000; i++) stream.skipsAt.push(stream.emitted);
      nextTick = due;
      if (source.outstanding > 0) {
        stream.skippedBusy++;
        if (stream.skipsAt.length < 10_000) stream.skipsAt.push(stream.emitted);
      } else if (source.emit()) stream.emitted++;
    }
    timer = setTimeout(wake, Math.max(0, stream.t0 + nextTick * periodMs - performance.now()));
  };
  const start = source.start.bind(source);
  const stop = source.stop.bind(source);
  Object.assign(source, {
    start: (...a: Parameters<PatternFrameSource['start']>) => {
      start(...a);
      Object.assign(stream, {
        n: stream.n + 1,
        t0: performance.now(),
        ticks: 0,
        emitted: 0,
        skippedBusy: 0,
        skippedLate: 0,
        sentBefore: fn.stats.framesSent,
        skipsAt: [],
      });
      nextTick = 0;
      wake();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const f = source.started?.format;
      if (statsFile && f)
        appendFileSync(
          statsFile,
          JSON.stringify({
            stream: stream.n,
            transfer,
            width: f.width,
            height: f.height,
            fps,
            seconds: +((performance.now() - stream.t0) / 1000).toFixed(3),
            ticks: stream.ticks,
            emitted: stream.emitted,
            sent: fn.stats.framesSent - stream.sentBefore,
            skippedBusy: stream.skippedBusy,
            skippedLate: stream.skippedLate,
            skipsAt: stream.skipsAt,
          }) + '\n',
        );
      stop();
    },
  });
} else {
  // Paced like a sensor: one frame per period; a frame still being sent makes the next one a drop.
  timer = setInterval(() => {
    if (source.started) source.emit();
  }, periodMs);
}
const origSet = brightness.set.bind(brightness);
Object.assign(brightness, {
  set: (v: number) => {
    log.info({ brightness: v }, 'brightness set');
    return origSet(v);
  },
});
await server.listen();
log.info('listening');
for (const s of ['SIGINT', 'SIGTERM'] as const)
  process.on(s, () => {
    clearInterval(timer);
    clearTimeout(timer);
    log.info({ stats: fn.stats }, 'exit');
    void server.close().then(() => process.exit(0));
  });
