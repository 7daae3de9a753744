// Fuzzing the real Worker in workerd (Miniflare) with hostile requests (fast-check): hostile
// image bodies through the WASM decoders, random content types, bad and deep JSON, huge
// numbers, bad base64, bad multipart, odd query strings, methods, paths and Authorization
// headers, batch and webhook bodies. Every response must be < 500 and, when it is an error,
// application/problem+json with a known `type`; each request is timed, and the Worker must still
// answer /healthz and classify a real photo afterwards.
//
// FUZZ_RUNS=<multiplier> scales the case counts (default 1: ~2,400 requests, under a minute on
// two busy cores); FUZZ_SEED=<n> replays a run.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeaders } from '../../src/lib/webhook-signature';
import { applyMigrations, batchBindings } from '../support/batches';
import { photo } from '../support/images';
import { DEV_API_KEY, startWorker, type TestWorker } from '../support/worker';
import { CLIENT_PROBLEM_TYPES, SCALE, SEED, honestBombPng, hostileImage, lyingPng, runs, seedCorpus, type Corpus } from './hostile';

const MODEL = 'convmixer-cifar10';
const WEBHOOK_SECRET = 'whsec_' + Buffer.from('fuzzing-webhook-secret-32-bytes!').toString('base64');
const REQUEST_MS = 15_000;
const tench = photo('n01440764_tench.JPEG');
const enc = (s: string) => new TextEncoder().encode(s);

let w: TestWorker;
let corpus: Corpus;
let total = 0;
const statuses = new Map<string, number>();

beforeAll(async () => {
  corpus = seedCorpus();
  w = await startWorker({
    models: [MODEL],
    vars: { DEFAULT_MODEL: MODEL, WEBHOOK_SECRET, MAX_IMAGES_PER_REQUEST: '16' },
    keys: [{ key: 'fuzz-classify-only', id: 'fuzz-classify', scopes: ['classify'] }],
    // Batches need D1 and the queues; their consumers run in the same Worker. Outbound: refused.
    miniflare: batchBindings(1),
  });
  await applyMigrations((await w.mf.getD1Database('DB')) as unknown as D1Database);
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), FUZZ_RUNS=${SCALE}; seed corpus: ${Object.keys(corpus).join(', ')}`);
});

afterAll(async () => {
  console.log(`requests: ${total} in all; ${[...statuses].sort().map(([k, n]) => `${k} x${n}`).join(', ')}`);
  await w?.dispose();
});


/** Sends one request, bounded in time, and checks the answer is a success or a typed 4xx problem. */
async function send(path: string, init: RequestInit & { auth?: boolean }, label: string): Promise<Response> {
  const t = performance.now();
  const res = await w.fetch(path, init);
  const text = await res.text();
  const ms = performance.now() - t;
  total++;
  statuses.set(`${label} ${res.status}`, (statuses.get(`${label} ${res.status}`) ?? 0) + 1);
  const what = `${init.method ?? 'GET'} ${path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
  expect(ms, `took ${ms.toFixed(0)} ms: ${what}`).toBeLessThan(REQUEST_MS);
  expect(res.status, what).toBeLessThan(500);
  // The Worker answers everything, the page included (wrangler.toml run_worker_first, and the
  // asset layer passes every other path on): every answer carries its request id, every error is a problem.
  expect(res.headers.get('x-request-id'), what).toBeTruthy();
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), what).toBe('application/problem+json');
    if (init.method !== 'HEAD') {
      const body = JSON.parse(text) as { type: string; status: number };
      const type = body.type.replace('https://edge-vit.dev/problems/', '');
      expect(CLIENT_PROBLEM_TYPES.has(type), `unknown type ${body.type}: ${what}`).toBe(true);
      expect(body.status, what).toBe(res.status);
    }
  }
  return new Response(res.status === 204 || res.status === 304 || init.method === 'HEAD' ? null : text, { status: res.status, headers: res.headers });
}

// ---- arbitraries ----

