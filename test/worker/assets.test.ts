// The web page through the Worker (wrangler.toml [assets] with run_worker_first, src/routes/assets.ts):
// GET/HEAD of the page's files, problem responses for everything else, API routes untouched.
import { join } from 'node:path';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPagePath } from '../../src/routes/assets';
import { expectProblem } from '../support/images';
import { captureLogs } from '../support/logs';
import { startWorker, type TestWorker } from '../support/worker';

const MODEL = 'convmixer-cifar10';
let w: TestWorker;
const logs = captureLogs();
beforeAll(async () => {
  // PUBLIC_READS=false: the page stays public (its own API calls carry the key), the API does not.
  w = await startWorker({ models: [MODEL], assets: true, vars: { DEFAULT_MODEL: MODEL, PUBLIC_READS: 'false', REQUEST_LOGS: 'true' }, miniflare: logs.miniflare });
});
afterAll(() => w?.dispose());

describe('the page', () => {
  it('is served by the Worker at / and /assets/* without a key', async () => {
    const page = await w.fetch('/', { auth: false });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('x-request-id')).toBeTruthy();
    expect(await page.text()).toContain('/assets/app.js');
    const js = await w.fetch('/assets/app.js', { auth: false });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const head = await w.fetch('/', { method: 'HEAD', auth: false });
    expect(head.status).toBe(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    // Page requests are logged like API requests, under a bounded route name.
    expect(await logs.request(js.headers.get('x-request-id'))).toMatchObject({ method: 'GET', route: '/assets/*', status: 200, outcome: 'ok', key_id: null });
  });

  it('answers a missing file with a not-found problem', async () => {
    await expectProblem(await w.fetch('/assets/no-such-file.js', { auth: false }), 404, 'not-found');
  });

  it('answers other methods with a 405 problem, also while a large body is still being sent (no connection reset)', async () => {
    const body = new Uint8Array(4 * 1024 * 1024).fill(7);
    for (let i = 0; i < 10; i++) {
      const res = await w.fetch('/', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, auth: false });
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      await expectProblem(res, 405, 'method-not-allowed');
      if (i === 0) expect(await logs.request(res.headers.get('x-request-id'))).toMatchObject({ route: '/', status: 405, outcome: 'method-not-allowed' });
    }
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/assets/app.js', '/index', '/index.html']) await expectProblem(await w.fetch(path, { method, auth: false }), 405, 'method-not-allowed');
    }
  });

  it('leaves the API to the API: keys still required, unknown paths still problems', async () => {
    await expectProblem(await w.fetch('/v1/models', { auth: false }), 401, 'unauthorized');
    expect((await w.fetch('/v1/models')).status).toBe(200);
    await expectProblem(await w.fetch('/no-such-page'), 404, 'not-found');
  });
});

describe('wrangler.toml run_worker_first', () => {
  it('lists exactly the paths the Worker serves from ASSETS', () => {
    const { workerOptions } = unstable_getMiniflareWorkerOptions(join(__dirname, '..', '..', 'wrangler.toml'));
    const patterns = (workerOptions.assets?.routerConfig as { static_routing?: { user_worker: string[] } }).static_routing!.user_worker;
    const asPath = (p: string) => p.replace(/\*$/, 'app.js');
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) expect(isPagePath(asPath(p)), p).toBe(true);
    const matches = (path: string) => patterns.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
    for (const path of ['/', '/index', '/index.html', '/assets/app.js', '/assets/ort/x.wasm', '/v1/classify', '/healthz', '/assets', '/indexx']) {
      expect(matches(path), path).toBe(isPagePath(path));
    }
  });
});
