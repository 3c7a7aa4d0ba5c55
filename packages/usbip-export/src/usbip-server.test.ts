// USB/IP server tests over 127.0.0.1 with a byte-level client: handshake, control, bulk, iso, unlink, bad clients.
import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { UsbIpSpeed } from '@ksemu/hal';
import type { RetSubmit, UsbIpReply } from '@ksemu/hal';
import { UsbIpServer, isLoopbackHost } from './usbip-server.js';
import {
  PATTERN_BULK_IN,
  PATTERN_ISO_PACKET,
  PatternDevice,
  PatternRequest,
  patternByte,
} from './testing/pattern-device.js';
import { RawUsbIpClient } from './testing/raw-usbip-client.js';

const servers: UsbIpServer[] = [];
const clients: RawUsbIpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function start(...devices: PatternDevice[]): Promise<{ server: UsbIpServer; port: number }> {
  const server = new UsbIpServer({ port: 0 });
  servers.push(server);
  for (const d of devices) server.addDevice(d);
  const { port } = await server.listen();
  return { server, port };
}
async function importer(port: number, busid = '1-1'): Promise<RawUsbIpClient> {
  const c = await RawUsbIpClient.imported(port, busid);
  clients.push(c);
  return c;
}
async function ret(c: RawUsbIpClient, seqnum?: number): Promise<RetSubmit> {
  const r: UsbIpReply = await c.next();
  if (r.kind !== 'ret-submit') throw new Error(`expected RET_SUBMIT, got ${r.kind}`);
  if (seqnum !== undefined) expect(r.seqnum).toBe(seqnum);
  return r;
}
/** A control round trip on the same socket: every reply the server owed before it has arrived. */
async function barrier(c: RawUsbIpClient): Promise<void> {
  const s = c.control(0x80, 0x00, 0, 0, 2);
  for (;;) {
    const r = await c.next();
    if (r.kind === 'ret-submit' && r.seqnum === s) return;
    throw new Error(`unexpected ${r.kind} ${r.kind === 'ret-submit' ? r.seqnum : ''} before the barrier`);
  }
}
const VENDOR_OUT = 0x40;
const VENDOR_IN = 0xc0;

