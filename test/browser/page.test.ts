// The page at `/` (src/web/, built into .cache/web/ by scripts/build-web.mjs and served as static
// assets in front of the Worker, as wrangler.toml [assets] does) in real headless Chromium
// (Debian's, via playwright-core), against the Worker in workerd on loopback. Chromium is kept off
// the network: every host but 127.0.0.1 fails to resolve, and the test checks where it went.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, batchBindings } from '../support/batches';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT, SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const PHOTO = join(SHARED_DIR, 'images', 'n02097474_Tibetan_terrier.JPEG');
const OTHER = join(SHARED_DIR, 'images', 'n03662601_lifeboat.JPEG');
const MODEL = 'convmixer-cifar10';
/** A heavy-tier copy of MODEL, answered by a fake OIP v2 container in the Worker's outbound. */
const HEAVY = 'convmixer-heavy-test';
const HEAVY_LOGITS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 8]; // top 1: index 8
/** Set UPDATE_SCREENSHOT=1 to refresh docs/screenshot.png (the README's picture) from this run. */
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';

type Shown = Array<{ label: string; score: number }>;

let w: TestWorker;
let browser: Browser;
let page: Page;
const hosts = new Set<string>();
const log = (s: string) => console.log(`[page.test] ${s}`);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: bash scripts/setup-system.sh installs Debian's chromium`);
  // The whole app, batches included (D1, Queues, the UPLOADS bucket), behind the static assets.
  const heavyDir = join(ARTIFACTS, 'heavy-models');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', MODEL, 'manifest.json'), 'utf8'));
  mkdirSync(join(heavyDir, HEAVY), { recursive: true });
  copyFileSync(join(ROOT, 'models', MODEL, manifest.onnx.key.split('/').pop()), join(heavyDir, HEAVY, 'model.onnx'));
  writeFileSync(join(heavyDir, HEAVY, 'manifest.json'), JSON.stringify({ ...manifest, id: HEAVY, tier: 'heavy', onnx: { ...manifest.onnx, key: `models/${HEAVY}/model.onnx` } }));
  w = await startWorker({
    models: [MODEL, HEAVY], modelDirs: [heavyDir], port: 0, assets: true,
    vars: { BATCH_CHUNK_ITEMS: '2', CONTAINER_URL: 'https://container.test' },
    outbound: async (req) => {
      const url = new URL(req.url);
      if (url.host === 'container.test' && url.pathname === `/v2/models/${HEAVY}/infer`) {
        // One row per input (the image and its test-time views), the same logits in each.
        const len = Number(req.headers.get('inference-header-content-length'));
        const n = (JSON.parse(new TextDecoder().decode((await req.arrayBuffer()).slice(0, len))) as { inputs: Array<{ shape: number[] }> }).inputs[0]!.shape[0]!;
        const data = Array.from({ length: n }, () => HEAVY_LOGITS).flat();
        return new Response(JSON.stringify({ model_name: HEAVY, outputs: [{ name: manifest.outputs.logits, datatype: 'FP32', shape: [n, 10], data }] }), { headers: { 'content-type': 'application/json' } });
      }
      return new Response('no network here', { status: 599 });
    },
    miniflare: batchBindings(2),
  });
  await applyMigrations((await w.mf.getD1Database('DB')) as unknown as D1Database);
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--disable-background-networking',
      '--no-first-run', '--disable-component-update', '--disable-default-apps', '--disable-sync',
      // WebGPU without a GPU: SwiftShader's Vulkan, when this Chromium build can use it.
      '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.on('response', (r) => { if (r.status() >= 400) log(`HTTP ${r.status()} ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
  page.on('request', (r) => { if (/^(https?|wss?):/.test(r.url())) hosts.add(new URL(r.url()).host); }); // blob:/data: are local
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => { await browser?.close(); await w?.dispose(); });

