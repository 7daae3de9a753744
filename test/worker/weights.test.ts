// GET /v1/models/:id/weights in workerd: the ONNX the page downloads for in-browser inference.
// Content-addressed (ETag = the manifest's sha256), cacheable forever, 304 on If-None-Match, and
// checked against the sha256 while it streams.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { ROOT } from '../../scripts/lib/local-models.mjs';

const MODEL = 'convmixer-cifar10';
const manifest = JSON.parse(readFileSync(join(ROOT, 'models', MODEL, 'manifest.json'), 'utf8')) as { onnx: { key: string; sha256: string; bytes: number } };
const onnx = readFileSync(join(ROOT, 'models', MODEL, manifest.onnx.key.split('/').pop()!));
const ETAG = `"${manifest.onnx.sha256}"`;
const path = `/v1/models/${MODEL}/weights`;

let w: TestWorker;
beforeAll(async () => { w = await startWorker({ models: [MODEL] }); });
afterAll(async () => { await w?.dispose(); });

describe('GET /v1/models/:id/weights', () => {
  it('streams the exact ONNX file with its sha256 as a strong ETag and immutable caching, without a key', async () => {
    const res = await w.fetch(path, { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(ETAG);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(manifest.onnx.bytes));
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(manifest.onnx.bytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(manifest.onnx.sha256);
    expect(body.equals(onnx)).toBe(true);
  });

  it('answers If-None-Match with 304 and no body: exact tag, weak form, in a list, and *', async () => {
    for (const inm of [ETAG, `W/${ETAG}`, `"0000", ${ETAG}`, '*']) {
      const res = await w.fetch(path, { auth: false, headers: { 'if-none-match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get('etag')).toBe(ETAG);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
    const other = await w.fetch(path, { auth: false, headers: { 'if-none-match': '"not-the-sha"' } });
    expect(other.status).toBe(200);
    expect((await other.arrayBuffer()).byteLength).toBe(manifest.onnx.bytes);
  });

  it('HEAD gives the headers without the body', async () => {
    const res = await w.fetch(path, { auth: false, method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(ETAG);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('an unknown model is a 404 problem', async () => {
    const res = await w.fetch('/v1/models/no-such-model/weights', { auth: false });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await res.json()) as { type: string }).type).toBe('https://edge-vit.dev/problems/unknown-model');
  });

  it('is in the OpenAPI document next to the other model routes', async () => {
    const doc = (await (await w.fetch('/openapi.json', { auth: false })).json()) as { paths: Record<string, { get?: { responses: Record<string, { headers?: Record<string, unknown> }> } }> };
    const op = doc.paths['/v1/models/{id}/weights']?.get;
    expect(op).toBeTruthy();
    expect(Object.keys(op!.responses).sort()).toEqual(['200', '304', '404']);
    expect(Object.keys(op!.responses['200']!.headers ?? {})).toEqual(expect.arrayContaining(['ETag', 'Cache-Control']));
    expect(doc.paths['/v1/models/{id}']).toBeTruthy();
  });

  it('weights that no longer match the sha256 never arrive whole (the body ends short, with an error)', async () => {
    const tampered = new Uint8Array(onnx);
    tampered[tampered.length - 10] ^= 0xff; // same size, different bytes
    await w.bucket.put(manifest.onnx.key, tampered);
    try {
      const res = await w.fetch(path, { auth: false });
      expect(res.status).toBe(200); // headers go out before the last byte is hashed
      const got = await res.arrayBuffer().then((b) => b.byteLength, (e: Error) => e);
      // Either the read fails, or it stops before Content-Length: never the whole tampered file.
      if (typeof got === 'number') expect(got).toBeLessThan(manifest.onnx.bytes);
      else expect(got).toBeInstanceOf(Error);
    } finally {
      await w.bucket.put(manifest.onnx.key, new Uint8Array(onnx));
    }
    const healed = await w.fetch(path, { auth: false });
    expect((await healed.arrayBuffer()).byteLength).toBe(manifest.onnx.bytes);
  });
});

describe('with PUBLIC_READS=false', () => {
  let priv: TestWorker;
  beforeAll(async () => { priv = await startWorker({ models: [MODEL], vars: { PUBLIC_READS: 'false' } }); });
  afterAll(async () => { await priv?.dispose(); });

  it('needs a key like the other model reads', async () => {
    expect((await priv.fetch(path, { auth: false })).status).toBe(401);
    const res = await priv.fetch(path);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(manifest.onnx.bytes);
  });
});
