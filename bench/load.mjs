#!/usr/bin/env node
// npm run bench:load [-- --duration 60 --connections 8 --timeout 10 --model convmixer-cifar10 --image path
//                       --clients autocannon,fetch[,socket,socket-split] --no-build --rate-limited | --no-rate-limit]
// Sustained load on the real Worker in workerd, listening on loopback: POST /v1/classify of a
// real 32x32 CIFAR-10 JPEG (from ../shared/datasets/cifar10-train.tar; --image for another file)
// with the dev key, at fixed concurrency for --duration seconds per client.
//
// Two closed-loop clients, one after the other against the same Worker (one request in flight per
// connection): autocannon, and Node's fetch (undici). autocannon (like wrk) writes each request's
// headers and body in one packet, undici in two; local workerd used to admit concurrent
// single-packet requests far out of arrival order until the Worker's CPU gate yielded to the event
// loop before each step (`--clients socket,socket-split` runs one raw client both ways;
// bench/fairness.mjs shows it without this project's code). The table also gives, from the
// Worker's own request logs, the time each request spent inside the Worker.
//
// Rate limit: the per-key token bucket (RATE_LIMIT_PER_MINUTE, 600/min by default) would answer
// 429 to a load test, as it should. scripts/lib/worker-host.mjs seeds the dev key with its own
// bucket of 1,000,000/min, so the run measures the serving path, not the limiter; every request
// still goes through the key lookup and the limiter's Durable Object. --rate-limited seeds a key
// with the production defaults to watch the 429s; --no-rate-limit turns the limiter off.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { SHARED_DIR } from '../scripts/lib/local-models.mjs';
import { indexTar, readMember } from '../scripts/lib/tar.mjs';
import { DEV_API_KEY } from '../scripts/keys.mjs';
import { rawConnection } from './raw-http.mjs';
import { fmt, quantile, table, workerdMemory } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '8' },
  model: { type: 'string', default: 'convmixer-cifar10' }, image: { type: 'string' },
  timeout: { type: 'string', default: '10' }, clients: { type: 'string', default: 'autocannon,fetch' },
  'no-build': { type: 'boolean', default: false }, 'rate-limited': { type: 'boolean', default: false },
  'no-rate-limit': { type: 'boolean', default: false },
} });
const duration = Number(a.duration), connections = Number(a.connections);

function defaultImage() {
  const tar = join(SHARED_DIR, 'datasets', 'cifar10-train.tar');
  if (existsSync(tar)) return { name: 'train/cat/0000.jpg (CIFAR-10, 32x32)', bytes: readMember(indexTar(tar), 'train/cat/0000.jpg') };
  const photo = join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
  return { name: `${photo} (no CIFAR tar found)`, bytes: new Uint8Array(readFileSync(photo)) };
}
const img = a.image ? { name: a.image, bytes: new Uint8Array(readFileSync(a.image)) } : defaultImage();
const type = img.bytes[0] === 0x89 ? 'image/png' : img.bytes[0] === 0x52 ? 'image/webp' : 'image/jpeg';
const KEY = a['rate-limited'] ? 'load-test-limited-key' : a['no-rate-limit'] ? 'load-test-unlimited-key' : DEV_API_KEY;

/** Time inside the Worker per request, from its JSON request logs (workerd's stdout). */
const workerDurations = [];
function collectRequestLogs(stdout, stderr) {
  createInterface({ input: stdout }).on('line', (line) => {
    if (!line.includes('"msg":"request"')) return;
    try { const j = JSON.parse(line); if (j.route === '/v1/classify') workerDurations.push(j.duration_ms); } catch { /* not ours */ }
  });
  stderr.resume();
}

if (!a['no-build']) buildWorker();
const w = await startWorker({
  models: [a.model], port: 0,
  vars: { REQUEST_LOGS: 'true', ...(a['no-rate-limit'] ? { RATE_LIMIT_PER_MINUTE: '0' } : {}) },
  miniflare: { handleRuntimeStdio: collectRequestLogs },
  keys: [
    { key: 'load-test-limited-key', id: 'load-limited', scopes: ['classify'], rate_limit: { per_minute: 600, burst: 120 } },
    { key: 'load-test-unlimited-key', id: 'load-unlimited', scopes: ['classify'] },
  ],
});

const url = new URL(`/v1/classify?model=${a.model}`, w.url).href;
const headers = { 'content-type': type, authorization: `Bearer ${KEY}` };

function runAutocannon(countError) {
  const instance = autocannon({ url, method: 'POST', body: Buffer.from(img.bytes), connections, duration, timeout: Number(a.timeout), headers });
  instance.on('reqError', (e) => countError(e?.code ?? e?.message ?? String(e)));
  return instance;
}

/**
 * A closed loop (one request in flight per connection) around `send`, which resolves to an HTTP
 * status; reported in autocannon's result shape.
 */
