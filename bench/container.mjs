#!/usr/bin/env node
// npm run bench:container [-- --model vit-tiny-bench] [--clients 16] [--requests 160]
// The companion container's dynamic batcher: the same model, the same concurrent clients,
// MAX_BATCH=1 (no batching) vs MAX_BATCH=16 (2 ms queue delay), binary OIP v2 requests over
// loopback. Prints throughput and latency medians and the ratio.
import { parseArgs } from 'node:util';
import { startContainer } from '../scripts/lib/container-host.mjs';
import { MODEL_DIRS, discoverModels } from '../scripts/lib/local-models.mjs';
import { fmt, median, quantile, table } from './stats.mjs';

const { values: a } = parseArgs({ options: {
  model: { type: 'string' }, clients: { type: 'string', default: '16' }, requests: { type: 'string', default: '160' },
  threads: { type: 'string', default: '1' },
} });
const all = discoverModels().map((m) => m.manifest);
const m = all.find((x) => x.id === (a.model ?? 'vit-tiny-bench')) ?? all.find((x) => x.id === 'convmixer-cifar10');
const s = m.preprocess.size;
const x = Float32Array.from({ length: 3 * s * s }, (_, i) => Math.sin(i));
const header = new TextEncoder().encode(JSON.stringify({
  inputs: [{ name: m.input.name, datatype: 'FP32', shape: [1, 3, s, s], parameters: { binary_data_size: x.byteLength } }],
  outputs: [{ name: m.outputs.logits, parameters: { binary_data: true } }],
}));
const body = new Uint8Array(header.byteLength + x.byteLength);
body.set(header);
body.set(new Uint8Array(x.buffer), header.byteLength);

async function run(env) {
  const c = await startContainer({ MODELS_DIRS: MODEL_DIRS.join(','), INTRA_OP_THREADS: a.threads, ...env });
  try {
    const send = async () => {
      const t = performance.now();
      const res = await fetch(`${c.url}/v2/models/${m.id}/infer`, {
        method: 'POST', body, headers: { 'inference-header-content-length': String(header.byteLength) },
      });
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - t;
    };
    for (let i = 0; i < 4; i++) await send(); // warm-up (session creation)
    const total = Number(a.requests), clients = Number(a.clients);
    let next = 0;
    const lat = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => { while (next++ < total) lat.push(await send()); }));
    const wall = (performance.now() - t0) / 1000;
    const stats = (await (await fetch(`${c.url}/v2/models/${m.id}/stats`)).json()).model_stats[0];
    return { rps: total / wall, p50: median(lat), p95: quantile(lat, 0.95), meanBatch: stats.inference_count / stats.execution_count };
  } finally {
    await c.stop();
  }
}

const off = await run({ MAX_BATCH: '1', MAX_QUEUE_DELAY_MS: '0' });
const on = await run({ MAX_BATCH: '16', MAX_QUEUE_DELAY_MS: '2' });
console.log(`\nContainer (onnxruntime-node CPU, ${a.threads} intra-op thread(s)), ${m.id}, ${a.clients} concurrent clients, ${a.requests} requests\n`);
console.log(table(['batcher', 'images/s', 'p50 ms', 'p95 ms', 'mean batch'], [
  ['off (MAX_BATCH=1)', fmt(off.rps), fmt(off.p50), fmt(off.p95), fmt(off.meanBatch, 1)],
  ['on (MAX_BATCH=16, 2 ms)', fmt(on.rps), fmt(on.p50), fmt(on.p95), fmt(on.meanBatch, 1)],
]));
console.log(`\nthroughput ratio on/off: ${fmt(on.rps / off.rps, 2)}x`);
