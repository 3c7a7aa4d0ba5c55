// Benchmarks the frame rate the viewer page achieves in headless Chromium per capture format (frames drawn on the canvas per second).
import { existsSync } from 'node:fs';
import { BUILT_IN_SYNTHETIC_KINDS, Enumerator } from '@ksemu/hal';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ViewerServer } from '../viewer-server.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const CHROMIUM = process.env.KSEMU_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const FORMATS = [
  ['YUY2', 640, 480, 30],
  ['YUY2', 1280, 720, 30],
  ['YUY2', 1920, 1080, 30],
  ['NV12', 1280, 720, 30],
  ['RGB24', 1280, 720, 30],
  ['MJPG', 1280, 720, 30],
  ['YUY2', 320, 240, 120],
] as const;

type PageView = { viewer: { framesDrawn: number; width: number; height: number } };

// One browser for every case, launched on first use and closed by the last teardown. Each run
// opens a page (which starts the capture) and closes it (which stops it), so only one case
// streams at a time although the runner sets every case up front.
let browser: Promise<Browser> | undefined;
let users = 0;

function pageCase(fourcc: string, width: number, height: number, fps: number): BenchCase {
  let server: ViewerServer | undefined;
  const label = `${fourcc} ${width}x${height}@${fps}`;
  return {
    name: `page ${label}`,
    group: `viewer page ${label}`,
    unit: 'fps',
    better: 'higher',
    // About one second of the pin's frames per run (calibration would time the page load too).
    fixedIterations: fps,
    async setup() {
      users++;
      const e = new Enumerator({ synthetic: [{ kind: 'camera' }] }, BUILT_IN_SYNTHETIC_KINDS);
      const hal = await e.find('synthetic:camera');
      e.dispose();
      server = await ViewerServer.start({ hal, port: 0 });
      const range = server.hub.formats.find(
        (f) => f.fourcc === fourcc && f.sizes.some((s) => s.width === width && s.height === height),
      );
      if (!range) throw new Error(`${label} is not offered`);
      const interval =
        range.intervals.find((i) => Math.abs(Number(i) - 1e7 / fps) < 2) ?? range.default.interval;
      await server.hub.handle({ type: 'format', range: range.range, width, height, interval });
    },
    async teardown() {
      await server?.close();
      if (--users === 0 && browser) await (await browser).close();
    },
    async run(iterations) {
      browser ??= chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      const page: Page = await (await browser).newPage();
      try {
        await page.goto(server!.url);
        await page.waitForFunction(
          ([w, h]) => {
            const v = (window as unknown as PageView).viewer;
            return v.width === w && v.height === h && v.framesDrawn > 3;
          },
          [width, height],
          { timeout: 30_000 },
        );
        const drawn = (): Promise<number> =>
          page.evaluate(() => (window as unknown as PageView).viewer.framesDrawn);
        const start = await drawn();
        const t0 = process.hrtime.bigint();
        await page.waitForFunction(
          (n) => (window as unknown as PageView).viewer.framesDrawn >= n,
          start + iterations,
          { timeout: 120_000, polling: 5 },
        );
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const s1 = server!.hub.stats();
        return {
          seconds,
          value: iterations / seconds,
          extra: { deviceFps: s1.fps, latencyP50Ms: s1.latencyMs.p50 },
        };
      } finally {
        await page.close();
      }
    },
  };
}

const suite: BenchSuite = {
  name: 'viewer',
  cases() {
    if (!existsSync(CHROMIUM)) return Promise.resolve([]);
    return Promise.resolve(FORMATS.map(([f, w, h, fps]) => pageCase(f, w, h, fps)));
  },
};
export default suite;
