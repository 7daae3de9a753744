// The page at `/` in real headless Chromium (Debian's, via playwright-core), against the Worker in
// workerd on loopback. Chromium is kept off the network: every host but 127.0.0.1 fails to resolve.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const PHOTO = join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
const MODEL = 'convmixer-cifar10';

let w: TestWorker;
let browser: Browser;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: bash scripts/setup-system.sh installs Debian's chromium`);
  w = await startWorker({ models: [MODEL, `${MODEL}-int8`], port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  page.on('request', (r) => { if (/^(https?|wss?):/.test(r.url())) requests.push(new URL(r.url()).host); }); // blob:/data: are local
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => { await browser?.close(); await w?.dispose(); });

describe('the web page', () => {
  it('classifies a real photo through the API and shows the same top-5 as the API', async () => {
    await page.goto(w.url.href);
    await page.waitForSelector('body[data-models="ready"]');
    expect(await page.locator('#model').inputValue()).toBe(MODEL);
    await page.setInputFiles('#file', PHOTO);
    await page.waitForSelector('body[data-result="ready"]', { timeout: 30_000 });
    const shown = await page.$$eval('#results .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label, score: Number((r as HTMLElement).dataset.score) })));
    await page.screenshot({ path: join(ARTIFACTS, 'page-classify.png'), fullPage: true });

    const api = await w.fetch(`/v1/classify?model=${MODEL}&top_k=5`, { method: 'POST', body: readFileSync(PHOTO), headers: { 'content-type': 'image/jpeg' } });
    const preds = ((await api.json()) as { results: Array<{ predictions: Array<{ label: string; score: number }> }> }).results[0]!.predictions;
    expect(shown.map((s) => s.label)).toEqual(preds.map((p) => p.label));
    shown.forEach((s, i) => expect(Math.abs(s.score - preds[i]!.score)).toBeLessThan(1e-4));
    expect(await page.locator('#timings').textContent()).toMatch(/ran on the edge Worker\. Decode \d+ ms, preprocess \d+ ms, inference \d+ ms, network \d+ ms/);
  });

  it('is usable from the keyboard and every control has a label', async () => {
    const unlabeled = await page.$$eval('input, select', (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
    expect(unlabeled).toEqual([]);
    // Tab order reaches the drop zone, then the file input, which Space opens.
    await page.focus('#key');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('drop');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('file');
    const chooser = page.waitForEvent('filechooser', { timeout: 10_000 });
    await page.keyboard.press('Space');
    expect(await chooser).toBeTruthy();
  });

  it('compares two images by embedding: the same photo twice has cosine similarity 1', async () => {
    await page.setInputFiles('#emb-a', PHOTO);
    await page.setInputFiles('#emb-b', PHOTO);
    await page.click('#compare');
    await expect.poll(() => page.locator('#similarity').textContent(), { timeout: 20_000 }).toMatch(/cosine similarity (1\.0000|0\.999\d)/);
  });

  it('shows the API\'s error for a file that is not an image, without breaking the page', async () => {
    await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a png at all') });
    await expect.poll(() => page.locator('#results .error').textContent(), { timeout: 20_000 }).toBeTruthy();
  });

  it('works on a narrow screen (no horizontal scroll) and the browser never left loopback', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.setInputFiles('#file', PHOTO);
    await page.waitForSelector('#results .bar');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((e) => `${e.tagName}#${e.id}.${e.className}`).slice(0, 5));
    expect(overflow, `too wide: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'page-narrow.png'), fullPage: true });
    expect(requests.length).toBeGreaterThan(5);
    expect([...new Set(requests)].filter((h) => !h.startsWith('127.0.0.1:'))).toEqual([]);
  });
});

describe('GET /v1/models/:id/weights', () => {
  it('serves the ONNX with its sha256 as a strong ETag and immutable caching; If-None-Match -> 304', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'models', MODEL, 'manifest.json'), 'utf8'));
    const res = await w.fetch(`/v1/models/${MODEL}/weights`, { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${manifest.onnx.sha256}"`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await res.arrayBuffer()).byteLength).toBe(manifest.onnx.bytes);
    const again = await w.fetch(`/v1/models/${MODEL}/weights`, { auth: false, headers: { 'if-none-match': `"${manifest.onnx.sha256}"` } });
    expect(again.status).toBe(304);
    expect((await w.fetch('/v1/models/nope/weights', { auth: false })).status).toBe(404);
  });
});