async function closedLoop(send, countError) {
  const lat = []; const codes = {}; let errors = 0, timeouts = 0;
  const end = Date.now() + duration * 1000;
  await Promise.all(Array.from({ length: connections }, async (_, conn) => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        const status = await send(conn);
        lat.push(performance.now() - t);
        codes[status] = { count: (codes[status]?.count ?? 0) + 1 };
      } catch (e) {
        errors++;
        if (e?.name === 'TimeoutError') timeouts++;
        countError(e?.name === 'TimeoutError' ? 'timeout' : e?.cause?.code ?? e?.code ?? e?.message);
      }
    }
  }));
  const ok = Object.entries(codes).filter(([c]) => c.startsWith('2')).reduce((n, [, v]) => n + v.count, 0);
  return {
    requests: { total: lat.length, average: lat.length / duration },
    latency: { p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: Math.max(...lat) },
    '2xx': ok, non2xx: lat.length - ok, errors, timeouts, statusCodeStats: codes,
  };
}

/** Node's fetch (undici, keep-alive pool). */
function runFetch(countError) {
  return closedLoop(async () => {
    const res = await fetch(url, { method: 'POST', body: img.bytes, headers, signal: AbortSignal.timeout(Number(a.timeout) * 1000) });
    await res.arrayBuffer();
    return res.status;
  }, countError);
}

/** Raw HTTP/1.1, one keep-alive socket per connection (bench/raw-http.mjs), one packet or split. */
function runSocket(split) {
  return (countError) => {
    const conns = Array.from({ length: connections }, () => rawConnection(url, { headers: { 'content-type': type, authorization: headers.authorization }, body: img.bytes, split, timeoutMs: Number(a.timeout) * 1000 }));
    return closedLoop((conn) => conns[conn].send(), countError).finally(() => { for (const c of conns) c.close(); });
  };
}

const CLIENTS = { autocannon: runAutocannon, fetch: runFetch, socket: runSocket(false), 'socket-split': runSocket(true) };
try {
  // Warm the session so the run measures steady state, not the cold start.
  const warm = await fetch(url, { method: 'POST', body: img.bytes, headers });
  if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}: ${await warm.text()}`);
  const rows = [], notes = [], verdicts = [];
  for (const name of a.clients.split(',')) {
    const run = CLIENTS[name];
    if (!run) throw new Error(`unknown client "${name}" (${Object.keys(CLIENTS).join(', ')})`);
    const errorKinds = new Map();
    const from = workerDurations.length;
    const r = await run((k) => errorKinds.set(k, (errorKinds.get(k) ?? 0) + 1));
    await new Promise((res) => setTimeout(res, 300)); // the last log lines
    const inside = workerDurations.slice(from);
    const l = r.latency;
    const errors = r.errors + r.non2xx + r.timeouts;
    rows.push([`${name}, at the client`, r.requests.total, fmt(r.requests.average), fmt(l.p50), fmt(l.p90), fmt(l.p99), fmt(l.max), fmt(l.p99 / l.p50, 2), r['2xx'], r.non2xx, r.errors, r.timeouts]);
    rows.push([`${name}, inside the Worker`, inside.length, '', fmt(quantile(inside, 0.5)), fmt(quantile(inside, 0.9)), fmt(quantile(inside, 0.99)), fmt(Math.max(...inside)), fmt(quantile(inside, 0.99) / quantile(inside, 0.5), 2), '', '', '', '']);
    if (r.statusCodeStats) notes.push(`${name} status codes: ${Object.entries(r.statusCodeStats).map(([s, v]) => `${s} x${v.count}`).join(', ')}`);
    if (errorKinds.size) notes.push(`${name} errors by kind: ${[...errorKinds].map(([k, n]) => `${k} x${n}`).join(', ')}`);
    verdicts.push(`${name}: zero errors ${errors === 0 ? 'met' : 'NOT met'}, p99 <= 3 x p50 ${l.p99 <= 3 * l.p50 ? 'met' : 'NOT met'} at the client`
      + ` (${quantile(inside, 0.99) <= 3 * quantile(inside, 0.5) ? 'met' : 'NOT met'} inside the Worker)`);
  }
  const mem = workerdMemory();
  console.log(`\nLoad: ${a.model}, POST /v1/classify of ${img.name}, ${img.bytes.length} bytes, key ${KEY === DEV_API_KEY ? 'edge-vit-dev-key (1e6/min bucket)' : a['no-rate-limit'] ? 'without a bucket, limiter off' : 'rate-limited (600/min, burst 120)'}`);
  console.log(`${connections} connections for ${duration} s per client; workerd via Miniflare on 127.0.0.1; workerd peak RSS ${fmt(mem.peak, 0)} MiB`);
  console.log(`"inside the Worker": duration_ms of the Worker's request logs (observe() middleware: auth, limiter, body, decode, inference, response)\n`);
  console.log(table(['run', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99/p50', '2xx', 'non-2xx', 'errors', 'timeouts'], rows));
  console.log(`\n${notes.join('\n')}\ngoal: ${verdicts.join('; ')}`);
} finally {
  await w.dispose();
}
