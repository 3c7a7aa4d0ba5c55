#!/usr/bin/env node
// Bulk IN throughput of the npm `usb` package (2.x legacy startPoll vs 3.x WebUSB transferIn) against the USB/IP PoC camera.
// Usage (guest): node node-usb-bulk.js <path to usb package> <depth> <seconds>
'use strict';
const [, , usbPath, depthArg, secArg] = process.argv;
const usbmod = require(usbPath);
const version = require(usbPath + '/package.json').version;
const depth = Number(depthArg || 4);
const seconds = Number(secArg || 4);
const VID = 0x1209, PID = 0x0001, SIZE = 16384;

function probeBlock() {
  const b = Buffer.alloc(34);
  b.writeUInt16LE(1, 0); b[2] = 1; b[3] = 1;
  return b;
}
const stats = { bytes: 0, transfers: 0, frames: 0, gaps: 0, last: -1, start: true };
function onPayload(buf) {
  stats.transfers++;
  stats.bytes += buf.length;
  if (buf.length < 2) return;
  const h = buf[0];
  if (stats.start && buf.length >= h + 8) {
    const n = Number(buf.readBigUInt64LE(h));
    if (stats.last >= 0 && n !== stats.last + 1) stats.gaps += n - stats.last - 1;
    stats.last = n;
    stats.start = false;
  }
  if (buf[1] & 0x02) { stats.frames++; stats.start = true; }
}
function report(t0) {
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ usb: version, depth, seconds: +dt.toFixed(2), MBps: +(stats.bytes / dt / 1e6).toFixed(3),
    fps: +(stats.frames / dt).toFixed(2), frames: stats.frames, droppedByDevice: stats.gaps, transfers: stats.transfers }));
}

async function v2() {
  const dev = usbmod.findByIds(VID, PID);
  dev.open();
  const vc = dev.interface(0), vs = dev.interface(1);
  for (const i of [vc, vs]) { try { if (i.isKernelDriverActive()) i.detachKernelDriver(); } catch {} i.claim(); }
  const ctl = (rt, rq, v, ix, d) => new Promise((res, rej) => dev.controlTransfer(rt, rq, v, ix, d, (e, r) => (e ? rej(e) : res(r))));
  await ctl(0x21, 1, 0x0100, 1, probeBlock());
  const got = await ctl(0xa1, 0x81, 0x0100, 1, 34);
  const ep = vs.endpoint(0x81);
  const t0 = process.hrtime.bigint();
  ep.on('data', onPayload);
  ep.on('error', (e) => console.error('error', e.message));
  await ctl(0x21, 1, 0x0200, 1, got);
  ep.startPoll(depth, SIZE);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  report(t0);
  await new Promise((r) => ep.stopPoll(r));
  await new Promise((r) => dev.controlTransfer(0x02, 1, 0, 0x81, Buffer.alloc(0), () => r()));
  process.exit(0);
}

async function v3() {
  const dev = await usbmod.usb.findDeviceByIds(VID, PID);
  await dev.open();
  try { await dev.detachKernelDriver(0); } catch {}
  await dev.claimInterface(0);
  await dev.claimInterface(1);
  const out = (v, d) => dev.controlTransferOut({ requestType: 'class', recipient: 'interface', request: 1, value: v, index: 1 }, d);
  await out(0x0100, probeBlock());
  const got = await dev.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 0x81, value: 0x0100, index: 1 }, 34);
  const t0 = process.hrtime.bigint();
  await out(0x0200, Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength));
  let running = true, errors = 0, firstError = '';
  async function loop() {
    while (running) {
      try {
        const r = await dev.transferIn(1, SIZE);
        onPayload(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
      } catch (e) { errors++; firstError = firstError || e.message; if (errors > 50) return; }
    }
  }
  const loops = Array.from({ length: depth }, loop);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  report(t0);
  if (errors) console.log(JSON.stringify({ errors, firstError }));
  running = false;
  process.exit(0);
}
(version.startsWith('2.') ? v2 : v3)().catch((e) => { console.error(e); process.exit(1); });
