#!/usr/bin/env node
// npm run bench:compare [-- --model vit-tiny-bench] [--n 30] [--image path]
// One process, one model file, one image: where does a ViT spend its time at the edge, and how
// far is the edge path from native code? Rows (all single-threaded):
//   API end to end in workerd   POST /v1/classify over Miniflare (HTTP, decode, preprocess, run, top-k)
//   session.run in workerd       onnxruntime-web WASM SIMD inside the isolate (/__bench/run)
//   onnxruntime-web in Node      the same .wasm in V8 without workerd
//   onnxruntime-node, 1 thread   native MLAS kernels: the limit on this core
//   transformers.js pipeline     the JavaScript incumbent (image-classification, onnxruntime-node, 1 thread)
//   ... on onnxruntime-web       the same pipeline on the Worker's WASM kernels (the like-for-like comparison)
// plus optimisation experiments (each against the same fp32 baseline) and session-creation times.
// Writes docs/bench-compare.svg and .cache/bench/compare.json.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { ROOT, SHARED_DIR, discoverModels } from '../scripts/lib/local-models.mjs';
import { barChartSvg } from './chart.mjs';
import { fmt, median, quantile, table } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'vit-tiny-bench' }, n: { type: 'string', default: '30' },
  image: { type: 'string' }, 'skip-tjs': { type: 'boolean', default: false },
} });
const n = Number(a.n);
const imagePath = a.image ?? join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
const jpeg = new Uint8Array(readFileSync(imagePath));
const found = discoverModels().find((m) => m.manifest.id === a.model);
if (!found) {
  console.error(`model ${a.model} not found in models/ or .cache/models/. Build the ViT-Ti/16 benchmark model with:\n  npm run bench:models`);
  process.exit(2);
}
const manifest = found.manifest;
const onnxPath = join(found.dir, 'model.onnx');
const size = manifest.preprocess.size;
const zeros = () => new Float32Array(3 * size * size);

async function timeIt(fn, count = n, warm = 2) {
  for (let i = 0; i < warm; i++) await fn();
  const ms = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

// --- inside workerd ------------------------------------------------------------------------------
const int8Id = `${a.model}-int8dyn`;
const hasInt8 = discoverModels().some((m) => m.manifest.id === int8Id);

async function workerdRows() {
  buildWorker();
  const w = await startWorker({ models: [a.model, int8Id], vars: { BENCH_ROUTES: 'true', DEFAULT_MODEL: a.model } });
  try {
    const post = async (path, body) => {
      const res = await w.fetch(path, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const raw = (await post(`/__bench/run?model=${a.model}&n=${n}`, '')).ms;
    const e2e = await timeIt(() => post(`/v1/classify?model=${a.model}`, jpeg));
    const rawInt8 = hasInt8 ? (await post(`/__bench/run?model=${int8Id}&n=${n}`, '')).ms : null;
    const e2eInt8 = hasInt8 ? await timeIt(() => post(`/v1/classify?model=${int8Id}`, jpeg)) : null;
    return { e2e, raw, rawInt8, e2eInt8 };
  } finally {
    await w.dispose();
  }
}

// --- onnxruntime-web in Node (same package and .wasm as the Worker) -------------------------------
async function ortWebSession(path, graphOptimizationLevel = 'all', extra = {}) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  return { ort, session: await ort.InferenceSession.create(readFileSync(path), { executionProviders: ['wasm'], graphOptimizationLevel, ...extra }) };
}

/** ms per image of session.run at `batch` images per call (`preallocate`: into a reused output tensor). */
async function runOrtWeb(path, level, batch = 1, extra = {}, preallocate = false) {
  const { ort, session } = await ortWebSession(path, level, extra);
  const feeds = { [manifest.input.name]: new ort.Tensor('float32', new Float32Array(batch * 3 * size * size), [batch, 3, size, size]) };
  const classes = manifest.labels.length;
  const fetches = preallocate
    ? { [manifest.outputs.logits]: new ort.Tensor('float32', new Float32Array(batch * classes), [batch, classes]) }
    : [manifest.outputs.logits];
  const ms = await timeIt(() => session.run(feeds, fetches), batch === 1 ? n : Math.max(5, Math.ceil(n / batch)));
  await session.release();
  return ms.map((x) => x / batch);
}

/** ms to create an onnxruntime-web session from bytes already in memory (the cold start's last step). */
async function createOrtWeb(path, level) {
  const bytes = readFileSync(path);
  await (await ortWebSession(path, level)).session.release(); // the runtime's own first-use cost out of the way
  const ort = await import('onnxruntime-web');
  return timeIt(async () => (await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: level })).release(), 7, 1);
}

/**
 * The graph optimised ahead of time by onnxruntime-node (the same 1.30 release as the Worker's
 * onnxruntime-web): level "extended" (fusions; no NCHWc layout, which the WASM build lacks), saved
 * as ONNX or as ORT format. Loaded with the Worker's optimiser off, it skips that work at session creation.
 */
