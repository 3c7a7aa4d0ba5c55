// Checks captured frames (raw YUY2 or concatenated JPEGs) against the synthetic camera's frames, rendered with hal's renderer.
//   node export-frame-check.mjs KSEMU_ROOT FILE YUY2|MJPG WIDTH HEIGHT COUNT [PATTERN] [SEED]
// Each captured frame must equal camera frame n for some n, with n strictly increasing (uvcvideo may skip
// frames, never reorder or alter them). Prints a JSON line; exit 0 when all COUNT frames matched.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [root, file, fourcc, w, h, countText, pattern = 'moving-box', seedText = '0'] = process.argv.slice(2);
const hal = await import(pathToFileURL(`${root}/packages/hal/dist/index.js`).href);
const width = Number(w);
const height = Number(h);
const count = Number(countText);
const renderer = hal.createFrameRenderer(
  { pattern, seed: Number(seedText) },
  { fourcc, width, height, interval: 333333n },
);
const scratch = new Uint8Array(renderer.layout.imageSize);
const render = (n) => scratch.subarray(0, renderer.render(scratch, 0, scratch.length, n, -1));

const bytes = readFileSync(file);
const frames = [];
if (fourcc === 'MJPG') {
  // JPEG entropy data stuffs 0xFF with 0x00, so SOI (FFD8) only starts a picture.
  let start = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    if (bytes[i + 1] === 0xd8 && start < 0) start = i;
    else if (bytes[i + 1] === 0xd9 && start >= 0) {
      frames.push(bytes.subarray(start, i + 2));
      start = -1;
    }
  }
} else {
  const len = width * height * 2;
  for (let o = 0; o + len <= bytes.length; o += len) frames.push(bytes.subarray(o, o + len));
}

const indices = [];
let next = 0;
let unmatched = 0;
for (const f of frames) {
  let found = -1;
  // uvcvideo and the client may skip frames: search a window ahead of the last match.
  for (let n = next; n < next + 400 && found < 0; n++) if (Buffer.compare(f, render(n)) === 0) found = n;
  if (found < 0) unmatched++;
  else {
    indices.push(found);
    next = found + 1;
  }
}
const ok = frames.length === count && unmatched === 0;
console.log(
  JSON.stringify({
    file,
    fourcc,
    width,
    height,
    frames: frames.length,
    matched: indices.length,
    unmatched,
    first: indices[0],
    last: indices.at(-1),
    ok,
  }),
);
process.exit(ok ? 0 : 1);
