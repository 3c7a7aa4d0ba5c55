// End-to-end: the viewer page in headless Chromium (Debian's /usr/bin/chromium via playwright-core) against synthetic devices.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILT_IN_SYNTHETIC_KINDS, Enumerator, type HalDevice } from '@ksemu/hal';
import { channelPlateGeometry } from '@ksemu/hal/testing';
import type { Guid } from '@ksemu/ks-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ViewerServer } from './viewer-server.js';

const CHROMIUM = process.env.KSEMU_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/viewer/', import.meta.url));
// Flags the machine needs: no sandbox as root, no GPU, and no background connections to Google.
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

if (!HAVE_CHROMIUM) {
  console.warn(
    `viewer browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set KSEMU_CHROMIUM)`,
  );
}
const suite = HAVE_CHROMIUM ? describe : describe.skip;
// Each test takes ~5 s on an idle machine; the long limits only absorb a heavily loaded CI host.

async function synthetic(kind: string): Promise<HalDevice> {
  const e = new Enumerator({ synthetic: [{ kind }] }, BUILT_IN_SYNTHETIC_KINDS);
  try {
    return await e.find(`synthetic:${kind}`);
  } finally {
    e.dispose();
  }
}

interface PageState {
  framesDrawn: number;
  lastSequence: number;
  width: number;
  height: number;
  statsUpdates: number;
  stats: { fps: number; frames: number; pool: { slots: number } } | null;
  errors: string[];
  pageFps: number;
}

const pageState = (page: Page): Promise<PageState> =>
  page.evaluate(() => {
    const v = (window as unknown as { viewer: PageState }).viewer;
    return {
      framesDrawn: v.framesDrawn,
      lastSequence: v.lastSequence,
      width: v.width,
      height: v.height,
      statsUpdates: v.statsUpdates,
      stats: v.stats,
      errors: [...v.errors],
      pageFps: v.pageFps,
    };
  });

const checksum = (page: Page, region?: [number, number, number, number]): Promise<number> =>
  page.evaluate(
    (r) =>
      (window as unknown as { viewer: { checksum(...a: number[]): number } }).viewer.checksum(...(r ?? [])),
    region,
  );

/** Waits until at least `n` more frames than now are drawn. */
async function moreFrames(page: Page, n: number): Promise<void> {
  const { framesDrawn } = await pageState(page);
  await page.waitForFunction(
    (target) => (window as unknown as { viewer: PageState }).viewer.framesDrawn >= target,
    framesDrawn + n,
  );
}

