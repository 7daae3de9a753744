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
  w = await startWorker({ models: [MODEL, `${MODEL}-int8`], port: 0, web: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--disable-background-networking', '--no-first-run',
      // WebGPU without a GPU: SwiftShader's Vulkan, if this Chromium build can use it.
      '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  page.on('response', (r) => { if (r.status() >= 400) console.log(`[chromium] ${r.status()} ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`[chromium ${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`[chromium pageerror] ${e.message}`));
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
    await page.focus('#where');
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

type Shown = Array<{ label: string; score: number }>;
const shownBars = () => page.$$eval('#results .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label!, score: Number((r as HTMLElement).dataset.score) })));

async function runOn(where: string): Promise<{ shown: Shown; ran: string }> {
  await page.selectOption('#where', where);
  await page.evaluate(() => { delete document.body.dataset.result; });
  await page.setInputFiles('#file', []); // the same file again would fire no change event
  await page.setInputFiles('#file', PHOTO);
  await page.waitForSelector('body[data-result="ready"], #results .error', { timeout: 60_000 }).catch(async (e) => {
    throw new Error(`${e.message}; page state: ${await page.locator('#results').innerHTML()} | ${await page.evaluate(() => JSON.stringify(document.body.dataset))}`);
  });
  const err = await page.locator('#results .error').count() ? await page.locator('#results .error').textContent() : null;
  if (err) throw new Error(`the page showed an error: ${err}`);
  return { shown: await shownBars(), ran: (await page.evaluate(() => document.body.dataset.ran))! };
}

describe('in-browser inference (the Worker\'s preprocessing + onnxruntime-web in Chromium)', () => {
  let api: Shown;
  let wasm: Shown;
  it('WASM: same top-1 as the API and scores within 1e-4', async () => {
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.goto(w.url.href);
    await page.waitForSelector('body[data-models="ready"]');
    api = (await runOn('api')).shown;
    const r = await runOn('wasm');
    wasm = r.shown;
    expect(r.ran).toBe('browser-wasm');
    const diff = Math.max(...wasm.map((s, i) => Math.abs(s.score - api[i]!.score)));
    console.log(`in-browser WASM vs API: top-1 ${wasm[0]!.label} / ${api[0]!.label}, max abs score diff over the top 5 ${diff.toExponential(2)}`);
    expect(wasm[0]!.label).toBe(api[0]!.label);
    expect(wasm.map((s) => s.label)).toEqual(api.map((s) => s.label));
    expect(diff).toBeLessThan(1e-4);
    await page.screenshot({ path: join(ARTIFACTS, 'page-in-browser-wasm.png'), fullPage: true });
  });

  it('WebGPU: reports which execution provider ran, and its parity with WASM when it ran', async () => {
    const r = await runOn('webgpu');
    const gpu = r.shown;
    const diff = Math.max(...gpu.map((s, i) => Math.abs(s.score - wasm[i]!.score)));
    console.log(`WebGPU request ran on: ${r.ran}; top-1 ${gpu[0]!.label}; max abs score diff vs WASM ${diff.toExponential(2)}`);
    expect(['browser-webgpu', 'browser-wasm']).toContain(r.ran);
    expect(gpu[0]!.label).toBe(wasm[0]!.label);
    expect(diff).toBeLessThan(r.ran === 'browser-webgpu' ? 1e-3 : 1e-6);
  });

  it('after a reload the weights come from the browser cache, not the network', async () => {
    // Chromium's own view of where each response came from (DevTools protocol).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const fetched: Array<{ status: number; cached: boolean }> = [];
    cdp.on('Network.responseReceived', (e) => {
      if (e.response.url.endsWith('/weights')) fetched.push({ status: e.response.status, cached: !!(e.response.fromDiskCache || e.response.fromPrefetchCache) });
    });
    cdp.on('Network.requestServedFromCache', () => fetched.push({ status: 0, cached: true }));
    await page.reload();
    await page.waitForSelector('body[data-models="ready"]');
    await runOn('wasm');
    const served = await w.fetch(`/v1/models/${MODEL}/weights`, { auth: false, method: 'HEAD' }); // the Worker is still up
    expect(served.status).toBeLessThan(500);
    console.log(`weights responses after reload: ${JSON.stringify(fetched)}`);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.every((f) => f.cached || f.status === 304)).toBe(true);
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
