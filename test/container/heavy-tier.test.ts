// The heavy tier end to end: the Worker in workerd routes a heavy-tier model to the companion
// container (a real process on loopback) over OIP v2, and fails cleanly when it is down or slow.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Response as MfResponse, type Request as MfRequest } from 'miniflare';
import { heavyCopy, heavyFp16Copy, startContainer, type ContainerProcess } from '../support/container';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const EDGE = 'convmixer-cifar10';
const { dir, heavyId } = heavyCopy(EDGE);
const { fp16Id } = heavyFp16Copy(EDGE, dir);
const photos = readdirSync(join(SHARED_DIR, 'images')).filter((f) => f.endsWith('.JPEG')).slice(0, 6)
  .map((f) => new Uint8Array(readFileSync(join(SHARED_DIR, 'images', f))));

let c: ContainerProcess;
let w: TestWorker;
let mode: 'forward' | 'down' | 'slow' = 'forward';
const dialled: string[] = [];

// The Worker's outbound fetches: only the configured container host is forwarded, to loopback.
async function outbound(req: MfRequest): Promise<MfResponse> {
  const url = new URL(req.url);
  dialled.push(url.host);
  if (url.host !== 'container.test') return new MfResponse('not allowed in this test', { status: 599 });
  if (mode === 'down') throw new Error('connect ECONNREFUSED');
  // Read the request first: a slow container is slow to answer, not to take the upload (an
  // unread body of a timed-out attempt would hold up Miniflare's outbound channel for the retry).
  const body = req.method === 'POST' ? new Uint8Array(await req.arrayBuffer()) : undefined;
  if (mode === 'slow') await new Promise((r) => setTimeout(r, 1500));
  const res = await fetch(c.url + url.pathname + url.search, {
    method: req.method, headers: Object.fromEntries(req.headers as unknown as Iterable<[string, string]>), body,
  });
  return new MfResponse(new Uint8Array(await res.arrayBuffer()), { status: res.status, headers: Object.fromEntries(res.headers) });
}

beforeAll(async () => {
  c = await startContainer({ MODELS_DIRS: dir });
  w = await startWorker({
    models: [EDGE, heavyId, fp16Id], modelDirs: [dir], outbound,
    // The breaker is kept out of the way here (its own test below) so that the down and slow cases
    // exercise the connection error and the timeout, not an already open circuit.
    vars: { CONTAINER_URL: 'http://container.test', CONTAINER_TIMEOUT_MS: '800', CONTAINER_RETRIES: '1', BREAKER_THRESHOLD: '1000' },
  });
});
afterAll(async () => { await w?.dispose(); await c?.stop(); rmSync(dir, { recursive: true, force: true }); });

async function classify(model: string, extra = '') {
  const form = new FormData();
  for (const p of photos) form.append('image', new Blob([p], { type: 'image/jpeg' }), 'p.jpg');
  return w.fetch(`/v1/classify?model=${model}&top_k=3&logits=true${extra}`, { method: 'POST', body: form });
}
type Classified = { backend: string; model: { id: string }; fallback?: { from: string; to: string }; results: Array<{ logits: number[]; predictions: Array<{ index: number }> }> };

