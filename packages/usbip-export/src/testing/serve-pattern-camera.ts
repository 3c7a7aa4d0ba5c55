// Test entry point: serves a UvcFunction over the pattern frame source (for VM tests with vhci-hcd + uvcvideo).
//   node dist/testing/serve-pattern-camera.js [--host 127.0.0.1] [--port 3240] [--transfer bulk|iso] [--fps 30]
//        [--clock pts+scr|pts|none] [--pattern pattern|poc-bars] [--width W --height H] [--busid 1-1]
// Invoked like the proof-of-concept server (`--mode bulk|iso`), it defaults to its frames (poc-bars, 320x240),
// so it can replace usbvm/poc/usbip-uvc-server.js in hal's VM tier (KSEMU_SERVER=<this file>).

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
// Paced like a sensor: one frame per period; a frame still being sent makes the next one a drop.
const timer = setInterval(() => {
  if (source.started) source.emit();
}, 1000 / fps);
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
    log.info({ stats: fn.stats }, 'exit');
    void server.close().then(() => process.exit(0));
  });
