// 1,000-item batches through Miniflare's real Queues, D1 and R2: one clean (the throughput
// benchmark, against sequential POST /v1/classify with the same model and photos), one with
// every injected fault at once (consumer crashes mid-chunk, a queue() invocation that throws
// with messages un-acked, every chunk delivered twice, a callback receiver answering 500 three
// times). Both must record every item exactly once. SOAK_ITEMS overrides the size.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/lib/webhook-signature';
import { PHOTOS, photo } from '../support/images';
import { MODEL, dohAnswer, results, startBatchWorker, terminal, waitFor, type BatchWorker } from '../support/batches';

// Completion, not speed, is under test: on two shared cores a 1,000-item batch can take minutes.
const SOAK_TIMEOUT_MS = 600_000;

const N = Number(process.env.SOAK_ITEMS ?? 1000);
const PHOTO_FILES = readdirSync(PHOTOS).filter((f) => /\.jpe?g$/i.test(f)).sort();
const fileOf = (i: number) => PHOTO_FILES[i % PHOTO_FILES.length]!;
const PHOTO_BYTES = new Map(PHOTO_FILES.map((f) => [f, photo(f)]));

function outbound(received: Array<{ verified: boolean; body: string; id: string }>, secret: () => string, failFirst: { n: number }) {
  return async (req: Request) => {
    const url = new URL(req.url);
    const dns = dohAnswer(url);
    if (dns) return dns;
    if (url.hostname === 'images.example.com') {
      const b = PHOTO_BYTES.get(decodeURIComponent(url.pathname.slice(1)));
      return b ? new Response(b, { headers: { 'content-type': 'image/jpeg' } }) : new Response('no', { status: 404 });
    }
    if (url.hostname === 'hooks.example.com') {
      const body = await req.text();
      const v = await verify(secret(), Object.fromEntries([...req.headers]), body);
      received.push({ verified: v.ok, body, id: req.headers.get('webhook-id') ?? '' });
      if (failFirst.n-- > 0) return new Response('down', { status: 500 });
      return new Response(null, { status: v.ok ? 204 : 401 });
    }
    return new Response('outbound network is disabled here', { status: 599 });
  };
}

const items = Array.from({ length: N }, (_, i) => ({ id: `item-${i}`, url: `https://images.example.com/${fileOf(i)}` }));

/** Every item exactly once, in order, each with the predictions /v1/classify gives its photo. */
async function expectExactlyOnce(w: BatchWorker, id: string, sync: Map<string, unknown>) {
  const lines = await results(w, id);
  expect(lines.length).toBe(N);
  expect(lines.map((l) => l.idx)).toEqual(items.map((_, i) => i));
  expect(lines.every((l, i) => l.ok && l.id === `item-${i}`)).toBe(true);
  let mismatches = 0;
  for (const [i, l] of lines.entries()) if (JSON.stringify(l.predictions) !== JSON.stringify(sync.get(fileOf(i)))) mismatches++;
  expect(mismatches).toBe(0);
  const row = await w.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT idx) AS d, MIN(idx) AS lo, MAX(idx) AS hi FROM batch_items WHERE batch_id = ?').bind(id).first();
  expect(row).toEqual({ n: N, d: N, lo: 0, hi: N - 1 });
}

async function syncAll(w: BatchWorker) {
  const sync = new Map<string, unknown>();
  for (const f of PHOTO_FILES) {
    const res = await w.fetch(`/v1/classify?model=${MODEL}&top_k=5`, { method: 'POST', body: PHOTO_BYTES.get(f)!, headers: { 'content-type': 'image/jpeg' } });
    sync.set(f, ((await res.json()) as { results: Array<{ predictions: unknown }> }).results[0]!.predictions);
  }
  return sync;
}