suite('viewer page in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 20_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('synthetic camera: live picture, brightness, format switch, statistics, errors, clean close', async () => {
    const server = await ViewerServer.start({
      hal: await synthetic('camera'),
      port: 0,
      statsIntervalMs: 200,
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(server.url);
      // The picture appears and changes over time (frame counter and timecode are burned in).
      await page.waitForFunction(() => (window as unknown as { viewer: PageState }).viewer.framesDrawn >= 2);
      expect(await page.locator('#picture').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([
        640, 480,
      ]);
      const first = await checksum(page);
      const seqBefore = (await pageState(page)).lastSequence;
      await moreFrames(page, 3);
      expect((await pageState(page)).lastSequence).toBeGreaterThan(seqBefore);
      expect(await checksum(page)).not.toBe(first);
      await page.screenshot({ path: `${ARTIFACTS}camera-live.png`, fullPage: true });

      // Moving the brightness slider changes the property (read back through the API) and the page shows the change event.
      const row = page.locator('.control[data-name="Brightness"][data-node="f"]');
      const key = (await row.getAttribute('data-key'))!;
      const [, set, id] = key.split('/') as [string, Guid, string];
      await row.locator('input[type=range]').fill('24');
      await page.waitForFunction(
        (k) => document.querySelector(`.control[data-key="${k}"]`)?.getAttribute('data-value') === '24',
        key,
      );
      expect(await server.hub.filter.properties.get(set, Number(id))).toBe(24);
      // A change made elsewhere (another client, the device) is reflected in the page.
      await server.hub.filter.properties.set(set, Number(id), -10, { mode: 'manual' });
      await page.waitForFunction(
        (k) => document.querySelector(`.control[data-key="${k}"]`)?.getAttribute('data-value') === '-10',
        key,
      );
      expect(await row.locator('input[type=range]').inputValue()).toBe('-10');

      // Bad requests from the page: an error in the page, nothing changed.
      await page.evaluate((k) => {
        const v = (window as unknown as { viewer: { sendRaw(t: string): void } }).viewer;
        v.sendRaw(JSON.stringify({ type: 'set', key: k, value: 9999, id: 9001 }));
        v.sendRaw(JSON.stringify({ type: 'set', key: 'no/such/property', value: 1, id: 9002 }));
        v.sendRaw('{"type": "set", oops');
      }, key);
      await page.waitForFunction(() => document.querySelectorAll('#errors div').length >= 3);
      const errorText = await page.locator('#errors').innerText();
      expect(errorText).toMatch(/unknown property/);
      expect(errorText).toMatch(/malformed/);
      expect(await server.hub.filter.properties.get(set, Number(id))).toBe(-10);
      expect(await row.getAttribute('data-value')).toBe('-10');
      await page.screenshot({ path: `${ARTIFACTS}camera-errors.png`, fullPage: true });

      // The format picker switches to another size and the picture follows.
      await page.selectOption('#format-range', { label: 'YUY2 320x240' });
      await page.selectOption('#format-size', '320x240');
      await page.click('#apply-format');
      await page.waitForFunction(() => {
        const v = (window as unknown as { viewer: PageState }).viewer;
        return v.width === 320 && v.height === 240;
      });
      expect(await page.locator('#picture').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([
        320, 240,
      ]);
      expect(server.hub.geometry.width).toBe(320);
      await moreFrames(page, 2);

      // Statistics update: several stats messages, frames counted, a frame rate, the pool size.
      const s0 = await pageState(page);
      await page.waitForFunction(
        (n) => (window as unknown as { viewer: PageState }).viewer.statsUpdates >= n,
        s0.statsUpdates + 3,
      );
      const s1 = await pageState(page);
      expect(s1.stats!.frames).toBeGreaterThan(0);
      expect(s1.stats!.fps).toBeGreaterThan(0);
      expect(s1.stats!.pool.slots).toBeGreaterThan(0);
      expect(await page.locator('[data-stat="fps"]').innerText()).toMatch(/^\d+\.\d$/);
      expect(await page.locator('[data-stat="latency"]').innerText()).toMatch(/ms$/);
      // The filter graph is drawn: the filter, its three topology nodes and its pins.
      expect(await page.locator('#graph rect.node').count()).toBe(3);
      expect(await page.locator('#graph rect.pin').count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: `${ARTIFACTS}camera-320x240.png`, fullPage: true });
      expect(pageErrors).toEqual([]);

      // Closing the page stops the pin and returns every buffer.
      await page.close();
      await waitFor(() => !server.hub.running, 'capture stopped after the page closed');
      expect(server.hub.outstanding).toBe(0);
    } finally {
      await context.close();
      await server.close();
    }
  }, 90_000);

  it('synthetic tuner: channel up changes the burned-in channel number; bad frequency shows an error', async () => {
    const server = await ViewerServer.start({ hal: await synthetic('tuner'), port: 0, statsIntervalMs: 200 });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    type Tuner = { channel: string | null; locked: boolean; frequencyHz: number };
    const tunedTo = (channel: string): Promise<unknown> =>
      page.waitForFunction((ch) => {
        const t = (window as unknown as { viewer: { tuner: Tuner | null } }).viewer.tuner;
        return t !== null && t.channel === ch && t.locked;
      }, channel);
    try {
      await page.goto(server.url);
      await page.locator('#tuner').waitFor({ state: 'visible' });
      await tunedTo('2');
      await moreFrames(page, 3);
      const { width, height } = await pageState(page);
      // The plate the HAL burns the channel number into (one digit for channels 2 and 4); the
      // moving box may cross it, but the plate is painted last, so its pixels depend on the channel only.
      const g = channelPlateGeometry(width, height, 1);
      const plate: [number, number, number, number] = [g.x, g.y, g.width, g.height];
      const ch2 = await checksum(page, plate);
      await moreFrames(page, 2);
      expect(await checksum(page, plate)).toBe(ch2); // the plate is steady on one channel
      expect(await page.locator('#channel').innerText()).toBe('2');
      await page.screenshot({ path: `${ARTIFACTS}tuner-channel-2.png`, fullPage: true });

      // Ch+ walks the channel plan: 3 has no carrier on this antenna, 4 does.
      await page.click('#channel-up');
      await page.waitForFunction(
        () => (window as unknown as { viewer: { tuner: Tuner } }).viewer.tuner.channel === '3',
      );
      await page.click('#channel-up');
      await tunedTo('4');
      await moreFrames(page, 3);
      const ch4 = await checksum(page, plate);
      expect(ch4).not.toBe(ch2);
      await moreFrames(page, 2);
      expect(await checksum(page, plate)).toBe(ch4);
      expect(await page.locator('#lock').innerText()).toBe('locked');
      expect(Number(await page.locator('#signal-value').innerText())).toBeGreaterThan(0);
      await page.screenshot({ path: `${ARTIFACTS}tuner-channel-4.png`, fullPage: true });

      // A frequency off the tuning grid: an error in the page, the tuner stays on channel 4.
      const before = (await page.evaluate(
        () => (window as unknown as { viewer: { tuner: Tuner } }).viewer.tuner.frequencyHz,
      )) as number;
      await page.fill('#frequency', String(before + 1));
      await page.click('#tune');
      await page.waitForFunction(() => document.querySelectorAll('#errors div').length >= 1);
      expect(await page.locator('#errors').innerText()).toMatch(/tune/);
      expect(await server.hub.tuner!.view()).toMatchObject({ frequencyHz: before, channel: '4' });
      // The graph shows the five filters of the TV device and their medium links.
      expect(await page.locator('#graph g[data-factory]').count()).toBe(5);
      expect(await page.locator('#graph path.medium').count()).toBeGreaterThanOrEqual(3);
      expect(pageErrors).toEqual([]);
      await page.close();
      await waitFor(() => !server.hub.running, 'capture stopped after the page closed');
      expect(server.hub.outstanding).toBe(0);
    } finally {
      await context.close();
      await server.close();
    }
  }, 90_000);
});

async function waitFor(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
