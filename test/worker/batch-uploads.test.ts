// POST /v1/batches/uploads in workerd: how the web page's batch view gets a folder of images into
// the UPLOADS bucket, to submit them as r2_key items of a batch (the batch itself is covered by
// test/worker/batches.test.ts and, through the page, test/browser/page.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const MODEL = 'convmixer-cifar10';
const JPEG = readFileSync(join(SHARED_DIR, 'images', 'n02097474_Tibetan_terrier.JPEG'));
const JPEG2 = readFileSync(join(SHARED_DIR, 'images', 'n03662601_lifeboat.JPEG'));
const CLASSIFY_ONLY = 'evk_test_classify_only_0123456789abcdefghijkl';

let w: TestWorker;
let uploads: R2Bucket;
beforeAll(async () => {
  w = await startWorker({
    models: [MODEL],
    miniflare: { r2Buckets: { MODELS: 'edge-vit-models', UPLOADS: 'edge-vit-uploads' } },
    keys: [{ key: CLASSIFY_ONLY, id: 'k-classify', scopes: ['classify'] }],
  });
  uploads = (await w.mf.getR2Bucket('UPLOADS')) as unknown as R2Bucket;
});
afterAll(async () => { await w?.dispose(); });

const form = (...images: Buffer[]) => {
  const f = new FormData();
  images.forEach((b, i) => f.append('image', new Blob([b], { type: 'image/jpeg' }), `${i}.jpg`));
  return f;
};

describe('POST /v1/batches/uploads', () => {
  it('stores each image under batch-inputs/<owner>/ (outside the auto-tagged uploads/ prefix) and returns r2_keys in order', async () => {
    const res = await w.fetch('/v1/batches/uploads', { method: 'POST', body: form(JPEG, JPEG2) });
    expect(res.status).toBe(201);
    const { items } = (await res.json()) as { items: Array<{ r2_key: string; bytes: number; format: string }> };
    expect(items.map((i) => [i.bytes, i.format])).toEqual([[JPEG.length, 'jpeg'], [JPEG2.length, 'jpeg']]);
    const owners = new Set(items.map((i) => i.r2_key.split('/')[1]));
    expect(owners.size).toBe(1);
    for (const [i, item] of items.entries()) {
      expect(item.r2_key).toMatch(/^batch-inputs\/[0-9a-f]{16}\/[0-9a-f-]{36}\.jpg$/);
      const obj = await uploads.get(item.r2_key);
      expect(Buffer.from(await obj!.arrayBuffer()).equals(i === 0 ? JPEG : JPEG2)).toBe(true);
      expect(obj!.httpMetadata?.contentType).toBe('image/jpeg');
    }
  });

  it('takes one raw image body too', async () => {
    const res = await w.fetch('/v1/batches/uploads', { method: 'POST', body: JPEG, headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('refuses what is not a JPEG, PNG or WebP by its bytes, storing nothing', async () => {
    const before = (await uploads.list()).objects.length;
    const res = await w.fetch('/v1/batches/uploads', { method: 'POST', body: form(JPEG, Buffer.from('not an image at all')) });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { type: string }).type).toBe('https://edge-vit.dev/problems/unsupported-media-type');
    expect((await uploads.list()).objects.length).toBe(before);
  });

  it('needs a key with the batches scope', async () => {
    expect((await w.fetch('/v1/batches/uploads', { method: 'POST', body: form(JPEG), auth: false })).status).toBe(401);
    const res = await w.fetch('/v1/batches/uploads', { method: 'POST', body: form(JPEG), headers: { authorization: `Bearer ${CLASSIFY_ONLY}` } });
    expect(res.status).toBe(403);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await w.fetch('/openapi.json', { auth: false })).json()) as { paths: Record<string, { post?: unknown }> };
    expect(doc.paths['/v1/batches/uploads']?.post).toBeTruthy();
  });
});

describe('without an UPLOADS bucket', () => {
  it('answers 503 batches-unavailable', async () => {
    const bare = await startWorker({ models: [MODEL] });
    try {
      const res = await bare.fetch('/v1/batches/uploads', { method: 'POST', body: form(JPEG) });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { type: string }).type).toBe('https://edge-vit.dev/problems/batches-unavailable');
    } finally {
      await bare.dispose();
    }
  });
});
