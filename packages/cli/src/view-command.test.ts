// Runs the real `ksemu view` binary: prints a loopback URL that serves the page, stops cleanly on SIGINT, clear errors.
import { describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

function start(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
} {
  const child = spawn(process.execPath, [BIN, 'view', ...args], {
    env: { ...process.env, KSEMU_LOG_LEVEL: 'error' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

function line(
  get: () => string,
  re: RegExp,
  child: ChildProcessWithoutNullStreams,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = re.exec(get());
      if (m) {
        child.stdout.off('data', check);
        resolve(m);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', () => reject(new Error(`exited before printing ${re}: ${get()}`)));
    check();
  });
}

describe('ksemu view', () => {
  it('serves the page on loopback, prints the URL, and stops with every buffer back on Ctrl-C', async () => {
    const p = start(['synthetic:camera', '--port', '0']);
    try {
      const m = await line(p.out, /at (http:\/\/127\.0\.0\.1:\d+\/)/, p.child);
      const url = m[1]!;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('ksemu view');
      const state = (await (await fetch(new URL('api/state', url))).json()) as { device: { id: string } };
      expect(state.device.id).toBe('synthetic:camera');
      p.child.kill('SIGINT');
      expect(await exited(p.child)).toBe(0);
      expect(p.out()).toMatch(/stopped; 0 buffers outstanding/);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('a port in use is one clear line with the fix and a non-zero exit code', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = start(['synthetic:camera', '--port', String(port)]);
      const code = await exited(p.child);
      expect(code).not.toBe(0);
      expect(p.err()).toMatch(/port \d+ is in use/);
      expect(p.err()).toMatch(/--port/);
      expect(p.err()).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      blocker.close();
    }
  });

  it('an unknown device fails before listening', async () => {
    const p = start(['synthetic:nope', '--port', '0']);
    expect(await exited(p.child)).toBe(3);
    expect(p.err()).toMatch(/no synthetic device 'nope'/);
  });
});
