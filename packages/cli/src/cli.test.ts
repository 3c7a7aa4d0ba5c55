// Runs the real `ksemu` binary (no mocks) against the synthetic devices and checks outputs, files and exit codes.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/uvc/bin', import.meta.url));
const hasFfmpeg = spawnSync('ffprobe', ['-version']).status === 0;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ksemu(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, KSEMU_LOG_LEVEL: 'error' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Frames and header of a y4m file, parsed by hand so the test needs no ffmpeg. */
function parseY4m(buf: Buffer): { header: string; frames: number; frameBytes: number } {
  const nl = buf.indexOf(0x0a);
  const header = buf.subarray(0, nl).toString('latin1');
  let off = nl + 1;
  let frames = 0;
  let frameBytes = -1;
  while (off < buf.length) {
    const end = buf.indexOf(0x0a, off);
    expect(buf.subarray(off, end).toString('latin1')).toBe('FRAME');
    const w = Number(/ W(\d+)/.exec(header)?.[1]);
    const h = Number(/ H(\d+)/.exec(header)?.[1]);
    const c = / C(\S+)/.exec(header)?.[1] ?? '';
    frameBytes = c === '422' ? w * h * 2 : c.startsWith('420') ? (w * h * 3) / 2 : w * h;
    off = end + 1 + frameBytes;
    frames++;
  }
  expect(off).toBe(buf.length);
  return { header, frames, frameBytes };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksemu-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ksemu list / describe', () => {
  it('lists the synthetic devices as JSON', async () => {
    const r = await ksemu(['list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; kind: string; formats: string[] }>;
    expect(rows.map((d) => d.id)).toEqual(
      expect.arrayContaining(['synthetic:camera', 'synthetic:pcie', 'synthetic:tuner']),
    );
    expect(rows.find((d) => d.id === 'synthetic:camera')?.formats).toEqual(
      expect.arrayContaining(['YUY2', 'NV12', 'MJPG']),
    );
  });

  it('describes the camera filter: pins, ranges, property sets', async () => {
    const r = await ksemu(['describe', 'synthetic:camera', '--json']);
    expect(r.code).toBe(0);
    const text = r.stdout;
    expect(text).toContain('PROPSETID_VIDCAP_VIDEOPROCAMP');
    expect(text).toContain('Capture');
    const human = await ksemu(['describe', 'synthetic:camera']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Capture/);
  });
});

describe('ksemu stream', () => {
  it('writes 300 frames of 1280x720 YUY2 to a y4m file', async () => {
    const out = join(dir, 'x.y4m');
    const r = await ksemu([
      'stream',
      'synthetic:camera',
      '--format',
      'YUY2:1280x720@30',
      '--frames',
      '300',
      '--clock',
      'virtual',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      frames: number;
      drops: number;
      format: string;
      stoppedBy: string;
    };
    expect(summary).toMatchObject({ frames: 300, drops: 0, format: 'YUY2:1280x720@30', stoppedBy: 'count' });
    const y4m = parseY4m(await readFile(out));
    expect(y4m.header).toBe('YUV4MPEG2 W1280 H720 F30:1 Ip A1:1 C422');
    expect(y4m.frames).toBe(300);
    if (hasFfmpeg) {
      const probe = spawnSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-show_entries',
          'stream=width,height,pix_fmt,nb_read_frames',
          '-of',
          'json',
          out,
        ],
        { encoding: 'utf8' },
      );
      const s = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams[0];
      expect(s).toMatchObject({ width: 1280, height: 720, pix_fmt: 'yuv422p', nb_read_frames: '300' });
      const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
      expect(decode.status).toBe(0);
      expect(decode.stderr).toBe('');
    }
    await rm(out);
  });

  it('writes 300 frames of packed yuyv422 to an AVI file', async () => {
    const out = join(dir, 'x.avi');
    const r = await ksemu([
      'stream',
      'synthetic:camera',
      '--format',
      'YUY2:1280x720@30',
      '--frames',
      '300',
      '--clock',
      'virtual',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = await readFile(out);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.subarray(8, 12).toString('latin1')).toBe('AVI ');
    if (hasFfmpeg) {
      const probe = spawnSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-show_entries',
          'stream=codec_name,width,height,pix_fmt,nb_read_frames,r_frame_rate',
          '-of',
          'json',
          out,
        ],
        { encoding: 'utf8' },
      );
      const s = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams[0];
      expect(s).toMatchObject({
        codec_name: 'rawvideo',
        width: 1280,
        height: 720,
        pix_fmt: 'yuyv422',
        nb_read_frames: '300',
        r_frame_rate: '30/1',
      });
      const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
      expect(decode.stderr).toBe('');
      expect(decode.status).toBe(0);
    }
    await rm(out);
  });

  it('writes MJPEG that decodes', async () => {
    const out = join(dir, 'x.mjpeg');
    const r = await ksemu([
      'stream',
      'synthetic:camera',
      '--format',
      'MJPG:640x480@30',
      '--frames',
      '10',
      '--clock',
      'virtual',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const bytes = await readFile(out);
    expect(bytes[0]).toBe(0xff);
    expect(bytes[1]).toBe(0xd8);
    let soi = 0;
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xd8) soi++;
    expect(soi).toBeGreaterThanOrEqual(10);
    if (hasFfmpeg) {
      const decode = spawnSync('ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', out, '-f', 'null', '-'], {
        encoding: 'utf8',
      });
      expect(decode.stderr).toBe('');
      expect(decode.status).toBe(0);
    }
  });

  it('writes a directory of PNGs and of raw frames', async () => {
    const png = join(dir, 'png') + '/';
    expect(
      (
        await ksemu([
          'stream',
          'synthetic:pcie',
          '--format',
          'NV12:640x480@30',
          '--frames',
          '3',
          '--clock',
          'virtual',
          '--out',
          png,
          '--png',
        ])
      ).code,
    ).toBe(0);
    expect((await readdir(png)).filter((f) => f.endsWith('.png'))).toHaveLength(3);
    const raw = join(dir, 'raw') + '/';
    expect(
      (
        await ksemu([
          'stream',
          'synthetic:camera',
          '--format',
          'GRAY8:160x120@30',
          '--frames',
          '2',
          '--clock',
          'virtual',
          '--out',
          raw,
        ])
      ).code,
    ).toBe(0);
    const files = (await readdir(raw)).sort();
    expect(files).toEqual(['frame-000000.gray8', 'frame-000001.gray8']);
    expect((await readFile(join(raw, files[0] ?? ''))).length).toBe(160 * 120);
  });

  it('streams y4m to stdout and stops cleanly on SIGINT with a summary', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'stream', 'synthetic:camera', '--format', 'YUY2:320x240@30', '--out', '-'],
      {
        env: { ...process.env, KSEMU_LOG_LEVEL: 'error' },
      },
    );
    let bytes = 0;
    let interrupted = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        bytes += d.length;
        // Interrupt once real frames have arrived: an event, not a sleep.
        // Exactly one SIGINT: a second one means "quit now" (exit 130) by design.
        if (bytes > 320 * 240 * 2 * 3 && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopped\s+by signal/);
    expect(bytes).toBeGreaterThan(320 * 240 * 2 * 3);
  });
});

