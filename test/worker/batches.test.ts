// Batch tagging end to end in workerd: Miniflare's real D1, Queues (the same Worker produces
// and consumes, with a dead-letter queue) and R2. The outbound handler is DNS, the image origin
// and the callback receiver, which verifies every callback's Standard Webhooks signature.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/batches/create';
import { signatureHeaders, verify } from '../../src/lib/webhook-signature';
import { PHOTOS, expectProblem, photo } from '../support/images';
import { DLQ, MODEL, dohAnswer, results, startBatchWorker, terminal, waitFor, type BatchWorker } from '../support/batches';

const PHOTO_FILES = readdirSync(PHOTOS).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 8);
const img = (i: number) => `https://images.example.com/${PHOTO_FILES[i % PHOTO_FILES.length]}`;

interface Received { path: string; headers: Record<string, string>; body: string; verified: boolean; at: number }
const received: Received[] = [];
const failFirst = new Map<string, number>(); // callback path -> remaining 500s
const fetched: string[] = [];
let w: BatchWorker;

beforeAll(async () => {
  w = await startBatchWorker({
    vars: { BATCH_MAX_ITEMS: '300', CALLBACK_TIMEOUT_MS: '1500' },
    maxRetries: 2,
    outbound: async (req) => {
      const url = new URL(req.url);
      const dns = dohAnswer(url);
      if (dns) return dns;
      if (url.hostname === 'images.example.com') {
        fetched.push(url.pathname);
        const name = decodeURIComponent(url.pathname.slice(1));
        if (PHOTO_FILES.includes(name)) return new Response(photo(name), { headers: { 'content-type': 'image/jpeg' } });
        if (name === 'garbage.jpg') return new Response(new TextEncoder().encode('this is not a JPEG at all'), { headers: { 'content-type': 'image/jpeg' } });
        if (name === 'truncated.jpg') return new Response(photo(PHOTO_FILES[0]!).slice(0, 300), { headers: { 'content-type': 'image/jpeg' } });
        if (name === 'down.jpg') throw new Error('connection refused'); // unreachable origin: transient, retried, then dead-lettered
        if (name === 'flaky.jpg') return new Response('busy', { status: 503 });
        return new Response('no such image', { status: 404 });
      }
      if (url.hostname === 'hooks.example.com') {
        const body = await req.text();
        const headers = Object.fromEntries([...req.headers]);
        const v = await verify(w.callbackSecret, headers, body);
        received.push({ path: url.pathname, headers, body, verified: v.ok, at: Date.now() });
        if (url.pathname === '/cb/slow' && received.filter((r) => r.path === '/cb/slow').length === 1) {
          await new Promise((r) => setTimeout(r, 2500)); // longer than CALLBACK_TIMEOUT_MS
        }
        const left = failFirst.get(url.pathname) ?? 0;
        if (left > 0) {
          failFirst.set(url.pathname, left - 1);
          return new Response('receiver down', { status: 500 });
        }
        return new Response(v.ok ? null : 'bad signature', { status: v.ok ? 204 : 401 });
      }
      return new Response('outbound network is disabled here', { status: 599 });
    },
  });
  // r2_key items come from the uploads bucket.
  for (const [i, f] of PHOTO_FILES.entries()) await w.uploads.put(`inbox/${i}.jpg`, photo(f));
});
afterAll(async () => { await w?.dispose(); });

const json = (body: unknown, headers: Record<string, string> = {}) =>
  ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
const createBatch = (body: unknown, key?: string) => w.fetch('/v1/batches', json(body, key ? { 'idempotency-key': key } : {}));

