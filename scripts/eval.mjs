#!/usr/bin/env node
// npm run eval -- --model <id> --dir <folder of class-named subfolders> [--url http://localhost:8787]
//   [--key edge-vit-dev-key] [--limit N] [--batch 8] [--tta false]
// Top-1 / top-5 of a model on your own labelled images, measured through the running API.
// A subfolder's name is the true label, matched to the model's labels ignoring case, spaces,
// underscores and hyphens (or an ImageNet synset like n01440764 at the start of the name).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { progressBar } from './lib/progress.mjs';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' }, dir: { type: 'string' }, url: { type: 'string', default: 'http://localhost:8787' },
    key: { type: 'string', default: process.env.EDGE_VIT_KEY ?? 'edge-vit-dev-key' }, limit: { type: 'string' }, batch: { type: 'string', default: '8' },
    tta: { type: 'string', default: 'true' }, // false: one view per image, as the API's tta=false
  },
});
if (!a.model || !a.dir) {
  console.error('usage: npm run eval -- --model <id> --dir <folder of class-named subfolders> [--url URL]');
  process.exit(2);
}

const norm = (s) => s.toLowerCase().replace(/[\s_-]+/g, '');
const headers = { authorization: `Bearer ${a.key}` };
const info = await fetch(`${a.url}/v1/models/${encodeURIComponent(a.model)}`, { headers });
if (!info.ok) { console.error(`eval: ${a.model}: ${info.status} ${await info.text()}`); process.exit(1); }
const labels = (await info.json()).labels;
const byName = new Map(labels.map((l, i) => [norm(l), i]));

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.webp']);
const items = [];
for (const cls of readdirSync(a.dir).sort()) {
  const d = join(a.dir, cls);
  if (!statSync(d).isDirectory()) continue;
  const idx = byName.get(norm(cls)) ?? byName.get(norm(cls.replace(/^n\d{8}[_-]?/, '')));
  if (idx === undefined) { console.error(`eval: folder "${cls}" matches no label of ${a.model}; skipped`); continue; }
  for (const f of readdirSync(d).sort()) if (IMAGE.has(extname(f).toLowerCase())) items.push({ path: join(d, f), label: idx });
}
const todo = a.limit ? items.slice(0, Number(a.limit)) : items;
if (!todo.length) { console.error('eval: no labelled images found'); process.exit(1); }

let top1 = 0, top5 = 0, failed = 0;
const bar = progressBar(`eval ${a.model}`);
const started = performance.now();
for (let i = 0; i < todo.length; i += Number(a.batch)) {
  const chunk = todo.slice(i, i + Number(a.batch));
  const form = new FormData();
  for (const it of chunk) form.append('image', new Blob([readFileSync(it.path)]), it.path);
  form.append('model', a.model);
  form.append('top_k', '5');
  form.append('tta', a.tta);
  const res = await fetch(`${a.url}/v1/classify`, { method: 'POST', body: form, headers });
  if (!res.ok) {
    failed += chunk.length;
    console.error(`\neval: ${res.status} ${(await res.text()).slice(0, 200)}`);
  } else {
    const body = await res.json();
    body.results.forEach((r, j) => {
      const ranks = r.predictions.map((p) => p.index);
      if (ranks[0] === chunk[j].label) top1++;
      if (ranks.includes(chunk[j].label)) top5++;
    });
  }
  bar(Math.min(i + chunk.length, todo.length), todo.length);
}
const n = todo.length;
const s = (performance.now() - started) / 1000;
console.log(`\n| model | images | top-1 | top-5 | failed | images/s |\n|---|---|---|---|---|---|`);
console.log(`| ${a.model} | ${n} | ${(100 * top1 / n).toFixed(2)}% | ${(100 * top5 / n).toFixed(2)}% | ${failed} | ${(n / s).toFixed(1)} |`);