describe('UsbIpServer handshake', () => {
  it('lists every device with its interfaces and closes the connection', async () => {
    const { port } = await start(
      new PatternDevice({ busid: '1-1' }),
      new PatternDevice({ busid: '2-4', speed: 'full' }),
    );
    const c = await RawUsbIpClient.connect(port, 'devlist');
    clients.push(c);
    c.devlist();
    const r = await c.next();
    expect(r.kind).toBe('op-rep-devlist');
    if (r.kind !== 'op-rep-devlist') return;
    expect(
      r.devices.map((d) => [
        d.device.busid,
        d.device.busnum,
        d.device.speed,
        d.device.idVendor,
        d.device.idProduct,
      ]),
    ).toEqual([
      ['1-1', 1, UsbIpSpeed.High, 0x1209, 0x0002],
      ['2-4', 2, UsbIpSpeed.Full, 0x1209, 0x0002],
    ]);
    expect(r.devices[0]!.interfaces).toEqual([
      { bInterfaceClass: 0xff, bInterfaceSubClass: 0, bInterfaceProtocol: 0 },
      { bInterfaceClass: 0xff, bInterfaceSubClass: 1, bInterfaceProtocol: 0 },
    ]);
    await c.closed;
  });

  it('refuses unknown busids and a second importer of the same device', async () => {
    const { port } = await start(new PatternDevice());
    const unknown = await RawUsbIpClient.connect(port);
    clients.push(unknown);
    unknown.send(Buffer.from('0111800300000000' + Buffer.from('9-9').toString('hex').padEnd(64, '0'), 'hex'));
    expect(await unknown.next()).toEqual({ kind: 'op-rep-import', status: 1 });
    await importer(port);
    await expect(importer(port)).rejects.toThrow(/refused/);
  });

  it('warns about non-loopback addresses only', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '192.168.1.2', '::'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});

describe('UsbIpServer control transfers', () => {
  it('answers descriptors itself and reports control OUT actual_length', async () => {
    const dev = new PatternDevice();
    const { port } = await start(dev);
    const c = await importer(port);
    const s1 = c.control(0x80, 0x06, 0x0100, 0, 64);
    expect(Array.from((await ret(c, s1)).data)).toEqual(Array.from(dev.deviceDescriptor));
    const s2 = c.control(0x80, 0x06, 0x0200, 0, 9);
    expect((await ret(c, s2)).data.length).toBe(9);
    const payload = Uint8Array.from({ length: 34 }, (_v, i) => i * 3);
    const s3 = c.control(VENDOR_OUT, PatternRequest.EchoStore, 0, 0, 34, payload);
    const r3 = await ret(c, s3);
    expect([r3.status, r3.actualLength, r3.data.length]).toEqual([0, 34, 0]);
    const s4 = c.control(VENDOR_IN, PatternRequest.EchoLoad, 0, 0, 100);
    expect(Array.from((await ret(c, s4)).data)).toEqual(Array.from(payload));
  });

  it('stalls unknown requests and SET_INTERFACE to a missing alternate setting', async () => {
    const { port } = await start(new PatternDevice());
    const c = await importer(port);
    const s1 = c.control(VENDOR_IN, 0x77, 0, 0, 4);
    expect((await ret(c, s1)).status).toBe(-32);
    const s2 = c.control(0x01, 0x0b, 5, 1, 0);
    expect((await ret(c, s2)).status).toBe(-32);
    const s3 = c.control(0x01, 0x0b, 1, 1, 0);
    expect((await ret(c, s3)).status).toBe(0);
  });
});

describe('UsbIpServer bulk IN', () => {
  it('holds idle URBs, then streams the pattern split across URBs in order', async () => {
    const dev = new PatternDevice({ seed: 9 });
    const { port } = await start(dev);
    const c = await importer(port);
    const urbs = [1, 2, 3, 4].map(() => c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 }));
    await barrier(c);
    expect(dev.waitingBulkUrbs).toBe(4);
    // 2 payloads of 700 bytes → 512 + 188, 512 + 188
    const start2 = c.control(VENDOR_OUT, PatternRequest.BulkStart, 2, 700, 0);
    const got: RetSubmit[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await ret(c);
      if (r.seqnum !== start2) got.push(r);
    }
    expect(got.slice(0, 4).map((r) => [r.seqnum, r.actualLength])).toEqual([
      [urbs[0], 512],
      [urbs[1], 188],
      [urbs[2], 512],
      [urbs[3], 188],
    ]);
    const bytes = Buffer.concat(got.slice(0, 4).map((r) => r.data));
    expect(bytes.every((b, i) => b === patternByte(9, i))).toBe(true);
    expect(dev.released).toBe(2);
  });

  it('sends a zero-length URB when a short payload ends exactly at a URB boundary', async () => {
    const dev = new PatternDevice({ maxPayload: 2048 });
    const { port } = await start(dev);
    const c = await importer(port);
    c.control(VENDOR_OUT, PatternRequest.BulkStart, 2, 512, 0);
    await ret(c);
    const a = c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    const b = c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    const d = c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    expect([
      (await ret(c, a)).actualLength,
      (await ret(c, b)).actualLength,
      (await ret(c, d)).actualLength,
    ]).toEqual([512, 0, 512]);
  });

  it('stops the stream on CLEAR_FEATURE(ENDPOINT_HALT) and drops queued payloads', async () => {
    const dev = new PatternDevice();
    const { port } = await start(dev);
    const c = await importer(port);
    c.control(VENDOR_OUT, PatternRequest.BulkStart, 3, 100, 0);
    await ret(c);
    const s = c.control(0x02, 0x01, 0, PATTERN_BULK_IN, 0);
    expect((await ret(c, s)).status).toBe(0);
    expect(dev.halts).toEqual([PATTERN_BULK_IN]);
    expect([dev.released, dev.releasedWithError]).toEqual([3, 3]);
  });
});

describe('UsbIpServer unlink', () => {
  it('cancels a pending URB with -ECONNRESET and never completes it afterwards', async () => {
    const dev = new PatternDevice();
    const { port } = await start(dev);
    const c = await importer(port);
    const victim = c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    const u = c.unlink(victim);
    expect(await c.next()).toMatchObject({ kind: 'ret-unlink', seqnum: u, status: -104 });
    expect(dev.waitingBulkUrbs).toBe(0);
    const next = c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    const ctl = c.control(VENDOR_OUT, PatternRequest.BulkStart, 1, 10, 0);
    // the payload completes the bulk URB during the control request, so its reply comes first
    expect([(await ret(c)).seqnum, (await ret(c)).seqnum]).toEqual([next, ctl]);
  });

  it('answers status 0 for a URB that already completed or never existed', async () => {
    const { port } = await start(new PatternDevice());
    const c = await importer(port);
    const s = c.control(0x80, 0x00, 0, 0, 2);
    await ret(c, s);
    c.unlink(s);
    expect(await c.next()).toMatchObject({ kind: 'ret-unlink', status: 0 });
    c.unlink(0xdeadbeef);
    expect(await c.next()).toMatchObject({ kind: 'ret-unlink', status: 0 });
  });
});