describe('ksemu golden frames', () => {
  it('records, verifies, and fails a changed rendering with a diff image and exit code 4', async () => {
    const g = join(dir, 'golden');
    const rec = await ksemu([
      'record-golden',
      'synthetic:camera?pattern=noise&seed=1',
      '--frames',
      '0,1,7',
      '--format',
      'YUY2:320x240@30',
      '--out',
      g,
    ]);
    expect(rec.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(g, 'manifest.json'), 'utf8')) as {
      device: string;
      frames: unknown[];
      seed: number;
      pattern: string;
    };
    expect(manifest).toMatchObject({
      device: 'synthetic:camera?pattern=noise&seed=1',
      seed: 1,
      pattern: 'noise',
    });
    expect(manifest.frames).toHaveLength(3);
    const ok = await ksemu(['verify-golden', g]);
    expect(ok.stdout).toContain('PASS: 3 frames match');
    expect(ok.code).toBe(0);
    // A different seed is what a renderer change looks like: every frame must fail.
    manifest.device = 'synthetic:camera?pattern=noise&seed=2';
    await writeFile(join(g, 'manifest.json'), JSON.stringify(manifest));
    const bad = await ksemu(['verify-golden', g, '--json']);
    expect(bad.code).toBe(4);
    const verdict = JSON.parse(bad.stdout) as {
      pass: boolean;
      frames: Array<{ ok: boolean; diffImage?: string; psnr: number }>;
    };
    expect(verdict.pass).toBe(false);
    expect(verdict.frames.every((f) => !f.ok && f.diffImage && existsSync(f.diffImage))).toBe(true);
  });

  it('fails a golden file edited behind its manifest', async () => {
    const g = join(dir, 'golden2');
    expect(
      (
        await ksemu([
          'record-golden',
          'synthetic:camera?pattern=smpte',
          '--frames',
          '2',
          '--format',
          'UYVY:160x120@15',
          '--out',
          g,
          '--no-previews',
        ])
      ).code,
    ).toBe(0);
    const file = join(g, 'frame-000002.uyvy');
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const r = await ksemu(['verify-golden', g]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the golden file was changed/);
  });
});

