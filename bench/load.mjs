#!/usr/bin/env node
// npm run bench:load [-- --duration 60 --connections 8 --model convmixer-cifar10]
// Sustained load on the real Worker in workerd, listening on loopback: POST /v1/classify with a
// real photo, autocannon at fixed concurrency. The key used has a rate limit high enough not to
// interfere (the default per-key limit would answer 429 to a load test, as it should).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { SHARED_DIR } from '../scripts/lib/local-models.mjs';
import { fmt, table } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '8' },
  model: { type: 'string', default: 'convmixer-cifar10' }, image: { type: 'string' },
} });
const KEY = 'load-test-key';
const body = readFileSync(a.image ?? join(SHARED_DIR, 'images', 'n01440764_tench.JPEG'));

buildWorker();
const w = await startWorker({
  models: [a.model], port: 0,
  keys: [{ key: KEY, id: 'load', scopes: ['classify'], rate_limit: { per_minute: 1_000_000, burst: 100_000 } }],
});
try {
  const url = new URL(`/v1/classify?model=${a.model}`, w.url).href;
  // Warm the session so the run measures steady state, not the cold start.
  await fetch(url, { method: 'POST', body, headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${KEY}` } });
  const r = await autocannon({
    url, method: 'POST', body, connections: Number(a.connections), duration: Number(a.duration),
    headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${KEY}` },
  });
  const l = r.latency;
  console.log(`\nLoad: ${a.model}, POST /v1/classify of a ${body.length}-byte JPEG, ${a.connections} connections for ${a.duration} s (workerd via Miniflare on loopback)\n`);
  console.log(table(['requests', 'req/s (mean)', 'p50 ms', 'p90 ms', 'p99 ms', 'p99/p50', 'non-2xx', 'errors', 'timeouts'], [[
    r.requests.total, fmt(r.requests.average), fmt(l.p50), fmt(l.p90), fmt(l.p99), fmt(l.p99 / l.p50, 2), r.non2xx, r.errors, r.timeouts,
  ]]));
  const ok = r.errors === 0 && r.non2xx === 0 && r.timeouts === 0;
  console.log(`\ngoal: zero errors (${ok ? 'met' : 'NOT met'}), p99 <= 3 x p50 (${l.p99 <= 3 * l.p50 ? 'met' : 'NOT met'})`);
} finally {
  await w.dispose();
}