/** What POST /v1/classify answers for a photo: the batch results must agree exactly. */
const syncCache = new Map<string, unknown>();
async function syncPredictions(file: string, topK = 5) {
  const k = `${file}:${topK}`;
  if (!syncCache.has(k)) {
    const res = await w.fetch(`/v1/classify?model=${MODEL}&top_k=${topK}`, { method: 'POST', body: photo(file), headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).toBe(200);
    syncCache.set(k, ((await res.json()) as { results: Array<{ predictions: unknown }> }).results[0]!.predictions);
  }
  return syncCache.get(k);
}

describe('POST /v1/batches -> queue -> D1/R2 -> results', () => {
  it('a 24-item batch (URLs and R2 keys) completes; results have every item once, equal to /v1/classify', async () => {
    const items = Array.from({ length: 24 }, (_, i) => (i % 3 === 2 ? { id: `r2-${i}`, r2_key: `inbox/${i % PHOTO_FILES.length}.jpg` } : { id: `u-${i}`, url: img(i) }));
    const res = await createBatch({ items, top_k: 3, metadata: { album: 'zoo' } }, 'first-batch');
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; status_url: string; results_url: string; total: number };
    expect(created.id).toMatch(/^bat_[0-9a-f]{32}$/);
    expect(created.total).toBe(24);
    expect(created.status_url).toBe(`http://edge.test/v1/batches/${created.id}`);
    expect(created.results_url).toBe(`http://edge.test/v1/batches/${created.id}/results`);

    const s = await waitFor(w, created.id, terminal);
    expect(s.status).toBe('completed');
    expect(s.counts).toEqual({ total: 24, done: 24, failed: 0, pending: 0 });
    expect(s.metadata).toEqual({ album: 'zoo' });
    expect(s.started_at && s.completed_at && s.started_at <= s.completed_at).toBeTruthy();

    const lines = await results(w, created.id);
    expect(lines.map((l) => l.idx)).toEqual(items.map((_, i) => i));
    for (const [i, l] of lines.entries()) {
      expect(l.ok).toBe(true);
      expect(l.id).toBe(items[i]!.id);
      expect(l.predictions).toEqual(await syncPredictions(PHOTO_FILES[i % PHOTO_FILES.length]!, 3));
    }
    // Sanity: the photos are what they say (tench is ImageNet class 0).
    const tench = PHOTO_FILES.indexOf('n01440764_tench.JPEG');
    if (tench >= 0) expect(lines[tench]!.predictions![0]!.label).toMatch(/tench/i);
  });

  it('Idempotency-Key: same key + same body -> the same batch (200); another body -> 409 idempotency-conflict', async () => {
    const body = { items: [{ url: img(0) }, { url: img(1) }] };
    const a = await createBatch(body, 'idem-1');
    expect(a.status).toBe(202);
    const b = await createBatch(body, 'idem-1');
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const ida = ((await a.json()) as { id: string }).id;
    expect(((await b.json()) as { id: string }).id).toBe(ida);
    // Key order in the JSON does not matter (canonical hash).
    const c = await createBatch({ items: [{ url: img(0) }, { url: img(1) }], top_k: 5 }, 'idem-1');
    expect(c.status).toBe(200);
    const conflict = await createBatch({ items: [{ url: img(2) }] }, 'idem-1');
    const p = await expectProblem(conflict, 409, 'idempotency-conflict');
    expect(p.batch_id).toBe(ida);
    const n = await w.db.prepare('SELECT COUNT(*) AS n FROM batches WHERE idem_key = ?').bind('idem-1').first<{ n: number }>();
    expect(n!.n).toBe(1);
    await waitFor(w, ida, terminal);
    expect((await results(w, ida)).length).toBe(2);
  });

  it('a batch stored but never enqueued (producer crashed) is enqueued by the retry with the same Idempotency-Key', async () => {
    const body = { items: [{ id: 'x', url: img(4) }, { id: 'y', url: img(5) }] };
    const hash = await sha256(canonicalJson({ ...body, top_k: 5, threshold: 0, model: MODEL }));
    const id = 'bat_c0ffee00000000000000000000000000';
    await w.db.prepare(`INSERT INTO batches (id, owner, idem_key, request_hash, source, model, top_k, threshold, base_url, total, status, created_at)
      VALUES (?, 'dev', 'crashed-producer', ?, 'api', ?, 5, 0, 'http://edge.test', 2, 'queued', ?)`).bind(id, hash, MODEL, new Date().toISOString()).run();
    const res = await createBatch(body, 'crashed-producer');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(id);
    const s = await waitFor(w, id, terminal);
    expect(s.status).toBe('completed');
    expect((await results(w, id)).map((l) => l.id)).toEqual(['x', 'y']);
  });

  it('item failures are typed errors and the batch is completed_with_errors; transient ones retry, then the DLQ records them', async () => {
    const items = [
      { id: 'good', url: img(0) },
      { id: 'garbage', url: 'https://images.example.com/garbage.jpg' },
      { id: 'truncated', url: 'https://images.example.com/truncated.jpg' },
      { id: '404', url: 'https://images.example.com/nope.jpg' },
      { id: 'private', url: 'https://private.example.com/x.jpg' },
      { id: 'loopback', url: 'https://127.0.0.1/x.jpg' },
      { id: 'http', url: 'http://images.example.com/x.jpg' },
      { id: 'missing-key', r2_key: 'inbox/nope.jpg' },
      { id: 'down', url: 'https://images.example.com/down.jpg' },
      { id: 'flaky', url: 'https://images.example.com/flaky.jpg' },
      { id: 'good2', r2_key: 'inbox/1.jpg' },
    ];
    const res = await createBatch({ items });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const s = await waitFor(w, id, terminal);
    expect(s.status).toBe('completed_with_errors');
    expect(s.counts).toEqual({ total: 11, done: 2, failed: 9, pending: 0 });
    const lines = await results(w, id);
    expect(lines.length).toBe(11);
    const byId = Object.fromEntries(lines.map((l) => [l.id, l]));
    expect(byId.good!.ok).toBe(true);
    expect(byId.good2!.ok).toBe(true);
    expect(byId.garbage!.error!.type).toBe('unsupported-media-type'); // no image magic bytes
    expect(byId.truncated!.error!.type).toBe('image-decode-failed');
    expect(byId['404']!.error!.type).toBe('url-fetch-failed');
    expect(byId.private!.error!.type).toBe('url-forbidden');
    expect(byId.loopback!.error!.type).toBe('url-forbidden');
    expect(byId.http!.error!.type).toBe('url-forbidden');
    expect(byId['missing-key']!.error!.type).toBe('object-not-found');
    // Unreachable and 503 origins are retried (max_retries=2 -> 3 attempts), then dead-lettered
    // and recorded with their last error and attempt count.
    for (const k of ['down', 'flaky']) {
      expect(byId[k]!.error!.type).toBe('url-fetch-failed');
      expect(byId[k]!.error!.detail).toMatch(/gave up after 3 attempts/);
    }
    expect(fetched.filter((p) => p === '/flaky.jpg').length).toBe(3);
    const rows = await w.db.prepare('SELECT idx, attempts FROM batch_items WHERE batch_id = ? ORDER BY idx').bind(id).all<{ idx: number; attempts: number }>();
    expect(rows.results.length).toBe(11);
  });

  it('results are only for the owner: another key gets 404 unknown-batch', async () => {
    const { id } = (await (await createBatch({ items: [{ url: img(0) }] })).json()) as { id: string };
    await w.keys.put('sha256:' + (await sha256('other-key')), JSON.stringify({ id: 'other', scopes: ['batches'], created: '' }));
    const auth = { authorization: 'Bearer other-key' };
    await expectProblem(await w.fetch(`/v1/batches/${id}`, { headers: auth }), 404, 'unknown-batch');
    await expectProblem(await w.fetch(`/v1/batches/${id}/results`, { headers: auth }), 404, 'unknown-batch');
    await expectProblem(await w.fetch('/v1/batches/bat_00000000000000000000000000000000'), 404, 'unknown-batch');
    await expectProblem(await w.fetch(`/v1/batches/${id}`, { auth: false }), 401, 'unauthorized');
    await waitFor(w, id, terminal);
  });

  it('limits and validation: too many items -> 413 batch-too-large; bad items -> 400; unknown model -> 404', async () => {
    const many = Array.from({ length: 301 }, (_, i) => ({ url: img(i) }));
    const p = await expectProblem(await createBatch({ items: many }), 413, 'batch-too-large');
    expect(p.max_items).toBe(300);
    await expectProblem(await createBatch({ items: [] }), 400, 'invalid-request');
    await expectProblem(await createBatch({ items: [{ url: img(0), r2_key: 'x' }] }), 400, 'invalid-request');
    await expectProblem(await createBatch({ items: [{}] }), 400, 'invalid-request');
    await expectProblem(await createBatch({ items: [{ url: img(0) }], top_k: 0 }), 400, 'invalid-request');
    await expectProblem(await w.fetch('/v1/batches', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } }), 400, 'invalid-request');
    await expectProblem(await createBatch({ items: [{ url: img(0) }], model: 'no-such-model' }), 404, 'unknown-model');
    // callback_url gets the image URLs' SSRF checks.
    await expectProblem(await createBatch({ items: [{ url: img(0) }], callback_url: 'https://private.example.com/cb' }), 400, 'url-forbidden');
    await expectProblem(await createBatch({ items: [{ url: img(0) }], callback_url: 'http://hooks.example.com/cb' }), 400, 'url-forbidden');
    await expectProblem(await createBatch({ items: [{ url: img(0) }], callback_url: 'https://169.254.169.254/latest' }), 400, 'url-forbidden');
  });
});

