#!/usr/bin/env node
// npm run models:tiers [-- <variant> ...] [--n 3]
// The tier table: every named zoo variant (ViT/DeiT Ti-L, Swin T-B, MViTv2 T-B, NesT T-B,
// ConvMixer), fp32 and int8 (random weights: memory and latency do not depend on the values),
// each loaded and run at batch 1 in its own fresh Worker in workerd. A variant is edge-tier only if
// its peak isolate memory stays under 100 MiB (Cloudflare isolates have 128 MB).
//
// Peak isolate memory is bounded here by ORT's WebAssembly linear memory after the session loaded
// and ran (weights, arena, activations; it never shrinks, so it is the peak) plus the ONNX bytes
// held in JavaScript while the session is created (freed afterwards). A variant whose ONNX alone
// exceeds the budget is not loaded. Exports go to .cache/tiers/ (scripts/zoo/tier_models.py).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, median, table } from '../bench/stats.mjs';
import { ROOT } from './lib/local-models.mjs';
import { buildWorker, startWorker } from './lib/worker-host.mjs';

const BUDGET = 100 * 2 ** 20;
const TIERS_DIR = join(ROOT, '.cache', 'tiers');
const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { n: { type: 'string', default: '3' } } });

console.error('exporting (scripts/zoo/tier_models.py; cached in .cache/tiers/) ...');
const exported = execFileSync('/usr/bin/python3', ['-m', 'scripts.zoo.tier_models', ...positionals], {
  cwd: ROOT, env: { ...process.env, PYTHONPATH: ROOT }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
}).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

async function measure(id) {
  const w = await startWorker({
    models: [id], modelDirs: [TIERS_DIR], web: false,
    vars: { BENCH_ROUTES: 'true', EDGE_MAX_MODEL_BYTES: String(2 ** 31) },
  });
  try {
    const post = async (path) => {
      const res = await w.fetch(path, { method: 'POST', body: '' });
      if (!res.ok) throw new Error(`${id} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const run = await post(`/__bench/run?model=${id}&n=${a.n}`);
    const cold = await post(`/__bench/cold?model=${id}`);
    return { runMs: median(run.ms), ortBytes: run.ort_memory_bytes, coldMs: cold.ms };
  } finally {
    await w.dispose();
  }
}

buildWorker();
const rows = [], raw = [];
for (const v of exported) {
  for (const [id, precision, bytes] of [[v.id, 'fp32', v.fp32_bytes], [`${v.id}-int8`, 'int8', v.int8_bytes]]) {
    const r = { variant: v.variant, family: v.family, params: v.params, precision, bytes };
    if (bytes >= BUDGET) {
      Object.assign(r, { tier: 'heavy', note: 'ONNX alone exceeds 100 MiB: not loaded' });
    } else {
      Object.assign(r, await measure(id));
      r.peakBound = r.ortBytes + bytes;
      r.tier = r.peakBound < BUDGET ? 'edge' : 'heavy';
    }
    raw.push(r);
    console.error(`${id}: ${r.tier}${r.runMs !== undefined ? `, run ${fmt(r.runMs)} ms, ORT ${fmt(r.ortBytes / 2 ** 20, 0)} MiB` : ''}`);
    rows.push([v.variant, v.family, `${(v.params / 1e6).toFixed(1)}M`, precision, fmt(bytes / 1e6), r.ortBytes ? fmt(r.ortBytes / 2 ** 20, 0) : '-',
      r.peakBound ? fmt(r.peakBound / 2 ** 20, 0) : `> ${fmt(bytes / 2 ** 20, 0)}`, r.runMs !== undefined ? fmt(r.runMs, 0) : '-',
      r.coldMs !== undefined ? fmt(r.coldMs, 0) : '-', r.tier]);
  }
}
console.log(`\nTier table: batch 1 in workerd (onnxruntime-web WASM, 1 thread, SIMD), fresh Worker per model, n=${a.n}\n`);
console.log(table(['variant', 'family', 'params', 'precision', 'ONNX MB', 'ORT heap MiB', 'peak bound MiB', 'run p50 ms', 'cold start ms', 'tier'], rows));
console.log('\npeak bound = ORT heap (linear memory after load + run) + ONNX bytes held during session creation; edge if < 100 MiB.');
mkdirSync(join(ROOT, '.cache', 'bench'), { recursive: true });
writeFileSync(join(ROOT, '.cache', 'bench', 'tiers.json'), JSON.stringify(raw, null, 2));