describe('ksemu errors are one clear line with a fix and a meaningful exit code', () => {
  it.each([
    [['stream', 'synthetic:nope'], 3, /no synthetic device 'nope'/],
    [['stream', 'usb:zz'], 2, /unknown device id/],
    [
      ['stream', 'synthetic:camera', '--format', 'YUY2:123x77@30', '--frames', '1'],
      6,
      /nearest supported format: --format YUY2:/,
    ],
    [['stream', 'synthetic:camera', '--format', 'nonsense!'], 2, /bad --format/],
    [['stream', 'synthetic:camera?pattern=plaid'], 2, /unknown pattern 'plaid'/],
    [['props', 'synthetic:camera', 'set', 'brightness', '99999'], 2, /above the maximum/],
    [['props', 'synthetic:camera', 'get', 'warpdrive'], 3, /no property 'warpdrive'/],
    [['verify-golden', '/nonexistent-dir'], 3, /no manifest.json/],
    [['uvc', 'parse', '/nonexistent.bin'], 3, /cannot read/],
  ])('ksemu %j → exit %i', async (args, code, message) => {
    const r = await ksemu(args as string[]);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(code);
  });
});

describe('ksemu props', () => {
  it('lists, gets and sets brightness', async () => {
    const list = await ksemu(['props', 'synthetic:camera', 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as Array<{ name: string; min?: string; max?: string }>;
    const brightness = rows.find((r) => /brightness/i.test(r.name));
    expect(brightness).toBeDefined();
    const set = await ksemu([
      'props',
      'synthetic:camera',
      'set',
      'brightness',
      String(brightness?.max),
      '--json',
    ]);
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toMatchObject({ value: Number(brightness?.max) });
  });
});

describe('ksemu uvc parse', () => {
  const c920 = join(FIXTURES, 'libuvc', 'libuvc_logitech_c920.config.inferred.bin');
  (existsSync(c920) ? it : it.skip)('prints the parsed configuration of a real camera', async () => {
    const r = await ksemu(['uvc', 'parse', c920, '--json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as {
      functions: Array<{ streamingInterfaces: Array<{ formats: Array<{ type: string }> }> }>;
    };
    const types = parsed.functions[0]?.streamingInterfaces[0]?.formats.map((f) => f.type);
    expect(types).toEqual(expect.arrayContaining(['uncompressed', 'mjpeg']));
  });
});

describe('ksemu tune', () => {
  it('tunes a channel that carries a picture and reports lock', async () => {
    const r = await ksemu(['tune', 'synthetic:tuner', '--channel', '4', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ frequencyHz: 67_250_000, standard: 'NTSC-M', locked: true });
  });

  it('reports no signal on an empty channel with exit code 1 and a fix', async () => {
    const r = await ksemu(['tune', 'synthetic:tuner', '--channel', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no signal at 61.25 MHz/);
    expect(r.stderr).toMatch(/--scan/);
  });

  it('scans exactly the channels the synthetic broadcast carries', async () => {
    const r = await ksemu(['tune', 'synthetic:tuner', '--scan', '--json']);
    expect(r.code).toBe(0);
    const found = JSON.parse(r.stdout) as { channels: Array<{ name: string }> };
    expect(found.channels.map((c) => c.name)).toEqual(['2', '4', '5', '7', '9', '11', '13', '27', '44']);
  });

  it('streams the tuned channel and rejects tuning options on a camera', async () => {
    const out = join(dir, 'tv') + '/';
    const r = await ksemu([
      'stream',
      'synthetic:tuner',
      '--channel',
      '7',
      '--frames',
      '2',
      '--clock',
      'virtual',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'YUY2:720x480@29.97', frames: 2 });
    expect((await readdir(out)).sort()).toEqual(['frame-000000.yuy2', 'frame-000001.yuy2']);
    const bad = await ksemu(['stream', 'synthetic:camera', '--channel', '4', '--frames', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a TV tuner/);
  });
});