describe('discovery', () => {
  it('/openapi.json documents the batch and webhook routes', async () => {
    const doc = (await (await w.fetch('/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const p of ['/v1/batches', '/v1/batches/{id}', '/v1/batches/{id}/results', '/v1/webhooks/ingest']) expect(doc.paths[p]).toBeDefined();
  });
});

describe('completion callbacks', () => {
  it('POSTs a signed batch.completed event; a receiver answering 500 three times gets retried with backoff; the log is in the status', async () => {
    failFirst.set('/cb/retry', 3);
    const res = await createBatch({ items: [{ url: img(0) }, { url: img(1) }], callback_url: 'https://hooks.example.com/cb/retry', metadata: { job: 7 } }, 'cb-1');
    const { id } = (await res.json()) as { id: string };
    const s = await waitFor(w, id, (x) => x.callback?.state === 'delivered' || x.callback?.state === 'failed', 60_000);
    const log = s.callback!.deliveries;
    expect(s.callback!.state, JSON.stringify(received.map((r) => [r.path, r.verified]))).toBe('delivered');
    expect(log.map((d) => [d.attempt, d.status, d.ok])).toEqual([[1, 500, false], [2, 500, false], [3, 500, false], [4, 204, true]]);
    expect(log.slice(0, 3).every((d) => d.error === 'HTTP 500' && d.next_retry_s! >= 1)).toBe(true);
    expect(log[3]!.next_retry_s).toBeNull();
    expect(s.callback!.delivered_at).toBeTruthy();

    const got = received.filter((r) => r.path === '/cb/retry');
    expect(got.length).toBe(4);
    expect(got.every((r) => r.verified)).toBe(true);
    // One message id across retries (Standard Webhooks), a fresh timestamp and signature per attempt.
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(got[0]!.headers['webhook-id']).toBe(`msg_${id}`);
    for (let i = 1; i < got.length; i++) expect(got[i]!.at - got[i - 1]!.at).toBeGreaterThanOrEqual(400); // backoff, not a tight loop
    const event = JSON.parse(got[3]!.body);
    expect(event.type).toBe('batch.completed');
    expect(event.data).toMatchObject({ id, status: 'completed', counts: { total: 2, done: 2, failed: 0, pending: 0 }, metadata: { job: 7 }, results_url: `http://edge.test/v1/batches/${id}/results` });
  });

  it('a receiver that times out is retried', async () => {
    const { id } = (await (await createBatch({ items: [{ url: img(3) }], callback_url: 'https://hooks.example.com/cb/slow' })).json()) as { id: string };
    const s = await waitFor(w, id, (x) => x.callback?.state === 'delivered' || x.callback?.state === 'failed', 60_000);
    expect(s.callback!.state).toBe('delivered');
    expect(s.callback!.deliveries.map((d) => [d.status, d.ok])).toEqual([[null, false], [204, true]]);
    expect(s.callback!.deliveries[0]!.error).toMatch(/timed out after 1500 ms/);
  });

  it('gives up after CALLBACK_MAX_ATTEMPTS and says so', async () => {
    failFirst.set('/cb/dead', 100);
    const { id } = (await (await createBatch({ items: [{ url: img(2) }], callback_url: 'https://hooks.example.com/cb/dead' })).json()) as { id: string };
    const s = await waitFor(w, id, (x) => x.callback?.state === 'failed' || x.callback?.state === 'delivered', 60_000);
    expect(s.callback!.state).toBe('failed');
    expect(s.callback!.deliveries.length).toBe(5);
    expect(s.callback!.deliveries.every((d) => !d.ok && d.status === 500)).toBe(true);
    expect(s.callback!.deliveries[4]!.next_retry_s).toBeNull();
    expect(received.filter((r) => r.path === '/cb/dead').length).toBe(5);
  });
});

describe('POST /v1/webhooks/ingest (Standard Webhooks)', () => {
  const ingest = async (body: unknown, o: { id?: string; ts?: number; secret?: string; sig?: string } = {}) => {
    const text = JSON.stringify(body);
    const h = await signatureHeaders(o.secret ?? w.webhookSecret, o.id ?? `wh_${crypto.randomUUID()}`, text, o.ts);
    if (o.sig) h['webhook-signature'] = o.sig;
    return w.fetch('/v1/webhooks/ingest', { method: 'POST', body: text, auth: false, headers: { 'content-type': 'application/json', ...h } });
  };

  it('a valid webhook creates a batch (owner webhook) that completes; a replayed webhook-id returns the same batch', async () => {
    const body = { urls: [img(3)], r2_keys: ['inbox/4.jpg'], top_k: 2 };
    const res = await ingest(body, { id: 'wh_replay_1' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const again = await ingest(body, { id: 'wh_replay_1' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const row = await w.db.prepare('SELECT owner, source, idem_key FROM batches WHERE id = ?').bind(id).first();
    expect(row).toEqual({ owner: 'webhook', source: 'webhook', idem_key: 'wh_replay_1' });
    expect((await w.db.prepare("SELECT COUNT(*) AS n FROM batches WHERE idem_key = 'wh_replay_1'").first<{ n: number }>())!.n).toBe(1);
    const s = await waitFor(w, id, terminal); // the dev key is admin: it may read webhook batches
    expect(s.status).toBe('completed');
    const lines = await results(w, id);
    expect(lines.map((l) => l.predictions!.length)).toEqual([2, 2]);
  });

  it('bad, missing, foreign-secret, expired and future signatures are 401 problems, never 500, and create nothing', async () => {
    const before = (await w.db.prepare('SELECT COUNT(*) AS n FROM batches').first<{ n: number }>())!.n;
    const body = { urls: [img(0)] };
    await expectProblem(await ingest(body, { sig: 'v1,AAAA' }), 401, 'invalid-signature');
    await expectProblem(await ingest(body, { sig: 'garbage' }), 401, 'invalid-signature');
    await expectProblem(await ingest(body, { secret: 'whsec_' + btoa('someone else entirely') }), 401, 'invalid-signature');
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await ingest(body, { ts: now - 301 }), 401, 'stale-webhook');
    await expectProblem(await ingest(body, { ts: now + 600 }), 401, 'stale-webhook');
    expect((await ingest(body, { ts: now - 200 })).status).toBe(202); // inside the 5-minute window
    const missing = await w.fetch('/v1/webhooks/ingest', { method: 'POST', body: JSON.stringify(body), auth: false, headers: { 'content-type': 'application/json' } });
    await expectProblem(missing, 401, 'invalid-signature');
    // A valid signature over a tampered body fails.
    const text = JSON.stringify(body);
    const h = await signatureHeaders(w.webhookSecret, 'wh_tamper', text);
    const tampered = await w.fetch('/v1/webhooks/ingest', { method: 'POST', body: text.replace('images', 'imagez'), auth: false, headers: { 'content-type': 'application/json', ...h } });
    await expectProblem(tampered, 401, 'invalid-signature');
    const after = (await w.db.prepare('SELECT COUNT(*) AS n FROM batches').first<{ n: number }>())!.n;
    expect(after).toBe(before + 1);
  });

  it('a signed webhook with a bad body is 400, an empty one too', async () => {
    await expectProblem(await ingest({ urls: 'nope' }), 400, 'invalid-request');
    await expectProblem(await ingest({}), 400, 'invalid-request');
  });
});

describe('dead-letter queue', () => {
  it('a chunk message arriving from the DLQ records its unrecorded items as failed, never drops them', async () => {
    // A batch whose chunk we dead-letter by hand: the work queue never sees it.
    await w.db.prepare(`INSERT INTO batches (id, owner, request_hash, source, model, top_k, threshold, base_url, total, status, created_at)
      VALUES ('bat_dead0000000000000000000000000000', 'dev', 'x', 'api', ?, 5, 0, 'http://edge.test', 3, 'running', ?)`).bind(MODEL, new Date().toISOString()).run();
    await w.db.prepare(`INSERT INTO batch_items (batch_id, idx, item_id, ok, error_type, error_detail, attempts, finished_at)
      VALUES ('bat_dead0000000000000000000000000000', 0, 'a', 0, 'image-decode-failed', 'x', 1, ?)`).bind(new Date().toISOString()).run();
    await w.db.prepare(`INSERT INTO item_errors (batch_id, idx, attempts, error_type, error_detail, updated_at)
      VALUES ('bat_dead0000000000000000000000000000', 1, 4, 'url-fetch-failed', 'The image URL answered HTTP 503.', ?)`).bind(new Date().toISOString()).run();
    const dlq = await w.mf.getQueueProducer(DLQ_PRODUCER);
    await dlq.send({ kind: 'chunk', batch_id: 'bat_dead0000000000000000000000000000', start: 0, items: [{ id: 'a', url: img(0) }, { id: 'b', url: img(1) }, { id: 'c', url: img(2) }] }, { contentType: 'json' });
    const s = await waitFor(w, 'bat_dead0000000000000000000000000000', terminal, 30_000);
    expect(s.status).toBe('failed');
    const lines = await results(w, 'bat_dead0000000000000000000000000000');
    expect(lines.map((l) => [l.id, l.error!.type])).toEqual([['a', 'image-decode-failed'], ['b', 'url-fetch-failed'], ['c', 'dead-lettered']]);
    expect(lines[1]!.error!.detail).toMatch(/gave up after 4 attempts/);
  });
});

describe('R2 event notifications', () => {
  it('a PutObject event under UPLOADS_PREFIX is tagged and queryable; other prefixes are ignored; a delete drops the tags', async () => {
    const q = await w.mf.getQueueProducer('UPLOADS_EVENTS');
    const tench = PHOTO_FILES.indexOf('n01440764_tench.JPEG');
    const put = async (key: string, bytes: Uint8Array) => {
      const o = await w.uploads.put(key, bytes);
      await q.send({ account: 'acc', action: 'PutObject', bucket: 'edge-vit-uploads', object: { key, size: bytes.byteLength, eTag: o!.etag }, eventTime: new Date().toISOString() }, { contentType: 'json' });
    };
    await put('uploads/fish.jpg', photo(PHOTO_FILES[Math.max(0, tench)]!));
    await put('elsewhere/fish.jpg', photo(PHOTO_FILES[0]!));
    await put('uploads/broken.jpg', new TextEncoder().encode('not an image'));
    const tags = async (key: string) => w.fetch(`/v1/uploads/tags?key=${encodeURIComponent(key)}`);
    let res: Response;
    const until = Date.now() + 30_000;
    while ((res = await tags('uploads/broken.jpg')).status !== 200 || (await tags('uploads/fish.jpg')).status !== 200) {
      if (Date.now() > until) throw new Error('tags never appeared');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('unsupported-media-type');
    const fish = (await (await tags('uploads/fish.jpg')).json()) as { predictions: Array<{ label: string }>; model: string };
    expect(fish.model).toBe(MODEL);
    expect(fish.predictions.length).toBe(3);
    expect(fish.predictions).toEqual(await syncPredictions(PHOTO_FILES[Math.max(0, tench)]!, 3));
    await expectProblem(await tags('elsewhere/fish.jpg'), 404, 'not-found');
    const byLabel = (await (await w.fetch(`/v1/uploads/tags?label=${encodeURIComponent(fish.predictions[0]!.label)}`)).json()) as { objects: Array<{ key: string }> };
    expect(byLabel.objects.map((o) => o.key)).toContain('uploads/fish.jpg');
    await q.send({ account: 'acc', action: 'DeleteObject', bucket: 'edge-vit-uploads', object: { key: 'uploads/fish.jpg' } }, { contentType: 'json' });
    const until2 = Date.now() + 30_000;
    while ((await tags('uploads/fish.jpg')).status !== 404) {
      if (Date.now() > until2) throw new Error('tags never dropped');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
});

const DLQ_PRODUCER = 'DLQ_TEST';

async function sha256(s: string) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
