// `pnpm bench usb` guest helper: checks and times the frames v4l2-ctl --stream-to wrote; prints one JSON line.
//
// Usage: node frame-file-check.js FILE W H V4L2_LOG WALL_SECONDS [BUSY_MS]. Frame numbers are the first 8
// bytes (little endian) of each frame; every 10th frame is compared with the pattern camera's poc-bars frame.
// fps: from the first to the last buffer timestamp in v4l2-ctl --verbose output (start-up excluded, like our
// probe); fpsWithStartup: frames / the v4l2-ctl process's wall time.
import { readFileSync } from 'node:fs';
import { paintPocBars } from '../testing/poc-bars.js';

const [file = '', w = '0', h = '0', logFile = '', wall = '0', busyMs] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
const size = width * height * 2;
let buf = Buffer.alloc(0);
try {
  buf = readFileSync(file);
} catch {
  // No file: v4l2-ctl wrote nothing; report zero frames.
}
const expected = Buffer.alloc(size);
let frames = 0;
let first = -1;
let last = -1;
let lost = 0;
let outOfOrder = 0;
let checked = 0;
let mismatched = 0;
for (let o = 0; o + size <= buf.length; o += size) {
  const n = Number(buf.readBigUInt64LE(o));
  if (first < 0) first = n;
  else if (n <= last) outOfOrder++;
  else lost += n - last - 1;
  last = n;
  if (frames % 10 === 0) {
    paintPocBars(n, expected, width, height);
    checked++;
    if (buf.compare(expected, 0, size, o, o + size) !== 0) mismatched++;
  }
  frames++;
}
const ts: number[] = [];
try {
  for (const m of readFileSync(logFile, 'utf8').matchAll(/\bts: (\d+\.\d+)/g)) ts.push(Number(m[1]));
} catch {
  // No log: no timestamps, fps 0.
}
const fps = ts.length > 1 ? (ts.length - 1) / (ts[ts.length - 1]! - ts[0]!) : 0;
process.stdout.write(
  `${JSON.stringify({
    driver: 'uvcvideo',
    width,
    height,
    frames,
    fps: +fps.toFixed(2),
    fpsWithStartup: +(frames / Number(wall)).toFixed(2),
    timestamps: ts.length,
    firstNumber: first,
    lastNumber: last,
    lost,
    outOfOrder,
    checked,
    mismatched,
    partialBytes: buf.length % size,
    // the whole guest's busy CPU time per frame while v4l2-ctl ran (uvcvideo, vhci, network, v4l2-ctl)
    ...(busyMs !== undefined && frames > 0
      ? { machineCpuMsPerFrame: +(Number(busyMs) / frames).toFixed(2) }
      : {}),
  })}\n`,
);
