#!/usr/bin/env node
// npm run bench [-- --model ID] [--n 40] [--image path] [--skip-large]
// The edge path in workerd, one process, same model and image for every row:
// raw session.run, decode+preprocess, end-to-end POST /v1/classify, cold start, memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { SHARED_DIR, discoverModels } from '../scripts/lib/local-models.mjs';
import { registerSqueezenet } from '../scripts/seed-local.mjs';
import { fmt, mean, median, quantile, table, workerdMemory } from './stats.mjs';
import { bigImage } from '../scripts/lib/big-image.mjs';
import { parseServerTiming } from '../scripts/lib/server-timing.mjs';
import { DEV_API_KEY } from '../scripts/keys.mjs';
import { rawConnection } from './raw-http.mjs';


// Means, not medians: workerd's clock has 1 ms steps, so only an average resolves sub-ms stages.
const SPLIT = ['client', 'outside the Worker', 'app', 'auth', 'limit', 'decode', 'preprocess', 'inference', 'rest of the Worker'];
function splitRow(stages) {
  const m = (f) => mean(stages.map(f));
  const pipeline = m((s) => s.pipeline);
  const parts = { client: m((s) => s.client), app: m((s) => s.app), auth: m((s) => s.auth), limit: m((s) => s.limit),
    decode: m((s) => s.decode), preprocess: m((s) => s.preprocess), inference: m((s) => s.inference) };
  parts['outside the Worker'] = parts.client - parts.app;
  parts['rest of the Worker'] = parts.app - parts.auth - parts.limit - pipeline; // body read, parse, top-k, JSON, log
  return SPLIT.map((k) => fmt(parts[k], 2));
}

const { values: a } = parseArgs({ options: { model: { type: 'string', multiple: true }, n: { type: 'string', default: '40' }, image: { type: 'string' }, 'skip-large': { type: 'boolean', default: false } } });
const n = Number(a.n);
const imagePath = a.image ?? join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
const jpeg = new Uint8Array(readFileSync(imagePath));

buildWorker();
await registerSqueezenet();
const available = discoverModels().map((m) => m.manifest);
const ids = a.model ?? available.filter((m) => m.tier === 'edge').map((m) => m.id);

const rows = [];
const splits = [];
for (const id of ids) {
  const w = await startWorker({ models: [id], port: 0, vars: { BENCH_ROUTES: 'true', DEFAULT_MODEL: id } });
  try {
    const base = workerdMemory();
    let lastTiming = null;
    const post = async (path, body, type = 'image/jpeg') => {
      const res = await w.fetch(path, { method: 'POST', body, headers: { 'content-type': type } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      lastTiming = res.headers.get('server-timing');
      return res.json();
    };
    // Raw runs first: ORT's linear memory is read after one session has loaded and run, before the
    // cold-start loop below creates and drops sessions (linear memory never shrinks).
    // V8 tiers WebAssembly up from Liftoff to TurboFan by use: a small model needs ~40 runs to
    // reach its steady speed (ConvMixer: 11 ms -> 5 ms), so warm up before measuring.
    const { ort_memory_bytes: ortBytes, ms: firstRuns } = await post(`/__bench/run?model=${id}&n=60`, '');
    const { ms: raw } = await post(`/__bench/run?model=${id}&n=${n}`, '');
    // The same runs after a decode of the JPEG, and after 5 ms idle: what a request's own steps
    // do to the run that follows them (caches, clock), compared as means with the split below.
    const { ms: afterDecode } = await post(`/__bench/run?model=${id}&n=${n}&between=decode`, jpeg);
    const { ms: afterIdle } = await post(`/__bench/run?model=${id}&n=${n}&between=idle`, '');
    const prep = (await post(`/__bench/preprocess?model=${id}&n=${Math.min(n, 20)}`, jpeg)).ms;
    const cold = [];
    for (let i = 0; i < 5; i++) cold.push((await post(`/__bench/cold?model=${id}`, '')).ms);
    await post(`/v1/classify?model=${id}`, jpeg); // warm
    const e2e = [];
    const stages = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await post(`/v1/classify?model=${id}`, jpeg);
      e2e.push(performance.now() - t);
      stages.push({ client: e2e.at(-1), ...parseServerTiming(lastTiming) });
    }
    splits.push([id, ...splitRow(stages), fmt(mean(raw), 2), fmt(mean(afterDecode), 2), fmt(mean(afterIdle), 2)]);
    // The local HTTP floor (Node client -> Miniflare's entry worker -> workerd -> the Worker's
    // middleware): what any request pays here before the route does anything.
    const floor = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await (await w.fetch('/healthz')).arrayBuffer();
      floor.push(performance.now() - t);
    }
    // The same for an upload of the same JPEG to a route that only reads it.
    const sink = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await post('/__bench/sink', jpeg);
      sink.push({ client: performance.now() - t, ...parseServerTiming(lastTiming) });
    }
    splits.at(-1).push(fmt(mean(sink.map((s) => s.client)), 2), fmt(mean(sink.map((s) => s.client - s.app)), 2));
    // Both again from one raw keep-alive socket (bench/raw-http.mjs: the request in one write, no
    // Node fetch, no Miniflare dispatch): what a lean client pays on loopback.
    for (const path of ['/__bench/sink', `/v1/classify?model=${id}`]) {
      const conn = rawConnection(new URL(path, w.url).href, { headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'image/jpeg' }, body: jpeg });
      const ms = [];
      for (let i = 0; i < n + 5; i++) {
        const t = performance.now();
        if ((await conn.send()) !== 200) throw new Error(`${path} over a raw socket failed`);
        if (i >= 5) ms.push(performance.now() - t);
      }
      conn.close();
      splits.at(-1).push(fmt(mean(ms), 2));
    }
    const mem = workerdMemory();
    rows.push([id, fmt(median(firstRuns.slice(0, 10))), fmt(median(raw)), fmt(quantile(raw, 0.95)), fmt(median(prep)), fmt(median(e2e)), fmt(quantile(e2e, 0.95)),
      fmt(median(e2e) / median(raw), 2), fmt(median(floor)), fmt(median(cold), 0), fmt(ortBytes / 2 ** 20, 0), fmt(base.rss, 0), fmt(mem.peak, 0)]);
    console.error(`${id}: done`);
  } finally {
    await w.dispose();
  }
}

