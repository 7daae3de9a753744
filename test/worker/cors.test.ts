// CORS (src/routes/cors.ts, wrangler.toml CORS_ALLOW_ORIGINS) through the real Worker in workerd:
// preflights need no key, every answer to a cross-origin request (problems included) carries the
// headers a browser needs to read it, and an allowlist answers only its own origins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, photo } from '../support/images';
import { startWorker, type TestWorker } from '../support/worker';

const MODEL = 'convmixer-cifar10';
const TENCH = photo('n01440764_tench.JPEG');
const APP = 'https://app.example';

const preflight = (w: TestWorker, origin: string) => w.fetch('/v1/classify', {
  method: 'OPTIONS', auth: false,
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
});
const classify = (w: TestWorker, origin: string, body: Uint8Array = TENCH, auth = true) =>
  w.fetch('/v1/classify', { method: 'POST', body, auth, headers: { origin, 'content-type': 'image/jpeg' } });

describe('CORS_ALLOW_ORIGINS="*" (wrangler.toml default)', () => {
  let w: TestWorker;
  beforeAll(async () => { w = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL } }); });
  afterAll(async () => { await w?.dispose(); });

  it('a preflight is answered without a key: 204 with methods, headers and max-age', async () => {
    const res = await preflight(w, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
  it('an OPTIONS that is not a preflight is an ordinary request: a key first', async () => {
    await expectProblem(await w.fetch('/v1/classify', { method: 'OPTIONS', auth: false }), 401, 'unauthorized');
  });
  it('a cross-origin classification carries the headers a page may read', async () => {
    const res = await classify(w, APP);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const exposed = res.headers.get('access-control-expose-headers')!.split(',');
    for (const h of ['x-request-id', 'server-timing', 'retry-after', 'ratelimit-remaining']) expect(exposed).toContain(h);
    expect(res.headers.get('server-timing')).toContain('infer');
    expect(res.headers.get('timing-allow-origin')).toBe('*'); // for the Resource Timing API
  });
  it('problems carry them too, so a page can read why it was refused', async () => {
    const noKey = await classify(w, APP, TENCH, false);
    expect(noKey.headers.get('access-control-allow-origin')).toBe('*');
    await expectProblem(noKey, 401, 'unauthorized');
    const broken = await classify(w, APP, TENCH.slice(0, 300));
    expect(broken.headers.get('access-control-allow-origin')).toBe('*');
    await expectProblem(broken, 422, 'image-decode-failed');
  });
});

describe('an allowlist, and CORS off', () => {
  it('CORS_ALLOW_ORIGINS lists origins: those get their own origin back, others none', async () => {
    const w = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, CORS_ALLOW_ORIGINS: `${APP}, https://other.example` } });
    try {
      const ok = await classify(w, APP);
      expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
      expect(ok.headers.get('vary')).toContain('Origin');
      expect(ok.headers.get('timing-allow-origin')).toBe(APP);
      expect((await preflight(w, 'https://other.example')).headers.get('access-control-allow-origin')).toBe('https://other.example');
      const evil = await classify(w, 'https://evil.example');
      expect(evil.status).toBe(200); // the browser, not the server, withholds the answer from that page
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      expect(evil.headers.get('timing-allow-origin')).toBeNull();
      expect((await preflight(w, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await w.dispose();
    }
  });
  it('CORS_ALLOW_ORIGINS="": no CORS headers, and OPTIONS is an ordinary request that needs a key', async () => {
    const w = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, CORS_ALLOW_ORIGINS: '' } });
    try {
      const res = await classify(w, APP);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      await expectProblem(await preflight(w, APP), 401, 'unauthorized');
    } finally {
      await w.dispose();
    }
  });
});
