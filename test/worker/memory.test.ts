// Every shipped edge-tier model must fit an isolate: ORT's WebAssembly linear memory after the
// session loaded and ran (it never shrinks, so it is the peak) plus the ONNX bytes held while the
// session was created stays under 100 MiB (Cloudflare isolates have 128 MB). Each model gets a
// fresh Worker, so the figure is that model's alone. Read through the bench route, in workerd.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEEP_CODEC_BYTES } from '../../src/images/codec-pool';
import { PHOTOS, photo } from '../support/images';
import { startWorker } from '../support/worker';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';
// @ts-ignore
import { bigImage } from '../../scripts/lib/big-image.mjs';

const BUDGET = 100 * 2 ** 20;
const shipped = readdirSync(join(ROOT, 'models'))
  .map((id) => JSON.parse(readFileSync(join(ROOT, 'models', id, 'manifest.json'), 'utf8')) as { id: string; tier: string; onnx: { bytes: number } })
  .filter((m) => m.tier === 'edge');

describe('isolate memory of the shipped edge models', () => {
  it.each(shipped.map((m) => [m.id, m] as const))('%s: ORT heap + model bytes < 100 MiB', async (_id, m) => {
    const w = await startWorker({ models: [m.id], vars: { BENCH_ROUTES: 'true' } });
    try {
      const res = await w.fetch(`/__bench/run?model=${m.id}&n=2`, { method: 'POST', body: '' });
      expect(res.status).toBe(200);
      const { ort_memory_bytes: heap } = (await res.json()) as { ort_memory_bytes: number };
      console.log(`${m.id}: ORT heap ${(heap / 2 ** 20).toFixed(0)} MiB + ONNX ${(m.onnx.bytes / 2 ** 20).toFixed(1)} MiB`);
      expect(heap).toBeGreaterThan(m.onnx.bytes); // the probe really read ORT's memory
      expect(heap + m.onnx.bytes).toBeLessThan(BUDGET);
    } finally {
      await w.dispose();
    }
  });
});

/** A phone-sized JPEG (4032x3024), made from a real photo by PIL. */
const phoneJpeg = () => bigImage(join(PHOTOS, 'n01440764_tench.JPEG'), 4032, 3024, 'JPEG') as Uint8Array;

describe('a phone photo through the API', () => {
  it('is decoded at 1/8 scale: mozjpeg never runs, and the answer matches the full decode', async () => {
    const big = phoneJpeg();
    const model = 'squeezenet1.1-imagenet'; // 224 px input: 4032x3024 / 8 = 504x378 still exceeds its 256 px resize
    const classify = async (w: Awaited<ReturnType<typeof startWorker>>) => {
      const res = await w.fetch(`/v1/classify?model=${model}&top_k=5`, { method: 'POST', body: big, headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).toBe(200);
      return (await res.json()) as { results: Array<{ predictions: Array<{ label: string; score: number }> }>; timings_ms: { decode: number } };
    };
    const reduced = await startWorker({ models: [model], vars: { BENCH_ROUTES: 'true' } });
    const full = await startWorker({ models: [model], vars: { BENCH_ROUTES: 'true', REDUCE_ABOVE_PIXELS: '0' } });
    try {
      const a = await classify(reduced), b = await classify(full);
      const codecs = async (w: typeof reduced) => ((await (await w.fetch('/__bench/codecs')).json()) as { codec_memory_bytes: { jpeg: number } }).codec_memory_bytes.jpeg;
      expect(await codecs(reduced)).toBe(0); // the WASM JPEG decoder was never instantiated
      expect(await codecs(full)).toBeGreaterThan(0);
      const [pa, pb] = [a.results[0]!.predictions, b.results[0]!.predictions];
      expect(pa[0]!.label).toBe('tench');
      expect(pa[0]!.label).toBe(pb[0]!.label);
      expect(Math.abs(pa[0]!.score - pb[0]!.score)).toBeLessThan(0.05);
      console.log(`4032x3024 JPEG: top-1 ${pa[0]!.label} ${pa[0]!.score.toFixed(4)} at 1/8 vs ${pb[0]!.score.toFixed(4)} in full; decode ${a.timings_ms.decode} vs ${b.timings_ms.decode} ms`);
    } finally {
      await reduced.dispose();
      await full.dispose();
    }
  });
});

describe('decoder memory after a large photo', () => {
  it('a 12 MP JPEG leaves no 48 MiB mozjpeg heap behind; the decoder is replaced right after', async () => {
    const big = phoneJpeg();
    const small = photo('n01440764_tench.JPEG');
    const w = await startWorker({ models: ['convmixer-cifar10'], vars: { BENCH_ROUTES: 'true' } });
    try {
      const jpegHeap = async (body: Uint8Array) => {
        const res = await w.fetch('/__bench/preprocess?n=1', { method: 'POST', body });
        expect(res.status).toBe(200);
        return ((await res.json()) as { codec_memory_bytes: { jpeg: number } }).codec_memory_bytes.jpeg;
      };
      const before = await jpegHeap(small);
      expect(before).toBeGreaterThan(0); // the probe reads mozjpeg's memory
      expect(before).toBeLessThan(KEEP_CODEC_BYTES);
      // Grown past the budget: replaced by a fresh instance right after the decode.
      const afterBig = await jpegHeap(big);
      expect(afterBig).toBeGreaterThan(0);
      expect(afterBig).toBeLessThan(KEEP_CODEC_BYTES);
      const after = await jpegHeap(small);
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThan(KEEP_CODEC_BYTES);
      console.log(`mozjpeg heap: ${(before / 2 ** 20).toFixed(1)} MiB for a 500x375 JPEG, ${(afterBig / 2 ** 20).toFixed(1)} MiB right after a 4032x3024 one, ${(after / 2 ** 20).toFixed(1)} MiB after the next`);
      const res = await w.fetch('/v1/classify', { method: 'POST', body: big, headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).toBe(200);
    } finally {
      await w.dispose();
    }
  });
});