// Large images through the reduced decoders (src/images/jpeg-reduced.ts, png.ts) against the full
// decode, each in a fresh workerd: a phone photo, and a 36 MP PNG that compresses to ~0.1 MB.
const largeImages = a['skip-large'] ? [] : [
  ['JPEG 4032x3024 (phone photo, q90)', 'image/jpeg', bigImage(imagePath, 4032, 3024, 'JPEG'), 'reduced from the DCT coefficients (1/8 here)'],
  ['PNG 6000x6000 (the photo, 16x16 tiles)', 'image/png', bigImage(imagePath, 6000, 6000, 'PNG', 16), 'box-reduced while it inflates'],
];
const largeModel = a.model?.[0] ?? 'squeezenet1.1-imagenet';
const largeRows = [];
for (const [what, type, body, how] of largeImages) {
  for (const [label, full] of [[`${how}, as shipped`, false], ['full size (REDUCE_ABOVE_PIXELS=0)', true]]) {
    // Full size: the full-decode budget lifted too, or the 36 MP PNG would be refused (as shipped it is).
    const vars = full ? { REDUCE_ABOVE_PIXELS: '0', MAX_FULL_DECODE_PIXELS: '40000000' } : {};
    const w = await startWorker({ models: [largeModel], vars: { DEFAULT_MODEL: largeModel, ...vars } });
    try {
      // The model loaded and every decoder instantiated by a small JPEG first: the peak after that is the image's.
      await (await w.fetch(`/v1/classify?model=${largeModel}`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } })).arrayBuffer();
      const base = workerdMemory();
      const decode = [], e2e = [];
      let afterOne = 0;
      // Peak memory after the first image (later ones add uncollected garbage to the peak); times after 2 warm-up runs.
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const res = await w.fetch(`/v1/classify?model=${largeModel}`, { method: 'POST', body, headers: { 'content-type': type } });
        const json = await res.json();
        if (!res.ok) throw new Error(`${what}: ${res.status} ${JSON.stringify(json)}`);
        if (i === 0) afterOne = workerdMemory().peak;
        if (i < 2) continue;
        e2e.push(performance.now() - t);
        decode.push(json.timings_ms.decode);
      }
      largeRows.push([what, `${(body.length / 1e6).toFixed(1)} MB`, label, fmt(median(decode)), fmt(median(e2e)), fmt(base.peak, 0), fmt(afterOne, 0), fmt(afterOne - base.peak, 0)]);
    } finally {
      await w.dispose();
    }
  }
}

console.log(`\nEdge path in workerd (onnxruntime-web WASM, 1 thread, SIMD), image ${imagePath.split('/').pop()}, n=${n}, ms\n`);
console.log(table(['model', 'first 10 runs p50', 'raw run p50', 'raw p95', 'decode+prep p50', 'e2e p50', 'e2e p95', 'e2e/raw', 'healthz p50', 'cold start', 'ORT heap MiB', 'workerd RSS idle MiB', 'workerd peak MiB'], rows));
console.log('\nfirst 10 runs: session.run right after the session was created (before V8 tiers the WASM up); raw: session.run inside the isolate after 60 warm-up runs; e2e: POST /v1/classify measured by the client over Miniflare (includes HTTP, decode, preprocess, postprocess);');
console.log(`\nWhere the e2e time goes (means of the same ${n} POST /v1/classify; the Worker's stages from its Server-Timing header), ms\n`);
console.log(table(['model', ...SPLIT, 'raw run', 'raw run after a decode', 'raw run after 5 ms idle', 'sink: client', 'sink: outside the Worker', 'sink: raw socket', 'e2e: raw socket'], splits));
console.log('\noutside the Worker: client - app (Node fetch, Miniflare\'s entry worker, workerd\'s HTTP); rest of the Worker: app - auth - limit - pipeline (body read and parse, top-k, JSON, the log line); raw run: the back-to-back loop\'s mean, then with a decode of the same JPEG or a 5 ms idle timer before each run;');
console.log('sink: the same JPEG POSTed to a bench route that only reads the body (the local floor of an upload through the same middleware); raw socket: the sink and the e2e POST from one keep-alive socket, the request in one write (no Node fetch, no Miniflare dispatch).');
if (largeRows.length) {
  console.log(`\nLarge images (${largeModel}; a fresh workerd per row; decode and e2e: p50 of 5 after 2 warm-up runs), ms / MiB\n`);
  console.log(table(['image', 'bytes', 'decoding', 'decode p50', 'e2e p50', 'workerd peak MiB after a 500x375 JPEG', 'after one of these', 'the image\'s peak'], largeRows));
}
console.log('cold start: R2 read + sha256 verify + session create inside the isolate; memory: VmRSS/VmHWM of the workerd process (whole runtime, not one isolate).');