const bars = (): Promise<Shown> => page.$$eval('#results .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label!, score: Number((r as HTMLElement).dataset.score) })));
const timings = (): Promise<Record<string, string>> => page.$$eval('#timings dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent ?? ''])));

async function open() {
  await page.goto(w.url.href);
  await page.waitForSelector('body[data-models="ready"]');
}

/** Picks where to run, sends PHOTO through the file input, waits for the bars (or an error). */
async function classify(where: 'api' | 'wasm' | 'webgpu', photo = PHOTO): Promise<{ shown: Shown; ran: string; where: string; timings: Record<string, string> }> {
  await page.setChecked('#local', where !== 'api');
  if (where !== 'api') await page.selectOption('#ep', where);
  await page.evaluate(() => { delete document.body.dataset.result; });
  await page.setInputFiles('#file', []); // the same file again would fire no change event
  await page.setInputFiles('#file', photo);
  await page.waitForSelector('body[data-result]', { timeout: 90_000 });
  if (await page.evaluate(() => document.body.dataset.result) === 'error') throw new Error(`the page showed an error: ${await page.locator('#results').textContent()}`);
  return { shown: await bars(), ran: (await page.evaluate(() => document.body.dataset.ran))!, where: (await page.locator('#ran').textContent())!, timings: await timings() };
}

async function api(photo = PHOTO): Promise<Shown> {
  const res = await w.fetch(`/v1/classify?model=${MODEL}&top_k=5`, { method: 'POST', body: readFileSync(photo), headers: { 'content-type': 'image/jpeg' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: Array<{ predictions: Shown }> }).results[0]!.predictions;
}

const maxDiff = (a: Shown, b: Shown) => Math.max(...a.map((s, i) => Math.abs(s.score - b[i]!.score)));

describe('the page, through the API', () => {
  it('is served as a static asset at / and lists the models with the default selected', async () => {
    const res = await fetch(w.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('<script type="module" src="/assets/app.js">');
    await open();
    expect(await page.locator('#model').inputValue()).toBe(MODEL);
    expect(await page.locator('#key').inputValue()).toBe('edge-vit-dev-key');
  });

  it('classifies a real photo and shows exactly the API\'s top 5, where it ran and the latency split', async () => {
    const r = await classify('api');
    const ref = await api();
    expect(r.ran).toBe('edge-wasm');
    expect(r.shown.map((s) => s.label)).toEqual(ref.map((p) => p.label));
    expect(maxDiff(r.shown, ref)).toBeLessThan(1e-4);
    expect(r.where).toBe(`${MODEL} ran on the edge Worker.`);
    for (const k of ['decode', 'preprocess', 'inference', 'network']) expect(r.timings[k], k).toMatch(/^\d+ ms$/);
    log(`API via the page: top-1 ${r.shown[0]!.label} ${r.shown[0]!.score.toFixed(4)}; ${JSON.stringify(r.timings)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'page-api.png'), fullPage: true });
  });

  it('says when a heavy-tier model ran on the heavy container', async () => {
    await page.selectOption('#model', HEAVY);
    expect(await page.locator('#model-help').textContent()).toMatch(/through the API it runs in the heavy container/);
    const r = await classify('api');
    expect(r.ran).toBe('container');
    expect(r.where).toBe(`${HEAVY} ran on the heavy container.`);
    const labels = JSON.parse(readFileSync(join(ROOT, 'models', MODEL, 'manifest.json'), 'utf8')).labels as string[];
    expect(r.shown[0]!.label).toBe(labels[8]);
    for (const k of ['decode', 'preprocess', 'inference', 'network']) expect(r.timings[k], k).toMatch(/^\d+ ms$/);
    await page.selectOption('#model', MODEL);
  });

  it('takes an image by paste and by drag and drop', async () => {
    const b64 = readFileSync(OTHER).toString('base64');
    for (const how of ['paste', 'drop'] as const) {
      await page.evaluate(({ b64, how }) => {
        delete document.body.dataset.result;
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'lifeboat.jpg', { type: 'image/jpeg' }));
        if (how === 'paste') window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt }));
        else document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, { b64, how });
      await page.waitForSelector('body[data-result="ready"]', { timeout: 30_000 });
      expect((await bars()).map((s) => s.label), how).toEqual((await api(OTHER)).map((p) => p.label));
    }
  });

  it('shows the API\'s problem for a file that is not an image, as an alert, and recovers', async () => {
    await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a png at all') });
    await page.waitForSelector('body[data-result="error"]');
    expect(await page.locator('#results [role="alert"]').textContent()).toMatch(/not a JPEG, PNG or WebP/);
    expect((await classify('api')).shown).toHaveLength(5);
  });

  it('compares two images by embedding: the same photo twice is 1, two different photos less', async () => {
    await page.setInputFiles('#emb-a', PHOTO);
    await page.setInputFiles('#emb-b', PHOTO);
    await page.click('#compare');
    await expect.poll(() => page.locator('#similarity').textContent(), { timeout: 30_000 }).toMatch(/cosine similarity (1\.0000|0\.9999)/);
    await page.setInputFiles('#emb-b', OTHER);
    await page.click('#compare');
    await expect.poll(() => page.locator('#similarity').textContent(), { timeout: 30_000 }).toMatch(/cosine similarity 0\.\d{4}|cosine similarity -/);
    log(`embeddings: terrier vs lifeboat ${await page.locator('#similarity').textContent()}`);
    // The README's picture: the API's top 5 with its latency split, and a comparison.
    await page.screenshot({ path: join(ARTIFACTS, 'page-main.png'), fullPage: true });
    if (UPDATE_SCREENSHOT) copyFileSync(join(ARTIFACTS, 'page-main.png'), join(ROOT, 'docs', 'screenshot.png'));
  });

  it('every control has a label, and the keyboard reaches and opens the file picker', async () => {
    const unlabeled = await page.$$eval('input, select, output', (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
    expect(unlabeled).toEqual([]);
    await page.focus('#local');
    await page.keyboard.press('Space');
    expect(await page.isChecked('#local')).toBe(true);
    expect(await page.isEnabled('#ep')).toBe(true);
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('drop');
    // Enter on the drop zone clicks the file input (which opens the picker; whether Playwright sees
    // that chooser races with its interception, so the click itself is what is checked).
    await page.evaluate(() => document.getElementById('file')!.addEventListener('click', (e) => { e.preventDefault(); document.body.dataset.picker = 'opened'; }, { once: true }));
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.body.dataset.picker)).toBe('opened');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('file');
    expect(await page.getAttribute('#camera', 'capture')).toBe('environment');
  });
});

describe('in this browser (the Worker\'s decoders, preprocessing and postprocessing + onnxruntime-web)', () => {
  let ref: Shown;
  let wasm: Shown;

  it('WASM: the same top 5 as the API, scores within 1e-4; weights downloaded once', async () => {
    await open();
    ref = await api();
    const r = await classify('wasm');
    wasm = r.shown;
    const diff = maxDiff(wasm, ref);
    log(`in-browser WASM vs API: top-1 ${wasm[0]!.label} / ${ref[0]!.label}, max |score diff| over the top 5 = ${diff.toExponential(2)}; ${JSON.stringify(r.timings)}`);
    expect(r.ran).toBe('browser-wasm');
    expect(r.where).toMatch(/ran in this browser \(onnxruntime-web, WASM\)/);
    expect(wasm[0]!.label).toBe(ref[0]!.label);
    expect(wasm.map((s) => s.label)).toEqual(ref.map((s) => s.label));
    expect(diff).toBeLessThan(1e-4);
    expect(r.timings.network).toMatch(/weights/);
    await page.screenshot({ path: join(ARTIFACTS, 'page-in-browser-wasm.png'), fullPage: true });
  });

  it('WebGPU: logs which execution provider ran, and its parity with WASM when it was WebGPU', async () => {
    const r = await classify('webgpu');
    const diff = maxDiff(r.shown, wasm);
    log(`WebGPU request ran on: ${r.ran} (${r.where}); top-1 ${r.shown[0]!.label}; max |score diff| vs WASM = ${diff.toExponential(2)}`);
    expect(['browser-webgpu', 'browser-wasm']).toContain(r.ran);
    expect(r.shown[0]!.label).toBe(wasm[0]!.label);
    // WebGPU computes in a different order (and may use other kernels): looser, but still tight.
    expect(diff).toBeLessThan(r.ran === 'browser-webgpu' ? 1e-3 : 1e-6);
    await page.screenshot({ path: join(ARTIFACTS, `page-in-browser-${r.ran}.png`), fullPage: true });
  });

  it('without WebGPU the page says why and runs on WASM with the same scores', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    const p2 = await ctx.newPage();
    await p2.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    await p2.goto(w.url.href);
    await p2.waitForSelector('body[data-models="ready"]');
    await p2.setChecked('#local', true);
    await p2.selectOption('#ep', 'webgpu');
    await p2.setInputFiles('#file', PHOTO);
    await p2.waitForSelector('body[data-result="ready"]', { timeout: 60_000 });
    expect(await p2.evaluate(() => document.body.dataset.ran)).toBe('browser-wasm');
    expect(await p2.locator('#ran').textContent()).toMatch(/WASM\); WebGPU not used: this browser has no navigator\.gpu/);
    const shown = await p2.$$eval('#results .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label!, score: Number((r as HTMLElement).dataset.score) })));
    expect(maxDiff(shown, wasm)).toBe(0);
    await ctx.close();
  });

  it('after a reload the weights come from the browser\'s HTTP cache, not the network', async () => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const seen: Array<{ status: number; fromDiskCache: boolean }> = [];
    cdp.on('Network.responseReceived', (e) => {
      if (e.response.url.endsWith('/weights')) seen.push({ status: e.response.status, fromDiskCache: !!e.response.fromDiskCache });
    });
    await open();
    const r = await classify('wasm');
    log(`weights after reload: devtools ${JSON.stringify(seen)}; page: ${r.timings.network}`);
    expect(r.timings.network).toMatch(/from the browser cache/);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.fromDiskCache || s.status === 304)).toBe(true);
    await cdp.detach();
  });
});

describe('batch view', () => {
  it('a folder of images -> uploaded, one batch, progress to the end, the API\'s predictions, JSONL download', async () => {
    const folder = join(ARTIFACTS, 'batch-folder');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    const photos = [PHOTO, OTHER, join(SHARED_DIR, 'images', 'n03796401_moving_van.JPEG')];
    photos.forEach((p, i) => copyFileSync(p, join(folder, `${i}-${p.split('/').pop()}`)));
    writeFileSync(join(folder, 'notes.txt'), 'not an image: the page leaves it out');
    await page.setViewportSize({ width: 1100, height: 1000 });
    await open();
    await page.setInputFiles('#batch-folder', folder);
    await page.click('#batch-submit');
    await page.waitForSelector('body[data-batch]', { timeout: 90_000 });
    const status = await page.evaluate(() => document.body.dataset.batch);
    expect(status, await page.locator('#batch-status').textContent() ?? '').toBe('completed');
    expect(await page.$eval('#batch-progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([3, 3]);
    const rows = await page.$$eval('#batch-results tbody tr', (trs) => trs.map((tr) => ({ id: (tr as HTMLElement).dataset.id!, label: (tr as HTMLElement).dataset.label!, score: Number((tr as HTMLElement).dataset.score) })));
    expect(rows).toHaveLength(3);
    for (const [i, p] of photos.entries()) {
      const ref = (await api(p))[0]!;
      expect(rows[i]!.id).toBe(`batch-folder/${i}-${p.split('/').pop()}`);
      expect(rows[i]!.label).toBe(ref.label);
      expect(Math.abs(rows[i]!.score - ref.score)).toBeLessThan(1e-6);
    }
    log(`batch: ${await page.locator('#batch-status').textContent()} ${JSON.stringify(rows.map((r) => r.label))}`);
    await page.screenshot({ path: join(ARTIFACTS, 'page-batch.png'), fullPage: true });
    const download = page.waitForEvent('download');
    await page.click('#batch-download');
    const file = await (await download).path();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { idx: number; ok: boolean });
    expect(lines.map((l) => [l.idx, l.ok])).toEqual([[0, true], [1, true], [2, true]]);
  });
});

describe('narrow screens and the network', () => {
  it('has no horizontal scroll at 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 800 });
    await open();
    await classify('api');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((e) => `${e.tagName}#${e.id}.${e.className}`).slice(0, 5));
    expect(overflow, `too wide: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'page-narrow.png'), fullPage: true });
  });

  it('Chromium never left loopback', () => {
    log(`hosts contacted: ${[...hosts].join(', ')}`);
    expect(hosts.size).toBeGreaterThan(0);
    expect([...hosts].filter((h) => !h.startsWith('127.0.0.1:'))).toEqual([]);
  });
});