describe(`a ${N}-item batch, clean: throughput vs /v1/classify`, () => {
  let w: BatchWorker;
  const received: Array<{ verified: boolean; body: string; id: string }> = [];
  beforeAll(async () => {
    w = await startBatchWorker({ vars: { BATCH_CHUNK_ITEMS: '20' }, outbound: outbound(received, () => w.callbackSecret, { n: 0 }) as never, maxBatchSize: 4 });
  });
  afterAll(async () => { await w?.dispose(); });

  it(`completes with exactly ${N} result lines; items/s reported`, async () => {
    const sync = await syncAll(w); // also warms the model
    // Single-request throughput: sequential POST /v1/classify of the same URLs (fetch + decode + infer).
    const M = Math.min(200, N);
    const t0 = performance.now();
    for (let i = 0; i < M; i++) {
      const res = await w.fetch(`/v1/classify?model=${MODEL}`, { method: 'POST', body: JSON.stringify({ url: items[i]!.url }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const syncRate = M / ((performance.now() - t0) / 1000);

    const t1 = performance.now();
    const res = await w.fetch('/v1/batches', { method: 'POST', body: JSON.stringify({ items, callback_url: 'https://hooks.example.com/done' }), headers: { 'content-type': 'application/json', 'idempotency-key': 'soak-clean' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const s = await waitFor(w, id, terminal, 600_000);
    const batchSeconds = (performance.now() - t1) / 1000;
    expect(s.status).toBe('completed');
    expect(s.counts).toEqual({ total: N, done: N, failed: 0, pending: 0 });
    await expectExactlyOnce(w, id, sync);
    const done = await waitFor(w, id, (x) => x.callback?.state === 'delivered', 30_000);
    expect(done.callback!.deliveries.length).toBe(1);
    expect(received.length).toBe(1);
    expect(received[0]!.verified).toBe(true);
    const rate = N / batchSeconds;
    console.log(`[bench] batch: ${N} items in ${batchSeconds.toFixed(1)} s = ${rate.toFixed(1)} items/s; sequential /v1/classify (url): ${syncRate.toFixed(1)} req/s; ratio ${(rate / syncRate).toFixed(2)}`);
  }, SOAK_TIMEOUT_MS);
});

describe(`a ${N}-item batch under injected faults loses and duplicates nothing`, () => {
  let w: BatchWorker;
  const received: Array<{ verified: boolean; body: string; id: string }> = [];
  beforeAll(async () => {
    w = await startBatchWorker({
      vars: {
        BATCH_CHUNK_ITEMS: '20', BATCH_RETRY_BASE_SECONDS: '0',
        // 40% of chunk messages crash after recording 7 of their items, on attempts 1 and 2;
        // every chunk is sent twice; queue() throws with the rest of its messages un-acked.
        FAULT_INJECT: 'crash_after=7,crash_rate=0.4,crash_attempts=2,dup_send=1,throw_invocation=1',
      },
      outbound: outbound(received, () => w.callbackSecret, { n: 3 }) as never,
      maxBatchSize: 4,
      maxRetries: 5,
    });
  });
  afterAll(async () => { await w?.dispose(); });

  it('every item recorded exactly once; redeliveries seen and skipped; callback delivered after 3 failures', async () => {
    const sync = await syncAll(w);
    const res = await w.fetch('/v1/batches', { method: 'POST', body: JSON.stringify({ items, callback_url: 'https://hooks.example.com/done' }), headers: { 'content-type': 'application/json', 'idempotency-key': 'soak-faults' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const s = await waitFor(w, id, terminal, 600_000);
    expect(s.status).toBe('completed');
    expect(s.counts).toEqual({ total: N, done: N, failed: 0, pending: 0 });
    await expectExactlyOnce(w, id, sync);
    // Duplicates really happened: every chunk came twice, crashed chunks came again.
    expect(s.redelivered_items).toBeGreaterThanOrEqual(N);
    const crashed = await w.db.prepare('SELECT COUNT(*) AS n FROM batch_items WHERE batch_id = ? AND attempts > 1').bind(id).first<{ n: number }>();
    expect(crashed!.n).toBeGreaterThan(0);
    const done = await waitFor(w, id, (x) => x.callback?.state === 'delivered' || x.callback?.state === 'failed', 60_000);
    expect(done.callback!.deliveries.map((d) => d.status)).toEqual([500, 500, 500, 204]);
    expect(received.length).toBe(4);
    expect(received.every((r) => r.verified && r.id === `msg_${id}`)).toBe(true);
    console.log(`[soak] ${N} items, redelivered+skipped ${s.redelivered_items}, items written on a retry ${crashed!.n}`);
  }, SOAK_TIMEOUT_MS);
});
