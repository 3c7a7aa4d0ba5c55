// Checks the frames v4l2-ctl --stream-to wrote and times them: node frame-file-check.js FILE W H V4L2_LOG WALL_SECONDS [BUSY_MS] → one JSON line.
// Frame numbers are the first 8 bytes (little endian) of each frame; every 10th frame is compared with the
// pattern camera's poc-bars frame. fps: from the first to the last buffer timestamp in v4l2-ctl --verbose
// output (start-up excluded, like our probe); fpsWithStartup: frames / the v4l2-ctl process's wall time.
'use strict';
const fs = require('fs');
const [file, w, h, logFile, wall, busyMs] = process.argv.slice(2);
const W = +w;
const H = +h;
const size = W * H * 2;
const bars = [
	[235, 128, 128],
	[210, 16, 146],
	[170, 166, 16],
	[145, 54, 34],
	[106, 202, 222],
	[81, 90, 240],
	[41, 240, 110],
	[16, 128, 128],
];
function expected(n, out) {
	const shift = (n * 4) % W;
	for (let x = 0; x < W; x += 2) {
		const c = bars[Math.floor((((x + shift) % W) * 8) / W)];
		const o = x * 2;
		out[o] = c[0];
		out[o + 1] = c[1];
		out[o + 2] = c[0];
		out[o + 3] = c[2];
	}
	for (let y = 1; y < H; y++) out.copyWithin(y * W * 2, 0, W * 2);
	out.writeBigUInt64LE(BigInt(n), 0);
}
let buf = Buffer.alloc(0);
try {
	buf = fs.readFileSync(file);
} catch {}
const exp = Buffer.alloc(size);
let frames = 0,
	first = -1,
	last = -1,
	lost = 0,
	outOfOrder = 0,
	checked = 0,
	mismatched = 0;
for (let o = 0; o + size <= buf.length; o += size) {
	const n = Number(buf.readBigUInt64LE(o));
	if (first < 0) first = n;
	else if (n <= last) outOfOrder++;
	else lost += n - last - 1;
	last = n;
	if (frames % 10 === 0) {
		expected(n, exp);
		checked++;
		if (buf.compare(exp, 0, size, o, o + size) !== 0) mismatched++;
	}
	frames++;
}
const ts = [];
try {
	for (const m of fs.readFileSync(logFile, 'utf8').matchAll(/\bts: (\d+\.\d+)/g)) ts.push(+m[1]);
} catch {}
const fps = ts.length > 1 ? (ts.length - 1) / (ts[ts.length - 1] - ts[0]) : 0;
console.log(
	JSON.stringify({
		driver: 'uvcvideo',
		width: W,
		height: H,
		frames,
		fps: +fps.toFixed(2),
		fpsWithStartup: +(frames / +wall).toFixed(2),
		timestamps: ts.length,
		firstNumber: first,
		lastNumber: last,
		lost,
		outOfOrder,
		checked,
		mismatched,
		partialBytes: buf.length % size,
		// the whole guest's busy CPU time per frame while v4l2-ctl ran (uvcvideo, vhci, network, v4l2-ctl)
		...(busyMs !== undefined && frames > 0 ? { machineCpuMsPerFrame: +(+busyMs / frames).toFixed(2) } : {}),
	}),
);
