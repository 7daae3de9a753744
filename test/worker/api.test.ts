// The public API end to end in workerd: every route, every input form, the real photos.
// The model is the real ImageNet SqueezeNet registered through models:add (test global setup).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedImages, expectProblem, photo } from '../support/images';
import { startWorker, type TestWorker } from '../support/worker';
// @ts-ignore
import { parseServerTiming } from '../../scripts/lib/server-timing.mjs';
// @ts-ignore
import { bigImage } from '../../scripts/lib/big-image.mjs';
// @ts-ignore
import { SHARED_DIR } from '../../scripts/lib/local-models.mjs';

const MODEL = 'squeezenet1.1-imagenet';
let w: TestWorker;
const outbound: string[] = [];
const TENCH = photo('n01440764_tench.JPEG');
const SWAN = photo('n01860187_black_swan.JPEG');
let imgs: ReturnType<typeof derivedImages>;

beforeAll(async () => {
  imgs = derivedImages();
  w = await startWorker({
    vars: { DEFAULT_MODEL: MODEL },
    models: [MODEL],
    outbound: async (req) => {
      const url = new URL(req.url);
      outbound.push(url.href);
      if (url.hostname === 'cloudflare-dns.com') {
        const name = url.searchParams.get('name');
        const type = url.searchParams.get('type');
        const answer = name === 'images.example.com' && type === 'A' ? [{ name, type: 1, data: '93.184.216.34' }] : [];
        return new Response(JSON.stringify({ Status: 0, Answer: answer }), { headers: { 'content-type': 'application/dns-json' } });
      }
      if (url.href === 'https://images.example.com/tench.jpg') return new Response(TENCH, { headers: { 'content-type': 'image/jpeg' } });
      return new Response('nope', { status: 404 });
    },
  });
});
afterAll(async () => { await w?.dispose(); });

const post = (path: string, body: BodyInit, type?: string) =>
  w.fetch(path, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });

interface Classified { model: { id: string }; backend: string; results: Array<{ predictions: Array<{ label: string; index: number; score: number }> }>; timings_ms: Record<string, number> }

