#!/usr/bin/env node
// npm run bench:decoders [-- --n 10]
// The Worker's decoders inside workerd, one process: each large image decoded in full (mozjpeg,
// or the PNG decoder at full size) and at every reduction its decoder offers, then resized for
// the model (SqueezeNet, 224 px): decode + preprocess per image (p50), and the decoded size.
// Baseline and progressive encodings of the same phone-sized photo, and a 36 MP PNG.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWorker, startWorker } from '../scripts/lib/worker-host.mjs';
import { SHARED_DIR } from '../scripts/lib/local-models.mjs';
import { registerSqueezenet } from '../scripts/seed-local.mjs';
import { bigImage } from '../scripts/lib/big-image.mjs';
import { fmt, median, table } from './stats.mjs';

const { values: a } = parseArgs({ options: { n: { type: 'string', default: '10' } } });
const n = Number(a.n);
const photo = join(SHARED_DIR, 'images', 'n01440764_tench.JPEG');
const model = 'squeezenet1.1-imagenet';
// [what, content type, bytes, short side, reductions to time (1 = full size)]
const images = [
  ['JPEG 4032x3024 baseline (q90)', 'image/jpeg', bigImage(photo, 4032, 3024, 'JPEG'), 3024, [1, 2, 4, 8]],
  ['JPEG 4032x3024 progressive (q90)', 'image/jpeg', bigImage(photo, 4032, 3024, 'JPEG', 1, { progressive: true }), 3024, [1, 2, 4, 8]],
  ['PNG 6000x6000 (16x16 tiles)', 'image/png', bigImage(photo, 6000, 6000, 'PNG', 16), 6000, [1, 4, 12]],
];

buildWorker();
await registerSqueezenet();
const w = await startWorker({ models: [model], vars: { BENCH_ROUTES: 'true', DEFAULT_MODEL: model } });
const rows = [];
try {
  for (const [what, type, bytes, short, factors] of images) {
    for (const f of factors) {
      // reduce_to = the short side this factor leaves: the decoder picks exactly this reduction.
      const q = f === 1 ? '' : `&reduce_to=${Math.ceil(short / f)}`;
      const res = await w.fetch(`/__bench/preprocess?model=${model}&n=${n}${q}`, { method: 'POST', body: bytes, headers: { 'content-type': type } });
      if (!res.ok) throw new Error(`${what} 1/${f}: ${res.status} ${await res.text()}`);
      const { ms, decoded } = await res.json();
      rows.push([what, f === 1 ? 'full size' : `1/${f}`, `${decoded.width}x${decoded.height}`, fmt(median(ms))]);
      console.error(`${what} 1/${f}: ${fmt(median(ms))} ms`);
    }
  }
} finally {
  await w.dispose();
}
console.log(`\nDecode + preprocess in workerd (${model}, 224 px), p50 of ${n} after 2 warm-up rounds, ms\n`);
console.log(table(['image', 'decoding', 'decoded size', 'decode + preprocess p50'], rows));
console.log('\nfull size: mozjpeg (WASM) for JPEG, src/images/png.ts for PNG; reduced: src/images/jpeg-reduced.ts (from the DCT coefficients), png.ts box-reducing while it inflates.');
