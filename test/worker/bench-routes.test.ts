// The measurement routes `npm run bench` and `npm run bench:decoders` read (src/routes/bench.ts):
// absent unless BENCH_ROUTES=true, bounded arguments, and each one doing the work it names.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, PHOTOS, photo } from '../support/images';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { bigImage } from '../../scripts/lib/big-image.mjs';

const MODEL = 'convmixer-cifar10';
const TENCH = photo('n01440764_tench.JPEG');
const post = (w: TestWorker, path: string, body: Uint8Array | string = '') => w.fetch(path, { method: 'POST', body });

describe('bench routes', () => {
  let w: TestWorker;
  beforeAll(async () => { w = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, BENCH_ROUTES: 'true' } }); });
  afterAll(async () => { await w?.dispose(); });

  it('are not there without BENCH_ROUTES=true (wrangler.toml never sets it)', async () => {
    const plain = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL } });
    try {
      for (const path of ['/__bench/run', '/__bench/preprocess', '/__bench/sink', '/__bench/cold']) await expectProblem(await post(plain, path), 404, 'not-found');
    } finally {
      await plain.dispose();
    }
  });

  it('/__bench/run times n runs, with a decode or a 5 ms idle before each when asked', async () => {
    for (const between of ['', '&between=decode', '&between=idle']) {
      const t = performance.now();
      const res = await post(w, `/__bench/run?n=3${between}`, between === '&between=decode' ? TENCH : '');
      expect(res.status).toBe(200);
      const { ms, ort_memory_bytes } = (await res.json()) as { ms: number[]; ort_memory_bytes: number };
      expect(ms).toHaveLength(3);
      for (const x of ms) expect(x).toBeGreaterThanOrEqual(0);
      expect(ort_memory_bytes).toBeGreaterThan(0);
      if (between === '&between=idle') expect(performance.now() - t).toBeGreaterThanOrEqual(15); // three 5 ms timers
    }
  });

  it('/__bench/preprocess decodes in full, or reduced for reduce_to', async () => {
    const big = bigImage(join(PHOTOS, 'n01440764_tench.JPEG'), 2000, 1500, 'JPEG') as Uint8Array;
    const decoded = async (query: string) => {
      const res = await post(w, `/__bench/preprocess?n=2${query}`, big);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { ms: number[]; decoded: { width: number; height: number } };
      expect(body.ms).toHaveLength(2);
      return body.decoded;
    };
    expect(await decoded('')).toEqual({ width: 2000, height: 1500 });
    expect(await decoded('&reduce_to=32')).toEqual({ width: 250, height: 188 }); // 1/8: the smallest that keeps 32
    expect(await decoded('&reduce_to=700')).toEqual({ width: 1000, height: 750 }); // 1/2
  });

  it('/__bench/sink reads the body and answers its size; /__bench/cold creates a session', async () => {
    expect(await (await post(w, '/__bench/sink', TENCH)).json()).toEqual({ bytes: TENCH.byteLength });
    const cold = (await (await post(w, '/__bench/cold')).json()) as { ms: number };
    expect(cold.ms).toBeGreaterThan(0);
  });

  it('refuse arguments out of bounds with a problem, before any work', async () => {
    for (const q of ['n=0', 'n=1000000000', 'n=abc', 'n=2.5', 'between=sleep']) await expectProblem(await post(w, `/__bench/run?${q}`), 400, 'invalid-request');
    await expectProblem(await post(w, '/__bench/preprocess?reduce_to=-1', TENCH), 400, 'invalid-request');
  });
});
