// Compares `v4l2-ctl --list-formats-ext` output with the formats exportCapturePin derives from the synthetic camera's pin.
//   node export-formats-check.mjs KSEMU_ROOT LIST.txt FOURCCS MAXFPS
// Prints a JSON line; exit 0 when uvcvideo lists exactly the exported formats, sizes and frame rates.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [root, listFile, fourccText, maxFpsText] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(`${root}/packages/${p}/dist/index.js`).href);
const [hal, ks, webcam, usbip] = await Promise.all([
  load('hal'),
  load('ks-core'),
  load('minidriver-webcam'),
  load('usbip-export'),
]);
const clock = new ks.ManualClock(0n);
const device = webcam.createWebcamDevice(new hal.SyntheticCamera({ pattern: 'moving-box' }), { clock });
const e = await usbip.exportCapturePin(device, {
  fourccs: fourccText.split(','),
  maxFps: Number(maxFpsText),
  manualClock: clock,
});
const v4l2Name = { YUY2: 'YUYV', NV12: 'NV12', MJPG: 'MJPG' };
const fps = (i) => (1e7 / i).toFixed(3);
const want = e.source.formats.map(
  (f) => `${v4l2Name[f.fourcc] ?? f.fourcc} ${f.width}x${f.height} ${f.intervals.map(fps).join(',')}`,
);
await e.close();
await device.close();

const got = [];
let cc = '';
let cur;
for (const line of readFileSync(listFile, 'utf8').split('\n')) {
  let m;
  if ((m = /\[\d+\]: '(\w+)'/.exec(line))) cc = m[1];
  else if ((m = /Size: Discrete (\d+x\d+)/.exec(line))) got.push((cur = { head: `${cc} ${m[1]}`, fps: [] }));
  else if ((m = /Interval: Discrete [\d.]+s \(([\d.]+) fps\)/.exec(line)) && cur) cur.fps.push(m[1]);
}
const gotText = got.map((g) => `${g.head} ${g.fps.join(',')}`);
const missing = want.filter((x) => !gotText.includes(x));
const extra = gotText.filter((x) => !want.includes(x));
const ok = missing.length === 0 && extra.length === 0;
console.log(JSON.stringify({ formats: want.length, listed: gotText.length, missing, extra, ok }));
process.exit(ok ? 0 : 1);
