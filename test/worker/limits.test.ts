// Abuse limits and model integrity, in workerd: per-key rate limit, JSON nesting, tampered
// weights, and the edge tier's model-size budget.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const MODEL = 'convmixer-cifar10';
const photo = new Uint8Array(readFileSync(join(SHARED_DIR, 'images', 'n01440764_tench.JPEG')));
let w: TestWorker;
beforeAll(async () => {
  w = await startWorker({ models: [MODEL], keys: [{ key: 'slow-key', id: 'slow', scopes: ['classify'], rate_limit: { per_minute: 6, burst: 2 } }] });
});
afterAll(async () => { await w?.dispose(); });

async function problem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = (await res.json()) as { type: string; detail: string };
  expect(body.type).toBe(`https://edge-vit.dev/problems/${type}`);
  return body;
}

describe('per-key rate limit', () => {
  it('a burst of 2 then 429 rate-limited with Retry-After; another key is unaffected', async () => {
    const send = (key: string) => w.fetch('/v1/classify', { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${key}` } });
    expect((await send('slow-key')).status).toBe(200);
    expect((await send('slow-key')).status).toBe(200);
    const limited = await send('slow-key');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await problem(limited, 429, 'rate-limited');
    expect((await send('edge-vit-dev-key')).status).toBe(200);
  });
});

describe('per-address limit on requests without a valid key (Workers Rate Limiting binding)', () => {
  it('keyless requests and unknown keys count per cf-connecting-ip; past the limit a 429 (before the KV read: test/unit/keys.test.ts); known keys are not counted', async () => {
    const lw = await startWorker({ models: [MODEL], miniflare: { ratelimits: { ANON_RATE_LIMIT: { simple: { limit: 3, period: 60 } } } } });
    try {
      const from = (ip: string, init: RequestInit & { auth?: boolean } = {}) => lw.fetch('/v1/models', { ...init, headers: { 'cf-connecting-ip': ip, ...(init.headers as Record<string, string>) } });
      // A valid key's first use in this isolate needs a KV read, so it counts (1); once seen valid
      // it is never counted again.
      expect((await from('198.51.100.1')).status).toBe(200);
      expect((await from('198.51.100.1', { auth: false })).status).toBe(200); // public read: 2
      expect((await from('198.51.100.1', { headers: { authorization: 'Bearer guessed-1' } })).status).toBe(401); // unknown key: 3
      const limited = await from('198.51.100.1', { headers: { authorization: 'Bearer guessed-2' } });
      expect(limited.headers.get('retry-after')).toBe('60');
      await problem(limited, 429, 'rate-limited');
      await problem(await from('198.51.100.1', { auth: false }), 429, 'rate-limited');
      await problem(await lw.fetch('/', { headers: { 'cf-connecting-ip': '198.51.100.1' }, auth: false }), 429, 'rate-limited');
      for (let i = 0; i < 5; i++) expect((await from('198.51.100.1')).status).toBe(200); // the known key
      expect((await from('203.0.113.5', { auth: false })).status).toBe(200); // another address
    } finally {
      await lw.dispose();
    }
  });
});

describe('JSON nesting', () => {
  it('a body nested deeper than MAX_JSON_DEPTH is refused before parsing: 400 invalid-request', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const body = await problem(await w.fetch('/v1/classify', { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } }), 400, 'invalid-request');
    expect(body.detail).toContain('deeper than 32 levels');
  });

  it('brackets inside strings do not count', async () => {
    const res = await w.fetch('/v1/classify', { method: 'POST', body: JSON.stringify({ image: Buffer.from(photo).toString('base64'), note: '[[[['.repeat(50) }), headers: { 'content-type': 'application/json' } });
    // An unknown field is refused by the schema or ignored; either way it is not the depth check.
    const text = await res.text();
    expect(text).not.toContain('deeper than');
  });
});

describe('model integrity', () => {
  it('weights that do not match the manifest\'s sha256 are refused: 503 model-unavailable', async () => {
    const t = await startWorker({ models: [MODEL] });
    try {
      const original = await t.bucket.get(`models/${MODEL}/model.onnx`);
      const bytes = new Uint8Array(await original!.arrayBuffer());
      bytes[bytes.length - 1] ^= 0xff; // one bit pattern changed at the end
      await t.bucket.put(`models/${MODEL}/model.onnx`, bytes);
      const body = await problem(await t.fetch(`/v1/classify?model=${MODEL}`, { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } }), 503, 'model-unavailable');
      expect(body.detail).toContain('fail verification');
    } finally {
      await t.dispose();
    }
  });

  it('an edge-tier model over EDGE_MAX_MODEL_BYTES is refused from its manifest', async () => {
    const t = await startWorker({ models: [MODEL], vars: { EDGE_MAX_MODEL_BYTES: '1000000' } });
    try {
      const body = await problem(await t.fetch(`/v1/classify?model=${MODEL}`, { method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } }), 503, 'model-unavailable');
      expect(body.detail).toContain("over the edge tier's budget of 1000000");
    } finally {
      await t.dispose();
    }
  });
});
