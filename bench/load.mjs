#!/usr/bin/env node
// npm run bench:load [-- --duration 60 --connections 8 --timeout 10 --model convmixer-cifar10 --image path --no-build --client autocannon|fetch]
// Sustained load on the real Worker in workerd, listening on loopback: POST /v1/classify of a
// real 32x32 CIFAR-10 JPEG (from ../shared/datasets/cifar10-train.tar; --image for another file)
// with the dev key, autocannon at fixed concurrency for --duration seconds.
//
// Rate limit: the per-key token bucket (RATE_LIMIT_PER_MINUTE, 600/min by default) would answer
// 429 to a load test, as it should. scripts/lib/worker-host.mjs seeds the dev key with its own
// bucket of 1,000,000/min (burst 100,000), so the run measures the serving path, not the limiter;
// every request still goes through the key lookup and the limiter's Durable Object.
// --rate-limited seeds a key with the production defaults instead, to watch the 429s.
// --no-rate-limit turns the limiter off (RATE_LIMIT_PER_MINUTE=0, a key without its own bucket):
// requests then skip the Durable Object, to tell its share of errors and latency.
// --client fetch: the same closed loop (one request in flight per connection) with Node's own
// fetch (undici, keep-alive pool) instead of autocannon, as a cross-check of the client's share
// of the latency tail.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { SHARED_DIR } from '../scripts/lib/local-models.mjs';
import { indexTar, readMember } from '../scripts/lib/tar.mjs';
import { DEV_API_KEY } from '../scripts/keys.mjs';
import { fmt, quantile, table, workerdMemory } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '8' },
  model: { type: 'string', default: 'convmixer-cifar10' }, image: { type: 'string' },
  timeout: { type: 'string', default: '10' }, client: { type: 'string', default: 'autocannon' }, 'no-build': { type: 'boolean', default: false }, 'rate-limited': { type: 'boolean', default: false },
  'no-rate-limit': { type: 'boolean', default: false },
} });

function defaultImage() {
  const tar = join(SHARED_DIR, 'datasets', 'cifar10-train.tar');
  if (existsSync(tar)) return { name: 'train/cat/0000.jpg (CIFAR-10, 32x32)', bytes: readMember(indexTar(tar), 'train/cat/0000.jpg') };
  const photo = join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
  return { name: `${photo} (no CIFAR tar found)`, bytes: new Uint8Array(readFileSync(photo)) };
}
const img = a.image ? { name: a.image, bytes: new Uint8Array(readFileSync(a.image)) } : defaultImage();
const type = img.bytes[0] === 0x89 ? 'image/png' : img.bytes[0] === 0x52 ? 'image/webp' : 'image/jpeg';
const KEY = a['rate-limited'] ? 'load-test-limited-key' : a['no-rate-limit'] ? 'load-test-unlimited-key' : DEV_API_KEY;

if (!a['no-build']) buildWorker();
const w = await startWorker({
  models: [a.model], port: 0,
  vars: a['no-rate-limit'] ? { RATE_LIMIT_PER_MINUTE: '0' } : {},
  // Production default bucket (wrangler.toml: 600/min, burst 120) for --rate-limited.
  keys: [
    { key: 'load-test-limited-key', id: 'load-limited', scopes: ['classify'], rate_limit: { per_minute: 600, burst: 120 } },
    { key: 'load-test-unlimited-key', id: 'load-unlimited', scopes: ['classify'] },
  ],
});
try {
  const url = new URL(`/v1/classify?model=${a.model}`, w.url).href;
  const headers = { 'content-type': type, authorization: `Bearer ${KEY}` };
  // Warm the session so the run measures steady state, not the cold start.
  const warm = await fetch(url, { method: 'POST', body: img.bytes, headers });
  if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}: ${await warm.text()}`);
  // Errors by kind (a timeout is a request unanswered after --timeout s; autocannon then reconnects).
  const errorKinds = new Map();
  const countError = (k) => errorKinds.set(k, (errorKinds.get(k) ?? 0) + 1);
  const r = a.client === 'fetch' ? await fetchLoop(url, headers) : await (() => {
    const instance = autocannon({
      url, method: 'POST', body: Buffer.from(img.bytes), connections: Number(a.connections), duration: Number(a.duration),
      timeout: Number(a.timeout), headers,
    });
    instance.on('reqError', (e) => countError(e?.code ?? e?.message ?? String(e)));
    return instance;
  })();

  /** Closed loop with fetch, reported in autocannon's result shape. */
  async function fetchLoop(url, headers) {
    const lat = []; const codes = {}; let errors = 0, timeouts = 0;
    const end = Date.now() + Number(a.duration) * 1000;
    await Promise.all(Array.from({ length: Number(a.connections) }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        try {
          const res = await fetch(url, { method: 'POST', body: img.bytes, headers, signal: AbortSignal.timeout(Number(a.timeout) * 1000) });
          await res.arrayBuffer();
          lat.push(performance.now() - t);
          codes[res.status] = { count: (codes[res.status]?.count ?? 0) + 1 };
        } catch (e) {
          errors++;
          if (e?.name === 'TimeoutError') timeouts++;
          countError(e?.name === 'TimeoutError' ? 'timeout' : e?.cause?.code ?? e?.message);
        }
      }
    }));
    const ok = Object.entries(codes).filter(([c]) => c.startsWith('2')).reduce((n, [, v]) => n + v.count, 0);
    return {
      requests: { total: lat.length, average: lat.length / Number(a.duration) },
      latency: { p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: Math.max(...lat) },
      '2xx': ok, non2xx: lat.length - ok, errors, timeouts, statusCodeStats: codes,
    };
  }
  const l = r.latency;
  const mem = workerdMemory();
  console.log(`\nLoad: ${a.model}, POST /v1/classify of ${img.name}, ${img.bytes.length} bytes, key ${KEY === DEV_API_KEY ? 'edge-vit-dev-key (1e6/min bucket)' : a['no-rate-limit'] ? 'without a bucket, limiter off' : 'rate-limited (600/min, burst 120)'}`);
  console.log(`${a.client} client, ${a.connections} connections for ${a.duration} s; workerd via Miniflare on 127.0.0.1; workerd peak RSS ${fmt(mem.peak, 0)} MiB\n`);
  console.log(table(['requests', 'req/s (mean)', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99/p50', '2xx', 'non-2xx', 'errors', 'timeouts'], [[
    r.requests.total, fmt(r.requests.average), fmt(l.p50), fmt(l.p90), fmt(l.p99), fmt(l.max), fmt(l.p99 / l.p50, 2), r['2xx'], r.non2xx, r.errors, r.timeouts,
  ]]));
  if (r.statusCodeStats) console.log(`\nstatus codes: ${Object.entries(r.statusCodeStats).map(([s, v]) => `${s} x${v.count}`).join(', ')}`);
  if (errorKinds.size) console.log(`errors by kind: ${[...errorKinds].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  const ok = r.errors === 0 && r.non2xx === 0 && r.timeouts === 0;
  console.log(`goal: zero errors (${ok ? 'met' : 'NOT met'}), p99 <= 3 x p50 (${l.p99 <= 3 * l.p50 ? 'met' : 'NOT met'})`);
  process.exitCode = 0;
} finally {
  await w.dispose();
}
