// Every shipped edge-tier model must fit an isolate: ORT's WebAssembly linear memory after the
// session loaded and ran (it never shrinks, so it is the peak) plus the ONNX bytes held while the
// session was created stays under 100 MiB (Cloudflare isolates have 128 MB). Each model gets a
// fresh Worker, so the figure is that model's alone. Read through the bench route, in workerd.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWorker } from '../support/worker';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

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
