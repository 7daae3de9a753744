#!/usr/bin/env node
// npm run models:report [-- <id> ...] [--n 30] [--limit 5000]
// The shipped CIFAR-10 models measured through the API in workerd, one Worker per model:
// hold-out top-1/top-5 via POST /v1/classify (the 5,000 images no model trained on) as served
// (with the manifest's test-time views) and from one view (tta=false), batch-1 latency
// (session.run in the isolate, and end to end both ways), cold start, and workerd memory.
// Prints the README's model table; raw numbers in .cache/bench/models.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, median, table, workerdMemory } from '../bench/stats.mjs';
import { ROOT, SHARED_DIR, discoverModels } from './lib/local-models.mjs';
import { cifarHoldout, indexTar, readMember } from './lib/tar.mjs';
import { progressBar } from './lib/progress.mjs';
import { buildWorker, startWorker } from './lib/worker-host.mjs';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: {
  n: { type: 'string', default: '30' }, limit: { type: 'string', default: '5000' }, batch: { type: 'string', default: '16' },
} });
const shipped = discoverModels([join(ROOT, 'models')]).map((m) => m.manifest)
  .filter((m) => m.metrics?.dataset === 'cifar10-holdout-5000' && (!positionals.length || positionals.includes(m.id)));
const tar = indexTar(join(SHARED_DIR, 'datasets', 'cifar10-train.tar'));
const all = cifarHoldout(tar);
const step = Math.max(1, Math.floor(all.length / Number(a.limit)));
const holdout = all.filter((_, i) => i % step === 0);
const images = holdout.map((h) => readMember(tar, h.name));

async function accuracy(w, id, extra = '') {
  const bar = progressBar(`${id} hold-out${extra}`);
  let top1 = 0, top5 = 0;
  const bs = Number(a.batch);
  for (let i = 0; i < images.length; i += bs) {
    const form = new FormData();
    for (const img of images.slice(i, i + bs)) form.append('image', new Blob([img], { type: 'image/jpeg' }), 'x.jpg');
    const res = await w.fetch(`/v1/classify?model=${id}&top_k=5${extra}`, { method: 'POST', body: form });
    if (!res.ok) throw new Error(`${id}: ${res.status} ${await res.text()}`);
    const { results } = await res.json();
    results.forEach((r, j) => {
      const want = holdout[i + j].label;
      if (r.predictions[0].index === want) top1++;
      if (r.predictions.some((p) => p.index === want)) top5++;
    });
    bar(Math.min(i + bs, images.length), images.length);
  }
  return { top1: top1 / images.length, top5: top5 / images.length };
}

async function measure(m) {
  const w = await startWorker({ models: [m.id], vars: { BENCH_ROUTES: 'true', DEFAULT_MODEL: m.id } });
  try {
    const post = async (path, body = '') => {
      const res = await w.fetch(path, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const cold = [];
    for (let i = 0; i < 3; i++) cold.push((await post(`/__bench/cold?model=${m.id}`)).ms);
    const raw = (await post(`/__bench/run?model=${m.id}&n=${a.n}`)).ms;
    const e2e = async (extra) => {
      const ms = [];
      for (let i = 0; i < Number(a.n); i++) {
        const t = performance.now();
        await post(`/v1/classify?model=${m.id}${extra}`, images[i]);
        ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const [e2eServed, e2eOne] = [await e2e(''), await e2e('&tta=false')];
    const acc = await accuracy(w, m.id);
    const one = m.tta?.length ? await accuracy(w, m.id, '&tta=false') : acc;
    return { id: m.id, family: m.family, params: m.params, bytes: m.onnx.bytes, precision: m.onnx.precision,
      tta: m.tta ?? [], stated_top1: m.metrics.top1, api: acc, api_one_view: one, epochs: m.training?.epochs, train_min: m.training?.wall_time_s / 60,
      raw_p50: median(raw), e2e_p50: e2eServed, e2e_one_view_p50: e2eOne, cold_p50: median(cold), workerd_peak_mib: workerdMemory().peak };
  } finally {
    await w.dispose();
  }
}

buildWorker();
const rows = [];
for (const m of shipped) {
  rows.push(await measure(m));
  console.log(JSON.stringify(rows.at(-1))); // a long run's finished rows survive an interruption
}
mkdirSync(join(ROOT, '.cache', 'bench'), { recursive: true });
writeFileSync(join(ROOT, '.cache', 'bench', 'models.json'), JSON.stringify(rows, null, 2));
const pct = (x) => (x === undefined ? 'n/a' : (100 * x).toFixed(2));
console.log(`\nShipped models through the API in workerd: ${images.length} hold-out images, batch-1 latency n=${a.n} (ms)\n`);
console.log(table(
  ['model', 'family', 'params', 'ONNX MB', 'views', 'top-1 % (API)', 'top-5 % (API)', 'top-1 % stated', 'top-1 % 1 view', 'epochs', 'train min', 'run p50', 'e2e p50', 'e2e 1 view', 'cold start', 'workerd peak MiB'],
  rows.map((r) => [r.id, r.family, (r.params / 1e6).toFixed(2) + 'M', (r.bytes / 1e6).toFixed(2), String(1 + r.tta.length), pct(r.api.top1), pct(r.api.top5), pct(r.stated_top1), pct(r.api_one_view.top1),
    fmt(r.epochs, 1), fmt(r.train_min, 0), fmt(r.raw_p50), fmt(r.e2e_p50), fmt(r.e2e_one_view_p50), fmt(r.cold_p50, 0), fmt(r.workerd_peak_mib, 0)]),
));
console.log('\nviews: forward passes per image as served, the image and its manifest\'s test-time views, averaged (1 view: tta=false); run: one session.run of one image inside the isolate;'
  + ' e2e: POST /v1/classify of one 32x32 JPEG from the client, as served and with tta=false;'
  + ' cold start: R2 read + sha256 + session create; memory: VmHWM of the workerd process (whole runtime).');