describe('health and discovery', () => {
  it('GET /healthz is alive', async () => {
    const res = await w.fetch('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
  it('GET /readyz loads the default model', async () => {
    const res = await w.fetch('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', model: MODEL });
  });
  it('GET /v1/models lists the registry with tier, size, bytes and sha256', async () => {
    const body = (await (await w.fetch('/v1/models')).json()) as { default: string; models: Array<Record<string, unknown>> };
    expect(body.default).toBe(MODEL);
    const m = body.models.find((x) => x.id === MODEL)!;
    expect(m).toMatchObject({ family: 'squeezenet', tier: 'edge', input_size: 224, num_labels: 1000, precision: 'fp16' });
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.bytes).toBeGreaterThan(1_000_000);
  });
  it('GET /v1/models/:id returns one model with its labels', async () => {
    const m = (await (await w.fetch(`/v1/models/${MODEL}`)).json()) as { labels: string[] };
    expect(m.labels).toHaveLength(1000);
    expect(m.labels[0]).toBe('tench');
  });
  it('GET /openapi.json documents the routes', async () => {
    const doc = (await (await w.fetch('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/v1/classify', '/v1/embed', '/v1/models', '/v1/models/{id}', '/healthz', '/readyz']) expect(doc.paths).toHaveProperty(p);
  });
});

describe('POST /v1/classify input forms', () => {
  it('raw image/jpeg body: a real photo of a tench is a tench', async () => {
    const res = await post('/v1/classify', TENCH, 'image/jpeg');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Classified;
    expect(body.model.id).toBe(MODEL);
    expect(body.backend).toBe('edge-wasm');
    expect(body.results).toHaveLength(1);
    const p = body.results[0]!.predictions;
    expect(p).toHaveLength(5);
    expect(p[0]).toMatchObject({ label: 'tench', index: 0 });
    for (let i = 1; i < p.length; i++) expect(p[i - 1]!.score).toBeGreaterThanOrEqual(p[i]!.score);
    for (const k of ['decode', 'preprocess', 'inference', 'total']) expect(typeof body.timings_ms[k]).toBe('number');
  });
  it('Server-Timing splits the Worker\'s time: app, auth, limit and the pipeline\'s stages', async () => {
    const res = await post('/v1/classify', TENCH, 'image/jpeg');
    const body = (await res.json()) as Classified;
    const timing = parseServerTiming(res.headers.get('server-timing'));
    expect(Object.keys(timing)).toEqual(['app', 'auth', 'limit', 'decode', 'preprocess', 'inference', 'pipeline']);
    expect(timing.inference).toBe(body.timings_ms.inference);
    expect(timing.pipeline).toBe(body.timings_ms.total);
    expect(timing.app).toBeGreaterThanOrEqual(timing.pipeline!);
    // A refusal before the key check passes: only the Worker's total.
    const refused = await w.fetch('/v1/classify', { method: 'POST', body: TENCH, headers: { 'content-type': 'image/jpeg' }, auth: false });
    expect(refused.status).toBe(401);
    expect(Object.keys(parseServerTiming(refused.headers.get('server-timing')))).toEqual(['app']);
  });
  it('multipart with several files: one result each, in order', async () => {
    const form = new FormData();
    form.append('image', new Blob([TENCH], { type: 'image/jpeg' }), 'a.jpg');
    form.append('image', new Blob([SWAN], { type: 'image/jpeg' }), 'b.jpg');
    form.append('top_k', '2');
    const body = (await (await w.fetch('/v1/classify', { method: 'POST', body: form })).json()) as Classified;
    expect(body.results.map((r) => r.predictions[0]!.label)).toEqual(['tench', 'black_swan']);
    expect(body.results[0]!.predictions).toHaveLength(2);
  });
  it('JSON base64 (and data: URL) gives the same scores as the raw body', async () => {
    const b64 = Buffer.from(TENCH).toString('base64');
    const raw = (await (await post('/v1/classify', TENCH, 'image/jpeg')).json()) as Classified;
    for (const image of [b64, `data:image/jpeg;base64,${b64}`]) {
      const body = (await (await post('/v1/classify', JSON.stringify({ image, top_k: 5 }), 'application/json')).json()) as Classified;
      expect(body.results[0]!.predictions).toEqual(raw.results[0]!.predictions);
    }
  });
  it('JSON url: fetched through the SSRF-safe fetcher after a DNS check', async () => {
    outbound.length = 0;
    const res = await post('/v1/classify', JSON.stringify({ url: 'https://images.example.com/tench.jpg' }), 'application/json');
    if (res.status !== 200) throw new Error(await res.text());
    const body = (await res.json()) as Classified;
    expect(body.results[0]!.predictions[0]!.label).toBe('tench');
    expect(outbound.some((u) => u.startsWith('https://cloudflare-dns.com/dns-query?name=images.example.com'))).toBe(true);
    expect(outbound).toContain('https://images.example.com/tench.jpg');
  });
  it('PNG and lossless WebP of the same pixels give identical scores to the JPEG', async () => {
    const jpeg = (await (await post('/v1/classify?top_k=10', TENCH, 'image/jpeg')).json()) as Classified;
    for (const [bytes, type] of [[imgs.png, 'image/png'], [imgs.webp, 'image/webp']] as const) {
      const body = (await (await post('/v1/classify?top_k=10', bytes, type)).json()) as Classified;
      expect(body.results[0]!.predictions).toEqual(jpeg.results[0]!.predictions);
    }
  });
  it('lossy WebP, grayscale and RGBA PNGs classify', async () => {
    for (const [bytes, type] of [[imgs.lossyWebp, 'image/webp'], [imgs.gray, 'image/png'], [imgs.rgba, 'image/png']] as const) {
      const res = await post('/v1/classify', bytes, type);
      expect(res.status).toBe(200);
    }
  });
  it('EXIF orientation is applied: a sideways-stored photo scores like the upright one', async () => {
    const up = (await (await post('/v1/classify', imgs.upright, 'image/jpeg')).json()) as Classified;
    const side = (await (await post('/v1/classify', imgs.orient6, 'image/jpeg')).json()) as Classified;
    expect(side.results[0]!.predictions[0]!.label).toBe(up.results[0]!.predictions[0]!.label);
    expect(Math.abs(side.results[0]!.predictions[0]!.score - up.results[0]!.predictions[0]!.score)).toBeLessThan(0.05);
  });
  it('EXIF orientation in PNG (eXIf) and WebP (EXIF chunk): the same pixels as the upright PNG', async () => {
    const logits = async (bytes: Uint8Array, type: string) => {
      const res = await post('/v1/classify?logits=true', bytes, type);
      expect(res.status).toBe(200);
      return ((await res.json()) as { results: Array<{ logits: number[] }> }).results[0]!.logits;
    };
    const upright = await logits(imgs.png, 'image/png');
    // Both are lossless: rotated back, they are the PNG's pixels exactly, so the logits are equal.
    expect(await logits(imgs.orient6Png, 'image/png')).toEqual(upright);
    expect(await logits(imgs.orient6Webp, 'image/webp')).toEqual(upright);
  });
  it('top_k and threshold shape the predictions', async () => {
    const one = (await (await post('/v1/classify?top_k=1', TENCH, 'image/jpeg')).json()) as Classified;
    expect(one.results[0]!.predictions).toHaveLength(1);
    const all = (await (await post('/v1/classify?top_k=100&threshold=0.05', TENCH, 'image/jpeg')).json()) as Classified;
    expect(all.results[0]!.predictions.length).toBeGreaterThan(0);
    for (const p of all.results[0]!.predictions) expect(p.score).toBeGreaterThanOrEqual(0.05);
  });
});

describe('errors are problem+json with stable types', () => {
  it('unsupported-media-type: wrong content type, and non-image bytes labelled as JPEG', async () => {
    await expectProblem(await post('/v1/classify', 'hello', 'text/plain'), 415, 'unsupported-media-type');
    await expectProblem(await post('/v1/classify', new Uint8Array(100).fill(7), 'image/jpeg'), 415, 'unsupported-media-type');
  });
  it('image-decode-failed: a truncated JPEG and corrupted data', async () => {
    await expectProblem(await post('/v1/classify', TENCH.slice(0, 300), 'image/jpeg'), 422, 'image-decode-failed');
    const corrupt = TENCH.slice();
    for (let i = 2000; i < corrupt.length; i += 7) corrupt[i] = 0xff;
    const res = await post('/v1/classify', corrupt, 'image/jpeg');
    expect([200, 422]).toContain(res.status); // libjpeg may recover garbage pixels; it must never 5xx
  });
  it('unknown-model', async () => {
    await expectProblem(await post('/v1/classify?model=nope', TENCH, 'image/jpeg'), 404, 'unknown-model');
    await expectProblem(await w.fetch('/v1/models/nope'), 404, 'unknown-model');
    await expectProblem(await post('/v1/classify?model=..%2F..%2Fetc', TENCH, 'image/jpeg'), 404, 'unknown-model');
  });
  it('invalid-request: bad JSON, bad options, no image, bad base64, text in the image field', async () => {
    await expectProblem(await post('/v1/classify', '{"image": ', 'application/json'), 400, 'invalid-request');
    await expectProblem(await post('/v1/classify', JSON.stringify({ image: 5 }), 'application/json'), 400, 'invalid-request');
    await expectProblem(await post('/v1/classify', JSON.stringify({}), 'application/json'), 400, 'invalid-request');
    await expectProblem(await post('/v1/classify', JSON.stringify({ image: '!!!' }), 'application/json'), 400, 'invalid-request');
    for (const q of ['top_k=0', 'top_k=101', 'top_k=abc', 'threshold=2', 'threshold=-1']) {
      await expectProblem(await post(`/v1/classify?${q}`, TENCH, 'image/jpeg'), 400, 'invalid-request');
    }
    const form = new FormData();
    form.append('image', 'not a file');
    await expectProblem(await w.fetch('/v1/classify', { method: 'POST', body: form }), 400, 'invalid-request');
  });
  it('embedding-unsupported for a model without an embedding output', async () => {
    await expectProblem(await post('/v1/embed', TENCH, 'image/jpeg'), 422, 'embedding-unsupported');
  });
  it('model-unavailable when weights fail sha256 verification', async () => {
    const manifest = (await (await w.bucket.get(`models/${MODEL}/manifest.json`))!.json()) as Record<string, unknown>;
    const bad = { ...manifest, id: 'tampered', onnx: { ...(manifest.onnx as object), key: 'models/tampered/model.onnx' } };
    await w.bucket.put('models/tampered/manifest.json', JSON.stringify(bad));
    await w.bucket.put('models/tampered/model.onnx', new Uint8Array([1, 2, 3]));
    const body = await expectProblem(await post('/v1/classify?model=tampered', TENCH, 'image/jpeg'), 503, 'model-unavailable');
    expect(String(body.detail)).toMatch(/sha256/);
  });
  it('not-found for unknown routes', async () => {
    await expectProblem(await w.fetch('/v2/nothing'), 404, 'not-found');
  });
});

describe('limits', () => {
  let small: TestWorker;
  beforeAll(async () => {
    small = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, MAX_BODY_BYTES: '200000', MAX_JSON_BYTES: '300000', MAX_IMAGE_PIXELS: '150000', MAX_IMAGES_PER_REQUEST: '2' } });
  });
  afterAll(async () => { await small?.dispose(); });
  const sp = (path: string, body: BodyInit, type: string) => small.fetch(path, { method: 'POST', body, headers: { 'content-type': type } });

  it('payload-too-large for a body over the byte limit', async () => {
    await expectProblem(await sp('/v1/classify', imgs.png, 'image/png'), 413, 'payload-too-large');
  });
  it('image-too-large from the header, before decoding (500x375 > 150,000 pixels)', async () => {
    const body = await expectProblem(await sp('/v1/classify', TENCH, 'image/jpeg'), 413, 'image-too-large');
    expect(body).toMatchObject({ width: 500, height: 375, max_pixels: 150000 });
  });
  it('a separate, smaller budget for images that must be decoded at full size', async () => {
    // CIFAR model (resize to 32 px): a 500x375 JPEG or PNG can be decoded reduced, a WebP cannot.
    const w2 = await startWorker({ models: ['convmixer-cifar10'], vars: { DEFAULT_MODEL: 'convmixer-cifar10', REDUCE_ABOVE_PIXELS: '100000', MAX_FULL_DECODE_PIXELS: '150000' } });
    try {
      const post2 = (body: BodyInit, type: string) => w2.fetch('/v1/classify', { method: 'POST', body, headers: { 'content-type': type } });
      const body = await expectProblem(await post2(imgs.webp, 'image/webp'), 413, 'image-too-large');
      expect(body).toMatchObject({ width: 500, height: 375, max_pixels: 150000 });
      expect(String(body.detail)).toMatch(/full size/);
      for (const [bytes, type] of [[TENCH, 'image/jpeg'], [imgs.png, 'image/png']] as const) expect((await post2(bytes, type)).status, type).toBe(200);
    } finally {
      await w2.dispose();
    }
  });
  it('a large progressive JPEG is decoded reduced (1/4 here), not in full', async () => {
    // SqueezeNet resizes to 256 px: 2400x1800 at 1/8 (300x225) is too small, 1/4 (600x450) is
    // not. With a 1 MP full-decode budget only a reduced decode can answer.
    const w3 = await startWorker({ models: [MODEL], vars: { DEFAULT_MODEL: MODEL, MAX_FULL_DECODE_PIXELS: '1000000' } });
    try {
      const post3 = (body: Uint8Array) => w3.fetch('/v1/classify?top_k=1', { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
      const photo = `${SHARED_DIR}/images/n01440764_tench.JPEG`;
      // Each body read before the next request: in one CI run the unread one was reported as
      // already read when the second answer came (cause not found; not seen since).
      const progressive = await post3(bigImage(photo, 2400, 1800, 'JPEG', 1, { progressive: true }));
      expect(progressive.status).toBe(200);
      const ours = (await progressive.json()) as Classified;
      const baseline = (await (await post3(bigImage(photo, 2400, 1800, 'JPEG'))).json()) as Classified;
      // The same pixels encoded two ways (PIL, q90): the same answer.
      expect(ours.results[0]!.predictions[0]!.label).toBe(baseline.results[0]!.predictions[0]!.label);
      expect(Math.abs(ours.results[0]!.predictions[0]!.score - baseline.results[0]!.predictions[0]!.score)).toBeLessThan(0.02);
    } finally {
      await w3.dispose();
    }
  });
  it('too-many-images', async () => {
    const form = new FormData();
    for (let i = 0; i < 3; i++) form.append('image', new Blob([new Uint8Array(10)]), `${i}.jpg`);
    await expectProblem(await small.fetch('/v1/classify', { method: 'POST', body: form }), 413, 'too-many-images');
  });
  it('readyz is a 503 problem when the default model is missing', async () => {
    const other = await startWorker({ models: [], vars: { DEFAULT_MODEL: 'missing-model' } });
    try {
      await expectProblem(await other.fetch('/readyz'), 503, 'model-unavailable');
    } finally {
      await other.dispose();
    }
  });
});
