// Server-level tests of the viewer over real WebSockets: protocol, bad requests, several clients, buffer balance.
import { afterEach, describe, expect, it } from '@jest/globals';
import { BUILT_IN_SYNTHETIC_KINDS, Enumerator, type HalDevice } from '@ksemu/hal';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { ViewerServer } from './viewer-server.js';
import { readFrameHeader, type FrameHeader } from './view-protocol.js';

async function synthetic(kind: string, options?: unknown): Promise<HalDevice> {
  const e = new Enumerator({ synthetic: [{ kind, options }] }, BUILT_IN_SYNTHETIC_KINDS);
  try {
    return await e.find(`synthetic:${kind}`);
  } finally {
    e.dispose();
  }
}
const syntheticCamera = (): Promise<HalDevice> => synthetic('camera');

type Json = Record<string, unknown> & { type: string };

/** A test page: collects JSON messages and frames, acks frames only when told to. */
class TestClient {
  readonly json: Json[] = [];
  readonly frames: FrameHeader[] = [];
  autoAck = true;
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      if (binary) {
        const buf = data as Buffer;
        this.frames.push(readFrameHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
        if (this.autoAck) this.ack();
      } else this.json.push(JSON.parse(String(data)) as Json);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(server: ViewerServer): Promise<TestClient> {
    const ws = new WebSocket(server.url.replace('http', 'ws') + 'ws');
    const c = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  ack(): void {
    this.ws.send('{"type":"ack"}');
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves when `pred` holds over what arrived (checked after each message). */
  until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      const check = (): void => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  async reply(id: number): Promise<Json> {
    await this.until(() => this.json.some((m) => m.id === id), `reply ${id}`);
    return this.json.find((m) => m.id === id)!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

interface InitProperty {
  key: string;
  name: string;
  node: number | null;
  value: unknown;
  min?: number;
  max?: number;
  control: string;
}

let server: ViewerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<ViewerServer> {
  server = await ViewerServer.start({ hal: await syntheticCamera(), port: 0, statsIntervalMs: 100 });
  return server;
}

function brightness(init: Json): InitProperty {
  const p = (init.properties as InitProperty[]).find((x) => x.name === 'Brightness' && x.node === null);
  if (!p) throw new Error('no Brightness property');
  return p;
}

describe('viewer server', () => {
  it('listens on loopback and serves the page, its script and the state', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(s.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<canvas id="picture"');
    const script = await fetch(new URL('viewer-page.js', s.url));
    expect(script.headers.get('content-type')).toContain('javascript');
    const state = (await (await fetch(new URL('api/state', s.url))).json()) as Json;
    expect(state.type).toBe('init');
    expect((await fetch(new URL('nope', s.url))).status).toBe(404);
  });

  it('refuses WebSocket connections from other origins and requests for non-loopback hosts', async () => {
    const s = await start();
    const url = s.url.replace('http', 'ws') + 'ws';
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { origin: 'http://evil.example' });
      ws.once('open', () => resolve('open'));
      ws.once('error', (err) => resolve(err.message));
    });
    expect(refused).toMatch(/401/);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(s.url, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    // The page's own origin is fine.
    const ok = new WebSocket(url, { origin: s.url.replace(/\/$/, '') });
    await new Promise<void>((resolve, reject) => {
      ok.once('open', () => resolve());
      ok.once('error', reject);
    });
    ok.close();
    expect(s.hub.clientCount).toBeLessThanOrEqual(1);
  });

  it('sends init, then frames with a valid header at the pin format; stops when the page leaves', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    await c.until(() => c.frames.length >= 3, '3 frames');
    const init = c.json[0]!;
    expect(init.type).toBe('init');
    expect((init.formats as unknown[]).length).toBeGreaterThan(3);
    expect((init.graph as { factories: unknown[] }).factories.length).toBe(1);
    const f = c.frames[0]!;
    expect([f.fourcc, f.width, f.height]).toEqual(['YUY2', 640, 480]);
    expect(f.payloadBytes).toBe(640 * 480 * 2);
    const seqs = c.frames.map((x) => x.sequence);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(s.hub.running).toBe(true);
    await c.close();
    await waitFor(() => !s.hub.running, 'capture stopped');
    expect(s.hub.outstanding).toBe(0);
  });

  it('keeps one frame in flight per page: a page that does not ack gets one frame, others keep streaming', async () => {
    const s = await start();
    const slow = await TestClient.connect(s);
    slow.autoAck = false;
    const fast = await TestClient.connect(s);
    await fast.until(() => fast.frames.length >= 10, '10 frames on the fast page');
    expect(slow.frames.length).toBe(1);
    await slow.until(
      () => slow.json.some((m) => m.type === 'stats' && (m.stats as { skipped: number }).skipped > 3),
      'skips counted',
    );
    slow.ack();
    const before = slow.frames.length;
    await slow.until(() => slow.frames.length > before, 'a frame after the ack');
    expect(slow.frames.length).toBe(before + 1);
  });

  it('with framesInFlight 2 a page that does not ack gets exactly two frames', async () => {
    server = await ViewerServer.start({ hal: await syntheticCamera(), port: 0, framesInFlight: 2 });
    const slow = await TestClient.connect(server);
    slow.autoAck = false;
    const fast = await TestClient.connect(server);
    await fast.until(() => fast.frames.length >= 8, '8 frames on the fast page');
    expect(slow.frames.length).toBe(2);
    slow.ack();
    await slow.until(() => slow.frames.length === 3, 'one more after one ack');
    await expect(
      ViewerServer.start({ hal: await syntheticCamera(), port: 0, framesInFlight: 0 }),
    ).rejects.toThrow(RangeError);
  });

  it('shares one capture between pages and stops only when the last leaves (every buffer back)', async () => {
    const s = await start();
    const a = await TestClient.connect(s);
    const b = await TestClient.connect(s);
    await a.until(() => a.frames.length >= 3, 'frames on a');
    await b.until(() => b.frames.length >= 3, 'frames on b');
    expect(s.hub.filter.pins(0).length).toBe(1);
    expect(s.hub.clientCount).toBe(2);
    // Both pages see the same sequence numbers: one capture, fanned out.
    const common = a.frames.map((f) => f.sequence).filter((q) => b.frames.some((f) => f.sequence === q));
    expect(common.length).toBeGreaterThan(0);
    await a.close();
    const n = b.frames.length;
    await b.until(() => b.frames.length >= n + 3, 'b keeps streaming');
    expect(s.hub.running).toBe(true);
    await b.close();
    await waitFor(() => !s.hub.running && s.hub.clientCount === 0, 'stopped after the last page');
    expect(s.hub.outstanding).toBe(0);
  });

  it('applies a property and broadcasts the change to every page', async () => {
    const s = await start();
    const a = await TestClient.connect(s);
    const b = await TestClient.connect(s);
    await a.until(() => a.json.length > 0, 'init');
    const p = brightness(a.json[0]!);
    a.send({ type: 'set', key: p.key, value: 20, id: 1 });
    expect((await a.reply(1)).type).toBe('ok');
    await b.until(
      () => b.json.some((m) => m.type === 'property' && m.key === p.key && m.value === 20),
      'change on b',
    );
    const [, set, id] = p.key.split('/');
    expect(await s.hub.filter.properties.get(set as never, Number(id))).toBe(20);
  });

  it('answers bad requests with an error and changes nothing', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    await c.until(() => c.frames.length >= 1, 'a frame');
    const p = brightness(c.json[0]!);
    const [, set, id] = p.key.split('/');
    const read = (): Promise<unknown> => s.hub.filter.properties.get(set as never, Number(id));
    const before = await read();
    c.send({ type: 'set', key: p.key, value: (p.max ?? 0) + 1, id: 1 });
    const r1 = await c.reply(1);
    expect(r1.type).toBe('error');
    expect(String(r1.error)).toMatch(/range|bound|max/i);
    c.send({ type: 'set', key: 'no/such/property', value: 1, id: 2 });
    expect(String((await c.reply(2)).error)).toMatch(/unknown property/);
    c.send({ type: 'set', key: p.key, value: 'bright', id: 3 });
    expect((await c.reply(3)).type).toBe('error');
    c.send({ type: 'format', range: 999, width: 1, height: 1, interval: '333333', id: 4 });
    expect(String((await c.reply(4)).error)).toMatch(/no data range/);
    c.send({ type: 'frobnicate', id: 5 });
    expect(String((await c.reply(5)).error)).toMatch(/unknown request type/);
    const errorsBefore = c.json.filter((m) => m.type === 'error').length;
    c.send('{not json');
    c.ws.send(Buffer.from([1, 2, 3]));
    await c.until(
      () => c.json.filter((m) => m.type === 'error').length >= errorsBefore + 2,
      'malformed errors',
    );
    expect(await read()).toBe(before);
    expect(s.hub.running).toBe(true);
    expect(s.hub.geometry.width).toBe(640);
    const n = c.frames.length;
    await c.until(() => c.frames.length > n + 2, 'frames still flowing');
  });

  it('switches format while streaming and stops/starts on request', async () => {
    const s = await start();
    const c = await TestClient.connect(s);
    await c.until(() => c.frames.length >= 1, 'a frame');
    const formats = c.json[0]!.formats as Array<{
      range: number;
      fourcc: string;
      sizes: Array<{ width: number; height: number }>;
      default: { interval: string };
    }>;
    const small = formats.find((f) => f.fourcc === 'YUY2' && f.sizes[0]!.width === 320)!;
    c.send({
      type: 'format',
      range: small.range,
      width: 320,
      height: 240,
      interval: small.default.interval,
      id: 1,
    });
    expect((await c.reply(1)).type).toBe('ok');
    await c.until(() => c.frames.some((f) => f.width === 320 && f.height === 240), 'a 320x240 frame');
    expect(s.hub.running).toBe(true);
    c.send({ type: 'stop', id: 2 });
    await c.reply(2);
    expect(s.hub.running).toBe(false);
    expect(s.hub.outstanding).toBe(0);
    c.send({ type: 'start', id: 3 });
    await c.reply(3);
    const n = c.frames.length;
    await c.until(() => c.frames.length > n, 'frames after start');
  });

  it('close() with pages connected stops the pin and returns every buffer', async () => {
    const s = await start();
    const a = await TestClient.connect(s);
    const b = await TestClient.connect(s);
    b.autoAck = false;
    await a.until(() => a.frames.length >= 3, 'frames');
    await s.close();
    expect(s.hub.running).toBe(false);
    expect(s.hub.outstanding).toBe(0);
    await waitFor(() => a.ws.readyState === WebSocket.CLOSED, 'socket closed');
    await expect(s.hub.handle({ type: 'start' })).rejects.toThrow(/closed/);
  });

  it('tuner: channel up/down, scan, and refusals for bad frequency, standard and input', async () => {
    // A 1 ms settle time keeps the scan of the whole channel plan short.
    server = await ViewerServer.start({
      hal: await synthetic('tuner', { settleTime: 10_000n }),
      port: 0,
      statsIntervalMs: 100,
    });
    const c = await TestClient.connect(server);
    await c.until(() => c.frames.length >= 1, 'a frame');
    type View = {
      channel: string | null;
      locked: boolean;
      scanning: boolean;
      scanned: unknown[];
      frequencyHz: number;
    };
    const tuner = (): View =>
      c.json.filter((m) => m.type === 'tuner' || m.type === 'init').at(-1)!.tuner as View;
    expect(tuner().channel).toBe('2');
    c.send({ type: 'tune', action: 'channel-up', id: 1 });
    expect((await c.reply(1)).type).toBe('ok');
    await c.until(() => tuner().channel === '3', 'channel 3');
    c.send({ type: 'tune', action: 'channel-down', id: 2 });
    await c.reply(2);
    await c.until(() => tuner().channel === '2' && tuner().locked, 'back on 2, locked');
    const refusals: Array<[unknown, RegExp]> = [
      [{ type: 'tune', action: 'standard', value: 'SECAM-Z' }, /standard must be one of/],
      [{ type: 'tune', action: 'input', value: 7 }, /input must be one of/],
      [{ type: 'tune', action: 'frequency', value: 'loud' }, /whole number/],
      [{ type: 'tune', action: 'frequency', value: 1000 }, /./],
    ];
    let id = 10;
    for (const [req, message] of refusals) {
      c.send({ ...(req as object), id: ++id });
      const r = await c.reply(id);
      expect(r.type).toBe('error');
      expect(String(r.error)).toMatch(message);
    }
    expect(await server.hub.tuner!.view()).toMatchObject({ channel: '2', input: 0 });
    c.send({ type: 'tune', action: 'scan', id: 20 });
    await c.reply(20);
    await c.until(() => !tuner().scanning && tuner().scanned.length > 0, 'scan results');
    // The synthetic antenna carries channels 2, 4, 5, 7, 9, 11, 13, 27 and 44.
    expect(tuner().scanned.length).toBe(9);
    c.send({ type: 'tune', action: 'channel-up', id: 21 });
    await c.reply(21);
    await c.until(() => tuner().channel === '4', 'up after a scan skips empty channels');
    // A standard with another picture: the pin is stopped, re-formatted and restarted; frames follow.
    c.send({ type: 'tune', action: 'standard', value: 'PAL-B', id: 22 });
    expect((await c.reply(22)).type).toBe('ok');
    await c.until(() => c.frames.some((f) => f.width === 720 && f.height === 576), 'a 720x576 PAL frame');
    expect(server.hub.geometry.fps).toBe(25);
  });

  it('hot-unplug mid-stream: the page is told, every buffer is back, start is refused, close does not hang', async () => {
    server = await ViewerServer.start({
      hal: await synthetic('camera', { faults: { faults: [{ kind: 'disconnect', atFrame: 5 }] } }),
      port: 0,
    });
    const c = await TestClient.connect(server);
    const stopped = (): Json | undefined =>
      c.json.find((m) => m.type === 'state' && (m.state as { error: string | null }).error !== null);
    await c.until(() => stopped() !== undefined, 'a state message with the error');
    expect(String((stopped()!.state as { error: string }).error)).toMatch(/disconnected|removed/);
    expect(server.hub.running).toBe(false);
    expect(server.hub.outstanding).toBe(0);
    expect(c.frames.length).toBeLessThanOrEqual(5);
    c.send({ type: 'start', id: 1 });
    expect((await c.reply(1)).type).toBe('error');
    await server.close();
    expect(server.hub.outstanding).toBe(0);
  });
});

async function waitFor(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