async function offlineOptimised(format) {
  const out = join(ROOT, '.cache', 'bench', `${a.model}.extended.${format === 'ORT' ? 'ort' : 'onnx'}`);
  const ort = await import('onnxruntime-node');
  mkdirSync(join(ROOT, '.cache', 'bench'), { recursive: true });
  const s = await ort.InferenceSession.create(onnxPath, { graphOptimizationLevel: 'extended', optimizedModelFilePath: out, extra: { session: { save_model_format: format } } });
  await s.release();
  return out;
}

// --- onnxruntime-node, one thread --------------------------------------------------------------------
async function runOrtNode(path) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feeds = { [manifest.input.name]: new ort.Tensor('float32', zeros(), [1, 3, size, size]) };
  const ms = await timeIt(() => session.run(feeds, [manifest.outputs.logits]));
  await session.release();
  return ms;
}

// --- transformers.js, pointed at a local copy of the same ONNX (no hub) ----------------------------
function tjsModelDir() {
  const root = join(ROOT, '.cache', 'tjs');
  const dir = join(root, a.model);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) copyFileSync(onnxPath, join(dir, 'onnx', 'model.onnx'));
  const labels = manifest.labels;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: manifest.family === 'vit' ? 'vit' : manifest.family, architectures: ['ViTForImageClassification'],
    id2label: Object.fromEntries(labels.map((l, i) => [i, l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  }));
  const p = manifest.preprocess;
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({
    image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: size, width: size }, resample: 3,
    do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: p.mean, image_std: p.std ?? [1, 1, 1],
  }));
  return root;
}

/**
 * transformers.js's image-classification pipeline, as its users would call it (it reads and
 * decodes the JPEG itself, with sharp). `runtime` 'node': its Node default, onnxruntime-node.
 * 'web': the same pipeline on onnxruntime-web (WASM SIMD, 1 thread: the kernels the Worker has),
 * through the hook transformers.js offers runtimes that bring their own ONNX Runtime
 * (globalThis[Symbol.for('onnxruntime')]); a second module instance is loaded for it, since the
 * runtime is chosen when the module is evaluated.
 */
async function runTransformersJs(runtime) {
  let mod;
  if (runtime === 'web') {
    const ort = await import('onnxruntime-web');
    // Our local copy of ORT's files: left unset, transformers.js points ORT at a CDN.
    ort.env.wasm.wasmPaths = new URL('./', import.meta.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')).href;
    ort.env.wasm.numThreads = 1;
    globalThis[Symbol.for('onnxruntime')] = ort;
    mod = await import(`${import.meta.resolve('@huggingface/transformers')}?runtime=web`);
  } else {
    mod = await import('@huggingface/transformers');
  }
  const { pipeline, env } = mod;
  env.allowRemoteModels = false;
  env.localModelPath = tjsModelDir();
  // 'auto' on an injected runtime selects no device of its own; the session options name the EP.
  const options = runtime === 'web'
    ? { device: 'auto', session_options: { executionProviders: ['wasm'] } }
    : { device: 'cpu', session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } };
  const classify = await pipeline('image-classification', a.model, { dtype: 'fp32', ...options });
  const ms = await timeIt(() => classify(imagePath, { top_k: 5 }));
  await classify.dispose();
  return ms;
}

// --- run ------------------------------------------------------------------------------------------
const rows = [];
const add = (name, ms, note = '') => { rows.push({ name, ms, note }); console.error(`${name}: p50 ${fmt(median(ms))} ms`); };

const { e2e, raw, rawInt8, e2eInt8 } = await workerdRows();
add('API end to end in workerd', e2e, 'POST /v1/classify: HTTP + decode + preprocess + run + top-k');
add('session.run in workerd', raw, 'onnxruntime-web WASM SIMD in the isolate');
if (rawInt8) {
  add('API end to end in workerd, int8', e2eInt8, 'the same with integer MatMuls (npm run bench:models)');
  add('session.run in workerd, int8', rawInt8, 'MatMulInteger int8 weights, fp32 elsewhere');
}
add('onnxruntime-web in Node', await runOrtWeb(onnxPath), 'same .wasm, V8 without workerd');
add('onnxruntime-node, 1 thread', await runOrtNode(onnxPath), 'native MLAS: the limit on this core');
if (!a['skip-tjs']) {
  add('transformers.js pipeline', await runTransformersJs('node'), 'image path in, top-5 out; onnxruntime-node, 1 thread');
  add('transformers.js pipeline on onnxruntime-web', await runTransformersJs('web'), 'the same on the WASM kernels the Worker has (1 thread, SIMD)');
}

