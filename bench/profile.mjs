#!/usr/bin/env node
// npm run bench:profile [-- --model vit-tiny-bench] [--runs 10]
// Where session.run's time goes in onnxruntime-web's WASM kernels (the Worker's build, run in
// Node, one thread, SIMD, graph optimisation "all" as in the Worker): ORT's own profiler, summed
// per operator over the last run, beside the same model in onnxruntime-node (one thread): which
// kernels make the gap, and so which a faster edge path would have to speed up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverModels } from '../scripts/lib/local-models.mjs';
import { fmt, table } from './stats.mjs';

const { values: a } = parseArgs({ options: { model: { type: 'string', default: 'vit-tiny-bench' }, runs: { type: 'string', default: '10' }, child: { type: 'boolean', default: false } } });
const found = discoverModels().find((m) => m.manifest.id === a.model);
if (!found) {
  console.error(`model ${a.model} not found in models/ or .cache/models/ (the ViT-Ti/16 benchmark model: npm run bench:models)`);
  process.exit(2);
}
const { size } = found.manifest.preprocess;

if (a.child) {
  // ORT-web writes its profile as trace-event JSON lines to this process's stdout.
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(readFileSync(join(found.dir, 'model.onnx')), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableProfiling: true });
  const x = new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]);
  for (let i = 0; i < Number(a.runs); i++) await session.run({ [found.manifest.input.name]: x });
  session.endProfiling();
  process.exit(0);
}

const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--model', a.model, '--runs', a.runs], { maxBuffer: 512 * 2 ** 20 }).toString();
const events = out.split('\n').filter((l) => l.startsWith('{"cat"')).map((l) => { try { return JSON.parse(l.replace(/,\s*$/, '')); } catch { return null; } }).filter(Boolean);
/** Per-operator kernel time (us) of the last model_run in a list of ORT trace events. */
function perOperator(events) {
  const run = events.filter((e) => e.name === 'model_run').at(-1);
  if (!run) throw new Error('ORT wrote no profile');
  const ops = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < run.ts || e.ts > run.ts + run.dur) continue;
    const o = ops.get(e.args.op_name) ?? { us: 0, nodes: 0 };
    o.us += e.dur; o.nodes++;
    ops.set(e.args.op_name, o);
  }
  return { runUs: run.dur, ops, kernelUs: [...ops.values()].reduce((t, o) => t + o.us, 0) };
}

/** The same model and runs in onnxruntime-node, one intra-op thread: the native limit on this core. */
async function nativeEvents() {
  const ort = (await import('onnxruntime-node')).default;
  const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
  const session = await ort.InferenceSession.create(join(found.dir, 'model.onnx'), { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(dir, 'native') });
  const x = new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]);
  for (let i = 0; i < Number(a.runs); i++) await session.run({ [found.manifest.input.name]: x });
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  return JSON.parse(readFileSync(join(dir, file), 'utf8'));
}

const wasm = perOperator(events);
const native = perOperator(await nativeEvents());
const names = [...new Set([...wasm.ops.keys(), ...native.ops.keys()])].sort((p, q) => (wasm.ops.get(q)?.us ?? 0) - (wasm.ops.get(p)?.us ?? 0));
const ms = (o) => (o ? fmt(o.us / 1000, 2) : '-');
const rows = names.map((op) => {
  const w = wasm.ops.get(op), n = native.ops.get(op);
  return [op, w?.nodes ?? '-', ms(w), w ? fmt((100 * w.us) / wasm.kernelUs) : '-', ms(n), w && n ? fmt(w.us / n.us, 1) : '-'];
});
console.log(`\n${a.model}, last of ${a.runs} runs, batch 1, one thread, graph optimisation "all"`);
console.log(`onnxruntime-web WASM (SIMD) in Node: ${fmt(wasm.runUs / 1000)} ms, ${fmt(wasm.kernelUs / 1000)} ms in kernels; onnxruntime-node: ${fmt(native.runUs / 1000)} ms (${fmt(wasm.runUs / native.runUs, 1)}x)\n`);
console.log(table(['operator', 'nodes (WASM)', 'WASM ms', '% of WASM kernels', 'native ms', 'WASM / native'], rows));
