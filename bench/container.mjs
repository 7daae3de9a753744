#!/usr/bin/env node
// npm run bench:container [-- --model convmixer-cifar10] [--clients 16] [--rounds 4] [--round-seconds 2.5]
//                         [--threads 1] [--dirs models,.cache/models] [--max-batch 16] [--delay-ms 2]
// The companion container's dynamic batcher: the same model, the same concurrent clients, binary
// OIP v2 requests over loopback, batching off (MAX_BATCH=1) vs on (MAX_BATCH=16, 2 ms queue delay).
// Both servers run side by side (one busy at a time) and the modes alternate in short rounds,
// ABBA, so that the other jobs on a shared CPU weigh on both alike; fixed-time rounds keep the
// run under a minute for small models. Prints throughput, latency medians and the on/off ratio.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { startContainer } from '../scripts/lib/container-host.mjs';
import { MODEL_DIRS, discoverModels } from '../scripts/lib/local-models.mjs';
import { fmt, median, quantile, table } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'convmixer-cifar10' }, clients: { type: 'string', default: '16' },
  rounds: { type: 'string', default: '4' }, 'round-seconds': { type: 'string', default: '2.5' }, threads: { type: 'string', default: '1' },
  dirs: { type: 'string' }, 'kernel-reps': { type: 'string', default: '3' }, 'max-batch': { type: 'string', default: '16' }, 'delay-ms': { type: 'string', default: '2' },
} });
const dirs = a.dirs ? a.dirs.split(',').map((d) => resolve(d)) : MODEL_DIRS;
const found = discoverModels(dirs).find((x) => x.manifest.id === a.model);
if (!found) throw new Error(`model "${a.model}" not found in ${dirs.join(', ')}`);
const m = found.manifest;
if (m.input.dtype !== 'float32') throw new Error('this benchmark sends FP32 inputs');
const s = m.preprocess.size;
const x = Float32Array.from({ length: 3 * s * s }, (_, i) => Math.sin(i));
const header = new TextEncoder().encode(JSON.stringify({
  inputs: [{ name: m.input.name, datatype: 'FP32', shape: m.input.layout === 'NCHW' ? [1, 3, s, s] : [1, s, s, 3], parameters: { binary_data_size: x.byteLength } }],
  outputs: [{ name: m.outputs.logits, parameters: { binary_data: true } }],
}));
const body = new Uint8Array(header.byteLength + x.byteLength);
body.set(header);
body.set(new Uint8Array(x.buffer), header.byteLength);
const rounds = Number(a.rounds), roundSec = Number(a['round-seconds']), clients = Number(a.clients);

/** One container per mode, both started and warmed up front; only one is loaded at a time. */
async function open(env) {
  const c = await startContainer({ MODELS_DIRS: dirs.join(','), INTRA_OP_THREADS: a.threads, ...env });
  let resets = 0;
  const send = async (retry = true) => {
    const t = performance.now();
    const res = await fetch(`${c.url}/v2/models/${m.id}/infer`, {
      method: 'POST', body, headers: { 'inference-header-content-length': String(header.byteLength) },
    }).catch((e) => {
      if (!retry || c.proc.exitCode !== null) throw new Error(`${e.cause?.code ?? e.message}; container log tail: ${c.log.join('').slice(-2000)}`);
      resets++;
      return null;
    });
    if (res === null) return send(false);
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return { ms: performance.now() - t, end: performance.now() };
  };
  const stats = async () => (await (await fetch(`${c.url}/v2/models/${m.id}/stats`)).json()).model_stats[0];
  /** Full concurrency for `sec` seconds; counts the requests completed inside the window (the tail drains uncounted). */
  const round = async (sec) => {
    const before = await stats();
    const t0 = performance.now(), end = t0 + sec * 1000;
    const lat = [];
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < end) { const r = await send(); if (r.end <= end) lat.push(r.ms); }
    }));
    const after = await stats();
    return { lat, rps: lat.length / sec, images: after.inference_count - before.inference_count, runs: after.execution_count - before.execution_count };
  };
  await send(); // session creation (sha256 + graph optimisation)
  return { c, round, resets: () => resets };
}

