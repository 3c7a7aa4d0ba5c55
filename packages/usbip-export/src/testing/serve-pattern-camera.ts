// Test entry point: serves a UvcFunction over the pattern frame source (for VM tests with vhci-hcd + uvcvideo).
//   node dist/testing/serve-pattern-camera.js [--host 127.0.0.1] [--port 3240] [--transfer bulk|iso] [--fps 30] [--clock pts+scr|pts|none]

import { destination, pino } from 'pino';
import { UsbIpServer } from '../usbip-server.js';
import { UvcFunction } from '../uvc-function.js';
import { PatternFrameSource, yuy2Format } from './pattern-frame-source.js';

const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const transfer = args.get('transfer') === 'iso' ? 'iso' : 'bulk';
const fps = Number(args.get('fps') ?? 30);
const log = pino({ level: args.get('log') ?? 'info' }, destination(2));
const source = new PatternFrameSource([yuy2Format(64, 48), yuy2Format(160, 120)]);
const brightness = source.controls[0]!;
const headerClock = (args.get('clock') ?? 'pts+scr') as 'pts+scr' | 'pts' | 'none';
const fn = new UvcFunction({ source, transfer, headerClock, logger: log.child({ device: '1-1' }) });
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