describe('UsbIpServer iso IN', () => {
  it('replies with packed packets and descriptors at the requested offsets', async () => {
    const dev = new PatternDevice();
    const { port } = await start(dev);
    const c = await importer(port);
    c.control(0x01, 0x0b, 1, 1, 0);
    await ret(c);
    const isoPackets = Array.from({ length: 8 }, (_v, i) => ({
      offset: i * PATTERN_ISO_PACKET,
      length: PATTERN_ISO_PACKET,
      actualLength: 0,
      status: 0,
    }));
    const s = c.submit({ direction: 'in', ep: 3, transferBufferLength: 8 * PATTERN_ISO_PACKET, isoPackets });
    const r = await ret(c, s);
    expect(r.numberOfPackets).toBe(8);
    expect(r.actualLength).toBe(8 * PATTERN_ISO_PACKET);
    expect(r.isoPackets!.map((p) => [p.offset, p.actualLength])).toEqual(
      isoPackets.map((p) => [p.offset, PATTERN_ISO_PACKET]),
    );
    expect(Array.from({ length: 8 }, (_v, i) => r.data[i * PATTERN_ISO_PACKET])).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    // alt 0 stops the stream: packets come back empty
    c.control(0x01, 0x0b, 0, 1, 0);
    await ret(c);
    const s2 = c.submit({
      direction: 'in',
      ep: 3,
      transferBufferLength: 2048,
      isoPackets: isoPackets.slice(0, 2),
    });
    const r2 = await ret(c, s2);
    expect([r2.actualLength, r2.data.length]).toEqual([0, 0]);
  });
});

describe('UsbIpServer bad clients', () => {
  it('closes a client sending garbage, detaches its device, and keeps serving others', async () => {
    const a = new PatternDevice({ busid: '1-1' });
    const b = new PatternDevice({ busid: '1-2' });
    const { server, port } = await start(a, b);
    const good = await importer(port, '1-2');
    const bad = await importer(port, '1-1');
    bad.send(Buffer.alloc(48, 0xee));
    await bad.closed;
    expect(a.detachReasons).toHaveLength(1);
    expect(a.detachReasons[0]).toMatch(/bad direction|unexpected command/);
    const s = good.control(0x80, 0x06, 0x0100, 0, 18);
    expect((await ret(good, s)).data.length).toBe(18);
    expect(b.detachReasons).toEqual([]);
    // the freed device can be imported again
    await importer(port, '1-1');
    expect(server.connectionCount).toBe(2);
  });

  it('detaches and releases everything when a client vanishes mid-stream and mid-message', async () => {
    const dev = new PatternDevice();
    const { server, port } = await start(dev);
    const c = await importer(port);
    c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    c.control(VENDOR_OUT, PatternRequest.BulkStart, 4, 1000, 0);
    await ret(c);
    // half of a CMD_SUBMIT header, then the client disappears
    c.send(Buffer.alloc(20));
    c.close();
    await c.closed;
    await new Promise((r) => setImmediate(r));
    while (server.connectionCount > 0) await new Promise((r) => setImmediate(r));
    expect(dev.detachReasons).toHaveLength(1);
    expect(dev.waitingBulkUrbs).toBe(0);
    expect(dev.released).toBe(4);
  });

  it('cuts off a client that keeps more URBs pending than allowed', async () => {
    const dev = new PatternDevice();
    const server = new UsbIpServer({ port: 0, maxPendingUrbs: 8 });
    servers.push(server);
    server.addDevice(dev);
    const { port } = await server.listen();
    const c = await importer(port);
    for (let i = 0; i < 9; i++) c.submit({ direction: 'in', ep: 1, transferBufferLength: 512 });
    await c.closed;
    expect(dev.detachReasons[0]).toMatch(/more than 8 URBs pending/);
    expect(dev.waitingBulkUrbs).toBe(0);
  });

  it('closes connections that send unknown operations or URB commands before importing', async () => {
    const dev = new PatternDevice();
    const { port } = await start(dev);
    const c = await RawUsbIpClient.connect(port);
    clients.push(c);
    c.send(Buffer.from('01118010000000000000', 'hex'));
    await c.closed;
    const c2 = await RawUsbIpClient.connect(port);
    clients.push(c2);
    c2.send(Buffer.alloc(48));
    await c2.closed;
    expect(dev.detachReasons).toEqual([]);
  });

  it('survives random bytes during the handshake (fuzz) and stays usable', async () => {
    const dev = new PatternDevice();
    const { server, port } = await start(dev);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (chunks, validVersion) => {
          const c = await RawUsbIpClient.connect(port);
          // half the runs start with a plausible OP header so the decoder gets past the version check
          if (validVersion) c.send(Buffer.from([0x01, 0x11]));
          for (const ch of chunks) c.send(ch);
          c.close();
          await c.closed;
          while (server.connectionCount > 0) await new Promise((r) => setImmediate(r));
        },
      ),
      { numRuns: 25 },
    );
    const c = await importer(port);
    const s = c.control(0x80, 0x06, 0x0100, 0, 18);
    expect((await ret(c, s)).data.length).toBe(18);
  });

  it('survives random bytes after an import (fuzz) and stays usable', async () => {
    const dev = new PatternDevice();
    const { server, port } = await start(dev);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 4 }),
        async (chunks) => {
          const c = await RawUsbIpClient.imported(port, '1-1');
          for (const ch of chunks) c.send(ch);
          c.close();
          await c.closed;
          while (server.connectionCount > 0) await new Promise((r) => setImmediate(r));
        },
      ),
      { numRuns: 25 },
    );
    const c = await importer(port);
    const s = c.control(0x80, 0x06, 0x0100, 0, 18);
    expect((await ret(c, s)).data.length).toBe(18);
    expect(dev.detachReasons).toHaveLength(25);
  });
});