describe('heavy-tier models run in the container', () => {
  it('classify: same logits as the edge backend on the same ONNX (max abs diff <= 1e-4)', async () => {
    mode = 'forward';
    const heavy = await classify(heavyId);
    expect(heavy.status, await heavy.clone().text()).toBe(200);
    const h = (await heavy.json()) as Classified;
    const e = (await (await classify(EDGE)).json()) as Classified;
    expect(h.backend).toBe('container');
    expect(e.backend).toBe('edge-wasm');
    let maxDiff = 0;
    h.results.forEach((r, i) => {
      expect(r.predictions[0]!.index).toBe(e.results[i]!.predictions[0]!.index);
      r.logits.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - e.results[i]!.logits[k]!)); });
    });
    console.log(`container vs edge: max abs logit diff ${maxDiff.toExponential(2)} over ${photos.length} photos`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('embed: the container returns the pooled embedding, equal to the edge one', async () => {
    const form = () => { const f = new FormData(); f.append('image', new Blob([photos[0]!], { type: 'image/jpeg' }), 'p.jpg'); return f; };
    const h = await (await w.fetch(`/v1/embed?model=${heavyId}`, { method: 'POST', body: form() })).json() as { results: Array<{ embedding: number[]; dim: number }> };
    const e = await (await w.fetch(`/v1/embed?model=${EDGE}`, { method: 'POST', body: form() })).json() as typeof h;
    expect(h.results[0]!.dim).toBe(256);
    h.results[0]!.embedding.forEach((v, i) => expect(Math.abs(v - e.results[0]!.embedding[i]!)).toBeLessThan(1e-4));
  });

  it('fp16 graph: the Worker sends FP16 tensors, the container returns FP32 logits close to the fp32 edge ones', async () => {
    mode = 'forward';
    const meta = await (await fetch(`${c.url}/v2/models/${fp16Id}`)).json();
    expect(meta.inputs).toEqual([{ name: 'pixel_values', datatype: 'FP16', shape: [-1, 3, 32, 32] }]);
    const json = await fetch(`${c.url}/v2/models/${fp16Id}/infer`, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'pixel_values', datatype: 'FP16', shape: [1, 3, 32, 32], data: Array(3072).fill(0) }] }),
    });
    expect(json.status).toBe(400);
    expect((await json.json()).error).toMatch(/FP16 inputs must use the binary data extension/);

    const h = (await (await classify(fp16Id)).json()) as Classified;
    const e = (await (await classify(EDGE)).json()) as Classified;
    expect(h.backend).toBe('container');
    let maxDiff = 0, scale = 0;
    h.results.forEach((r, i) => {
      expect(r.predictions[0]!.index).toBe(e.results[i]!.predictions[0]!.index);
      r.logits.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - e.results[i]!.logits[k]!)); scale = Math.max(scale, Math.abs(e.results[i]!.logits[k]!)); });
    });
    console.log(`fp16 container vs fp32 edge: max abs logit diff ${maxDiff.toExponential(2)} (max |logit| ${scale.toFixed(1)}) over ${photos.length} photos`);
    expect(maxDiff).toBeLessThanOrEqual(2e-2 * Math.max(1, scale)); // the zoo exporter's own fp16 tolerance
  });

  it('container down -> 503 model-unavailable with Retry-After, and fallback=edge serves the edge variant', async () => {
    mode = 'down';
    const res = await classify(heavyId);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { type: string }).type).toMatch(/model-unavailable$/);

    const fb = await classify(heavyId, '&fallback=edge');
    expect(fb.status).toBe(200);
    const body = (await fb.json()) as Classified;
    expect(body.model.id).toBe(EDGE);
    expect(body.backend).toBe('edge-wasm');
    expect(body.fallback).toMatchObject({ from: heavyId, to: EDGE });
  });

  it('container slower than CONTAINER_TIMEOUT_MS -> 503 model-unavailable with Retry-After after the bounded retries, not a hang', async () => {
    mode = 'slow';
    try {
      const before = dialled.length;
      const t = performance.now();
      const res = await classify(heavyId);
      const took = performance.now() - t;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const problem = (await res.json()) as { type: string; detail: string };
      expect(problem.type).toMatch(/model-unavailable$/);
      expect(problem.detail).toMatch(/timed out after 800 ms/);
      expect(dialled.length - before).toBe(2); // CONTAINER_RETRIES=1: two attempts
      expect(took).toBeGreaterThanOrEqual(1500);
      expect(took).toBeLessThan(10_000);

      const fb = await classify(heavyId, '&fallback=edge');
      expect(fb.status).toBe(200);
      const body = (await fb.json()) as Classified & { fallback: { reason: string } };
      expect(body.backend).toBe('edge-wasm');
      expect(body.fallback).toMatchObject({ from: heavyId, to: EDGE });
      expect(body.fallback.reason).toMatch(/timed out/);
    } finally {
      mode = 'forward';
    }
  });

  it('circuit breaker: after BREAKER_THRESHOLD failures the container is not dialled until the cooldown', async () => {
    let calls = 0;
    const wb = await startWorker({
      models: [heavyId], modelDirs: [dir],
      outbound: () => { calls++; throw new Error('connect ECONNREFUSED'); },
      vars: { CONTAINER_URL: 'http://container.test', CONTAINER_TIMEOUT_MS: '800', CONTAINER_RETRIES: '1', BREAKER_THRESHOLD: '2', BREAKER_COOLDOWN_MS: '60000' },
    });
    try {
      const form = () => { const f = new FormData(); f.append('image', new Blob([photos[0]!], { type: 'image/jpeg' }), 'p.jpg'); return f; };
      const first = await wb.fetch(`/v1/classify?model=${heavyId}`, { method: 'POST', body: form() });
      expect(first.status).toBe(503);
      expect(calls).toBe(2);
      const second = await wb.fetch(`/v1/classify?model=${heavyId}`, { method: 'POST', body: form() });
      expect(second.status).toBe(503);
      expect(calls).toBe(2); // the open circuit answered without dialling
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(((await second.json()) as { detail: string }).detail).toMatch(/circuit open/);
    } finally {
      await wb.dispose();
    }
  });

  it('the Worker dialled nothing but the container', () => {
    expect(new Set(dialled)).toEqual(new Set(['container.test']));
  });
});