const printable = (max: number) => fc.string({ maxLength: max, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const route = () => fc.constantFrom('/v1/classify', '/v1/embed');

/** Query strings: known and unknown keys, repeats, odd values, broken percent-encoding. */
const queryString = () => fc.oneof(
  fc.array(fc.tuple(
    fc.oneof(fc.constantFrom('model', 'top_k', 'threshold', 'normalize', 'encoding', 'fallback', 'logits'), printable(8)),
    fc.oneof(printable(12), fc.string({ maxLength: 8 }), fc.constantFrom('-1', '0', '1', '5', '100', '101', '1e309', '-0', '1e-400', 'NaN', 'Infinity',
      '0x10', '9007199254740993', '1'.repeat(400), '0.5', 'true', 'false', 'edge', 'base64', '../../etc/passwd', '\u0000', MODEL, `${MODEL}/../x`, '💥')),
  ), { maxLength: 6 }).map((kv) => new URLSearchParams(kv).toString()),
  fc.constantFrom('top_k=%zz', 'model=%', 'model=%E0%A4%A', '%ff=%fe', 'top_k=1&top_k=2&top_k=abc', '&&&==&', 'threshold', 'model[]=a&model[]=b', 'model=' + 'x'.repeat(5000)),
);

/** JSON bodies: random, hostile values in the known fields, broken, deep, huge numbers. */
const jsonBody = () => fc.oneof(
  fc.json().map(enc),
  fc.record({
    image: fc.oneof(fc.jsonValue(), fc.constant(undefined)), url: fc.oneof(fc.jsonValue(), fc.constantFrom('http://169.254.169.254/latest/meta-data', 'https://127.0.0.1/a.jpg', 'file:///etc/passwd', 'https://[::1]:8080/', 'javascript:alert(1)', undefined)),
    top_k: fc.oneof(fc.jsonValue(), fc.constantFrom(0, 101, -1, 1e308, 2 ** 53 + 1, 5.5, '5', '1e309')), model: fc.oneof(fc.jsonValue(), fc.constant(MODEL)),
    threshold: fc.oneof(fc.double(), fc.jsonValue()),
  }, { requiredKeys: [] }).map((o) => enc(JSON.stringify(o))),
  // numbers JSON.parse turns into Infinity, -0, lossy integers
  fc.constantFrom('1e400', '-1e400', '-0', '123456789012345678901234567890', '0.' + '1'.repeat(1000)).map((n) => enc(`{"image":"", "top_k": ${n}, "threshold": ${n}}`)),
  // broken text: truncated JSON, garbage, BOM, trailing junk, lone surrogates
  fc.tuple(fc.json(), fc.double({ min: 0, max: 1, noNaN: true })).map(([s, f]) => enc(s.slice(0, Math.floor(s.length * f)))),
  printable(200).map(enc),
  fc.constantFrom('\ufeff{"image":""}', '{"image":"a"} trailing', '{"image":"\\ud800"}', '{"__proto__":{"top_k":1000},"image":"AAAA"}', '{"constructor":{"prototype":{}}}', 'null', '[]', '""', '{"image":null}', '{"url":"https://example.com/a.jpg","image":"AAAA"}').map(enc),
  // nesting around the 32-level limit and far beyond, closed or not, arrays and objects
  fc.tuple(fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean()).map(([n, obj, close]) => enc((obj ? '{"a":' : '[').repeat(n) + '1' + (close ? (obj ? '}' : ']').repeat(n) : ''))),
  fc.integer({ min: 100, max: 200_000 }).map((n) => enc('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 60 }).map((n) => enc(`{"image":"AAAA","extra":${'{"k":'.repeat(n)}0${'}'.repeat(n)}}`)),
);

/** base64 "image" values: valid base64 of hostile images, bad alphabets, padding, data: URLs. */
const base64Body = () => fc.oneof(
  hostileImage(corpus).map(({ bytes }) => Buffer.from(bytes).toString('base64')),
  hostileImage(corpus).map(({ bytes }) => `data:image/png;base64,${Buffer.from(bytes).toString('base64url')}`),
  fc.tuple(fc.constantFrom(Buffer.from(tench).toString('base64')), fc.integer({ min: 0, max: 1000 }), printable(4))
    .map(([b, i, junk]) => b.slice(0, i) + junk + b.slice(i)),
  fc.constantFrom('', '=', '====', 'A', 'AB=', 'A===', '****', 'data:,', 'data:image/jpeg;base64,', '\n\t ', 'AAAA'.repeat(10) + '=A', '%2F%2F', '/9j/' + '\u00e9'.repeat(10)),
  printable(300),
).map((s) => enc(JSON.stringify({ image: s })));

/** Multipart bodies, hand-built: boundaries that lie, parts without names, text images, too many parts. */
const multipart = () => fc.oneof(
  fc.tuple(fc.array(fc.record({
    name: fc.oneof(fc.constantFrom('image', 'url', 'top_k', 'model', ''), printable(10)),
    filename: fc.option(printable(20)),
    type: fc.option(fc.constantFrom('image/jpeg', 'image/png', 'text/plain', 'application/octet-stream', '')),
    body: fc.oneof(hostileImage(corpus).map(({ bytes }) => bytes), printable(50).map(enc), fc.constant(corpus['n01440764_tench.JPEG']!.slice(0, 2000))),
  }), { maxLength: 20 }), fc.constantFrom('x', 'boundary', '----WebKitFormBoundary7MA4YWxkTrZu0gW'), fc.boolean(), fc.boolean())
    .map(([parts, boundary, close, lie]) => {
      const chunks: Uint8Array[] = [];
      for (const p of parts) {
        chunks.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== null ? `; filename="${p.filename}"` : ''}\r\n${p.type !== null ? `Content-Type: ${p.type}\r\n` : ''}\r\n`), p.body, enc('\r\n'));
      }
      if (close) chunks.push(enc(`--${boundary}--\r\n`));
      return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${lie ? 'other' : boundary}` };
    }),
  // more image parts than MAX_IMAGES_PER_REQUEST
  fc.integer({ min: 15, max: 40 }).map((n) => {
    const part = Buffer.concat([enc('--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'), lyingPng(1, 1, 4), enc('\r\n')]);
    return { body: Buffer.concat([...Array.from({ length: n }, () => part), enc('--x--\r\n')]), type: 'multipart/form-data; boundary=x' };
  }),
  fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary="x"', 'multipart/form-data; boundary=x', 'multipart/mixed; boundary=x'))
    .map(([body, type]) => ({ body, type })),
);

const contentType = () => fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'image/jpeg', 'image/png', 'image/webp', 'image/jpg') },
  { weight: 2, arbitrary: fc.constantFrom('', 'image/gif', 'image/svg+xml', 'text/plain', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/x-www-form-urlencoded', 'application/octet-stream', ';;;', 'image/jpeg; q=0.9, text/html') },
  { weight: 1, arbitrary: printable(60) },
);

// ---- properties ----

describe('hostile requests through the Worker (workerd)', () => {
  it('hostile image bodies (raw), under any image content type', async () => {
    await fc.assert(fc.asyncProperty(hostileImage(corpus), fc.constantFrom('image/jpeg', 'image/png', 'image/webp'), route(), async ({ bytes }, type, r) => {
      await send(`${r}?model=${MODEL}`, { method: 'POST', body: bytes, headers: { 'content-type': type } }, 'raw-image');
    }), { numRuns: runs(400), seed: SEED });
  });

  it('random content types, bodies and query strings', async () => {
    const body = fc.oneof(jsonBody(), fc.uint8Array({ maxLength: 4096 }), hostileImage(corpus).map(({ bytes }) => bytes));
    await fc.assert(fc.asyncProperty(route(), contentType(), body, queryString(), async (r, type, b, q) => {
      await send(`${r}?${q}`, { method: 'POST', body: b, headers: type ? { 'content-type': type } : {} }, 'random');
    }), { numRuns: runs(500), seed: SEED });
  });

  it('JSON: bad, deep, huge numbers, hostile fields', async () => {
    await fc.assert(fc.asyncProperty(route(), jsonBody(), queryString(), async (r, b, q) => {
      await send(`${r}?${q}`, { method: 'POST', body: b, headers: { 'content-type': 'application/json' } }, 'json');
    }), { numRuns: runs(400), seed: SEED });
  });

  it('JSON base64 images: bad alphabets, padding, data: URLs, hostile bytes', async () => {
    await fc.assert(fc.asyncProperty(route(), base64Body(), async (r, b) => {
      await send(`${r}?model=${MODEL}`, { method: 'POST', body: b, headers: { 'content-type': 'application/json' } }, 'base64');
    }), { numRuns: runs(250), seed: SEED });
  });

  it('multipart: lying boundaries, unnamed parts, text images, too many images, noise', async () => {
    await fc.assert(fc.asyncProperty(route(), multipart(), queryString(), async (r, { body, type }, q) => {
      await send(`${r}?${q}`, { method: 'POST', body, headers: { 'content-type': type } }, 'multipart');
    }), { numRuns: runs(250), seed: SEED });
  });

  it('methods, paths and Authorization headers', async () => {
    const path = fc.oneof(
      fc.constantFrom('/', '/healthz', '/readyz', '/openapi.json', '/v1/models', `/v1/models/${MODEL}`, `/v1/models/${MODEL}/weights`, '/v1/classify', '/v1/embed',
        '/v1/batches', '/v1/batches/00000000-0000-0000-0000-000000000000', '/v1/batches/x/results', '/v1/webhooks/ingest', '/v1/uploads',
        '/v1/models/..%2f..%2fetc', '//v1//classify', '/v1/classify/', '/V1/CLASSIFY', '/v1/%63lassify', '/v1/models/%00', '/%2e%2e/%2e%2e/',
        '/index', '/index.html', '/assets/app.js', '/assets/', '/assets/ort/'),
      fc.tuple(fc.constantFrom('/v1/models/', '/v1/batches/', '/v1/'), printable(40)).map(([p, s]) => p + encodeURIComponent(s)),
    );
    const auth = fc.oneof(
      fc.constant(undefined), fc.constant(`Bearer ${DEV_API_KEY}`), fc.constant('Bearer fuzz-classify-only'),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer edge-vit-dev-key', `Bearer  ${DEV_API_KEY}`, `Bearer ${DEV_API_KEY} `, `Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer ' + 'A'.repeat(8000), `Bearer ${DEV_API_KEY}x`),
      printable(100).map((s) => `Bearer ${s}`), printable(100),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    await fc.assert(fc.asyncProperty(method, path, auth, fc.oneof(jsonBody(), fc.constant(undefined)), fc.option(printable(60)), async (m, p, a, b, inm) => {
      const headers: Record<string, string> = {};
      if (a !== undefined) headers.authorization = a;
      if (inm !== null) headers['if-none-match'] = inm;
      if (b) headers['content-type'] = 'application/json';
      const hasBody = m !== 'GET' && m !== 'HEAD' && b !== undefined;
      await send(p, { method: m, headers, body: hasBody ? b : undefined, auth: a !== undefined ? undefined : false }, `route ${m}`);
    }), { numRuns: runs(400), seed: SEED });
  });

  it('batches and the signed webhook: hostile bodies, forged and valid signatures', async () => {
    const item = fc.oneof(
      fc.record({ url: fc.constantFrom('https://127.0.0.1/a.jpg', 'http://169.254.169.254/', 'https://images.example.com/a.jpg', 'file:///etc/passwd', '') }),
      fc.record({ r2_key: printable(30), id: fc.option(printable(10), { nil: undefined }) }, { requiredKeys: ['r2_key'] }),
      fc.jsonValue(),
    );
    // Well-formed batches of hostile URLs and keys (accepted: the consumer must refuse them item by item).
    const validBatch = fc.record({
      items: fc.array(fc.oneof(
        fc.record({ url: fc.constantFrom('https://127.0.0.1/a.jpg', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:10.0.0.1]/a.jpg', 'https://images.example.com/a.jpg', 'https://images.example.com:8443/a.jpg', 'http://images.example.com/a.jpg') }),
        fc.record({ r2_key: fc.constantFrom('../../etc/passwd', 'uploads/none.jpg', '\u0000', 'a'.repeat(1024)) }),
      ), { minLength: 1, maxLength: 4 }),
      top_k: fc.integer({ min: 1, max: 100 }),
      callback_url: fc.constantFrom('https://10.0.0.1/cb', 'https://localhost/cb', 'https://example.com/cb'),
    }, { requiredKeys: ['items'] }).map((o) => enc(JSON.stringify(o)));
    const batchBody = fc.oneof(
      validBatch,
      fc.record({ items: fc.array(item, { maxLength: 5 }), top_k: fc.oneof(fc.integer(), fc.jsonValue()), model: fc.oneof(fc.constant(MODEL), printable(20)),
        callback_url: fc.oneof(fc.constant(undefined), fc.constantFrom('https://10.0.0.1/cb', 'http://localhost/', 'https://example.com/cb')), metadata: fc.jsonValue() }, { requiredKeys: [] })
        .map((o) => enc(JSON.stringify(o))),
      jsonBody(),
    );
    await fc.assert(fc.asyncProperty(batchBody, fc.constantFrom('batches', 'webhook-forged', 'webhook-signed'), fc.option(printable(40)), async (b, target, idem) => {
      if (target === 'batches') {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (idem !== null) headers['idempotency-key'] = idem;
        await send('/v1/batches', { method: 'POST', body: b, headers }, 'batches');
        return;
      }
      const id = `msg_${(idem ?? 'x').replace(/[^A-Za-z0-9]/g, '')}`;
      const signed = await signatureHeaders(WEBHOOK_SECRET, id, b);
      const headers: Record<string, string> = target === 'webhook-signed'
        ? { 'content-type': 'application/json', ...signed }
        : { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': idem ?? '0', 'webhook-signature': `v1,${Buffer.from(idem ?? '').toString('base64')}` };
      await send('/v1/webhooks/ingest', { method: 'POST', body: b, headers, auth: false }, target);
    }), { numRuns: runs(200), seed: SEED });
  });

  it('zip-bomb-like PNGs: 10 GP declared in 1 KB, a 4 MB inflate behind 64x64, an honest 36 MP bomb: no 5xx, bounded time', async () => {
    const post = (b: Uint8Array) => send(`/v1/classify?model=${MODEL}`, { method: 'POST', body: b, headers: { 'content-type': 'image/png' } }, 'png-bomb');
    expect((await post(lyingPng(100_000, 100_000, 1 << 20))).status).toBe(413);
    expect((await post(lyingPng(0xffffffff, 0xffffffff, 16))).status).toBe(413);
    expect([200, 422]).toContain((await post(lyingPng(64, 64, 4 << 20))).status);
    expect((await post(lyingPng(6000, 6000, 10))).status).toBe(422);
    // Under the 40 MP default: decodes (144 MB of RGBA). Miniflare does not enforce the 128 MB
    // isolate limit, Cloudflare does (SECURITY.md: lower MAX_IMAGE_PIXELS in production).
    expect((await post(honestBombPng(6000, 6000))).status).toBeLessThan(500);
  });

  it('afterwards the Worker still answers /healthz and classifies a real photo', async () => {
    expect((await w.fetch('/healthz')).status).toBe(200);
    const res = await w.fetch(`/v1/classify?model=${MODEL}`, { method: 'POST', body: tench, headers: { 'content-type': 'image/jpeg' } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(1);
  });
});