const t0 = performance.now();
const load0 = loadavg()[0];
const modes = {
  off: { label: 'off (MAX_BATCH=1)', ...(await open({ MAX_BATCH: '1', MAX_QUEUE_DELAY_MS: '0' })), rounds: [] },
  on: { label: `on (MAX_BATCH=${a['max-batch']}, ${a['delay-ms']} ms)`, ...(await open({ MAX_BATCH: a['max-batch'], MAX_QUEUE_DELAY_MS: a['delay-ms'] })), rounds: [] },
};
try {
  for (const k of ['off', 'on']) await modes[k].round(Math.min(2, roundSec / 2)); // warm-up
  // ABBA order (off on on off off on ...) so that drift in the other jobs' load hits both modes alike.
  for (let r = 0; r < rounds; r++) for (const k of r % 2 ? ['on', 'off'] : ['off', 'on']) modes[k].rounds.push(await modes[k].round(roundSec));
} finally {
  await Promise.all(Object.values(modes).map((x) => x.c.stop()));
}
const summary = (x) => {
  const lat = x.rounds.flatMap((r) => r.lat);
  const images = x.rounds.reduce((n, r) => n + r.images, 0), runs = x.rounds.reduce((n, r) => n + r.runs, 0);
  return { rps: median(x.rounds.map((r) => r.rps)), p50: median(lat), p95: quantile(lat, 0.95), meanBatch: images / runs, n: lat.length };
};
const off = summary(modes.off), on = summary(modes.on);
const pairRatios = modes.on.rounds.map((r, i) => r.rps / modes.off.rounds[i].rps);
console.log(`\nContainer batcher: ${m.id} (${m.variant}, ${m.preprocess.size}px, ${(m.onnx.bytes / 2 ** 20).toFixed(1)} MiB ONNX), onnxruntime-node ${a.threads} intra-op thread(s),`
  + ` ${clients} concurrent clients, binary OIP v2 over loopback, ${rounds} rounds x ${roundSec} s per mode (ABBA order)`);
console.log(`CPU: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, SHARED with other jobs (load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end): figures are indicative only.\n`);
console.log(table(['batcher', 'images in windows', 'images/s (median of rounds)', 'p50 ms', 'p95 ms', 'mean batch'], [
  [modes.off.label, off.n, fmt(off.rps, 2), fmt(off.p50), fmt(off.p95), fmt(off.meanBatch, 1)],
  [modes.on.label, on.n, fmt(on.rps, 2), fmt(on.p50), fmt(on.p95), fmt(on.meanBatch, 1)],
]));
const resets = modes.off.resets() + modes.on.resets();
if (resets) console.log(`\n(connection errors retried: ${resets})`);
console.log(`\nthroughput on/off: ${fmt(on.rps / off.rps, 2)}x (per-round pairs: ${pairRatios.map((x) => fmt(x, 2)).join(', ')})`
  + `   p50 latency on/off: ${fmt(on.p50 / off.p50, 2)}x   (bench wall ${fmt((performance.now() - t0) / 1000, 0)} s)`);

// The same question without HTTP: in this process, one session, 8 x session.run(batch 1) vs
// 1 x session.run(batch 8). Above 1x the graph itself gains from batching on this CPU.
const reps = Number(a['kernel-reps']);
if (reps > 0) {
  const session = await ort.InferenceSession.create(readFileSync(found.onnxPath), { intraOpNumThreads: Number(a.threads) || 0, graphOptimizationLevel: 'all' });
  const shape = (b) => (m.input.layout === 'NCHW' ? [b, 3, s, s] : [b, s, s, 3]);
  const run = async (b) => {
    const xs = new Float32Array(b * x.length);
    for (let i = 0; i < b; i++) xs.set(x, i * x.length);
    const t = performance.now();
    await session.run({ [m.input.name]: new ort.Tensor('float32', xs, shape(b)) });
    return performance.now() - t;
  };
  await run(1); await run(8);
  const ratios = [];
  for (let r = 0; r < reps; r++) {
    let ones = 0;
    for (let i = 0; i < 8; i++) ones += await run(1);
    ratios.push(ones / (await run(8)));
  }
  console.log(`in-process session.run, 8 x batch 1 time / 1 x batch 8 time: ${fmt(median(ratios), 2)}x (median of ${reps}: ${ratios.map((v) => fmt(v, 2)).join(', ')})`);
}