// Experiments: each is one change against "onnxruntime-web in Node" on the same graph.
const experiments = [];
const exp = (name, ms) => { experiments.push({ name, ms }); console.error(`${name}: p50 ${fmt(median(ms))} ms`); };
exp('graph optimisation: basic (instead of all)', await runOrtWeb(onnxPath, 'basic'));
exp('graph optimisation: disabled', await runOrtWeb(onnxPath, 'disabled'));
// Batching concurrent requests in the isolate only pays if a batch of 8 costs less than 8 single runs.
exp('batch 8 per call (ms per image)', await runOrtWeb(onnxPath, 'all', 8));
exp('static batch dimension (freeDimensionOverrides batch=1)', await runOrtWeb(onnxPath, 'all', 1, { freeDimensionOverrides: { batch: 1 } }));
exp('CPU memory arena off', await runOrtWeb(onnxPath, 'all', 1, { enableCpuMemArena: false }));
exp('weight pre-packing off (less memory)', await runOrtWeb(onnxPath, 'all', 1, { extra: { session: { disable_prepacking: '1' } } }));
for (const [suffix, label] of [['-int8', 'int8 weights (DequantizeLinear, fp32 compute)'], ['-int8dyn', 'int8 dynamic (MatMulInteger, int8 compute)']]) {
  const q = discoverModels().find((m) => m.manifest.id === a.model + suffix);
  if (q) exp(label, await runOrtWeb(join(q.dir, 'model.onnx')));
}
exp('preallocated output tensor (fetches into a reused buffer)', await runOrtWeb(onnxPath, 'all', 1, {}, true));
const optimisedOnnx = await offlineOptimised('ONNX');
const optimisedOrt = await offlineOptimised('ORT');
exp('offline-optimised graph (ONNX, extended), optimiser off', await runOrtWeb(optimisedOnnx, 'disabled'));
exp('offline-optimised graph (ORT format, extended), optimiser off', await runOrtWeb(optimisedOrt, 'disabled'));

// Session creation (bytes in memory -> ready), the part of the cold start an offline graph can save.
const creations = [
  ['the ONNX as shipped, optimiser all (as the Worker does)', await createOrtWeb(onnxPath, 'all')],
  ['offline-optimised ONNX (extended), optimiser off', await createOrtWeb(optimisedOnnx, 'disabled')],
  ['offline-optimised ORT format (extended), optimiser off', await createOrtWeb(optimisedOrt, 'disabled')],
];

const nativeP50 = median(rows.find((r) => r.name.startsWith('onnxruntime-node')).ms);
const e2eP50 = median(e2e);
const tjs = rows.find((r) => r.name === 'transformers.js pipeline');
const tjsWeb = rows.find((r) => r.name === 'transformers.js pipeline on onnxruntime-web');
console.log(`\n${a.model} (${manifest.variant}, ${manifest.onnx.precision}, ${(manifest.onnx.bytes / 1e6).toFixed(1)} MB), batch 1, n=${n}, image ${imagePath.split('/').pop()}; ms\n`);
console.log(table(['path', 'p50', 'p95', 'x onnxruntime-node', 'images/s', 'what'],
  rows.map((r) => [r.name, fmt(median(r.ms)), fmt(quantile(r.ms, 0.95)), fmt(median(r.ms) / nativeP50, 2), fmt(1000 / median(r.ms), 1), r.note])));
if (tjs) console.log(`\nAPI end to end vs transformers.js: ${fmt(median(tjs.ms) / e2eP50, 2)}x the throughput (sequential, one image at a time)`);
if (tjsWeb) console.log(`API end to end vs transformers.js on onnxruntime-web: ${fmt(median(tjsWeb.ms) / e2eP50, 2)}x the throughput (the same kernels on both sides)`);
const webP50 = median(rows.find((r) => r.name === 'onnxruntime-web in Node').ms);
console.log('\nOptimisation experiments on onnxruntime-web in Node (baseline: graph optimisation all, fp32):\n');
console.log(table(['change', 'p50', 'p95', 'x baseline'], experiments.map((e) => [e.name, fmt(median(e.ms)), fmt(quantile(e.ms, 0.95)), fmt(median(e.ms) / webP50, 2)])));

const createP50 = median(creations[0][1]);
console.log('\nonnxruntime-web session creation in Node (model bytes in memory; 7 runs):\n');
console.log(table(['graph', 'p50', 'x as shipped'], creations.map(([name, ms]) => [name, fmt(median(ms)), fmt(median(ms) / createP50, 2)])));

mkdirSync(join(ROOT, '.cache', 'bench'), { recursive: true });
writeFileSync(join(ROOT, '.cache', 'bench', 'compare.json'), JSON.stringify({ model: a.model, n, rows: rows.map((r) => ({ name: r.name, p50: median(r.ms), p95: quantile(r.ms, 0.95) })), experiments: experiments.map((e) => ({ name: e.name, p50: median(e.ms) })) }, null, 2));
writeFileSync(join(ROOT, 'docs', 'bench-compare.svg'), barChartSvg(`${manifest.variant} fp32, batch 1, one thread: median ms per image (npm run bench:compare)`, rows.map((r) => ({ label: r.name, value: median(r.ms) }))));
console.log('\nchart: docs/bench-compare.svg; raw numbers: .cache/bench/compare.json');
