#!/usr/bin/env node
// npm run models:pull -- <timm model name>[.<pretrained tag>] [--id ID] [--tier edge|heavy] [--fp16]
//                        [--hub URL] [--no-publish] [--out DIR] [--cache DIR]
// For users with internet: downloads a timm checkpoint from the Hugging Face Hub
// (<hub>/timm/<name>/resolve/main/{config.json,model.safetensors}), exports it with the zoo's own
// definitions (strict key matching), takes the preprocessing from the checkpoint's pretrained_cfg,
// and publishes it to local R2. The hub is $HF_ENDPOINT or https://huggingface.co; tests point
// --hub at a loopback server. Downloads are cached under .cache/hub/.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/local-models.mjs';
import { progressBar } from './lib/progress.mjs';

const INTERPOLATIONS = new Set(['bilinear', 'bicubic', 'nearest']);

export class PullError extends Error {}

async function download(url, dest) {
  if (existsSync(dest)) return dest;
  let res;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new PullError(`could not reach ${new URL(url).origin} (${e.cause?.code ?? e.message}). `
      + 'models:pull needs internet access to the Hugging Face Hub; offline, export a local checkpoint with '
      + '`PYTHONPATH=. python3 -m scripts.zoo.export --model <name> --checkpoint <file> --out <dir>`.');
  }
  if (!res.ok) throw new PullError(`${url}: HTTP ${res.status}${res.status === 404 ? ' (no such model or file on the hub)' : ''}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const bar = progressBar(`downloading ${url.split('/').pop()}`);
  let done = 0;
  const counted = Readable.fromWeb(res.body).on('data', (c) => { done += c.length; bar(done, total); });
  await pipeline(counted, createWriteStream(dest + '.part'));
  bar(total || done, total || done);
  renameSync(dest + '.part', dest);
  return dest;
}

/** timm's pretrained_cfg -> the export's --img-size plus manifest preprocessing overrides. */
export function preprocessFromTimm(config) {
  const p = config.pretrained_cfg ?? {};
  const size = Array.isArray(p.input_size) ? Number(p.input_size[1]) : undefined;
  const out = {};
  if (Array.isArray(p.mean) && p.mean.length === 3) out.mean = p.mean.map(Number);
  if (Array.isArray(p.std) && p.std.length === 3) out.std = p.std.map(Number);
  if (typeof p.crop_pct === 'number') out.crop_pct = p.crop_pct;
  if (INTERPOLATIONS.has(p.interpolation)) out.interpolation = p.interpolation;
  if (size) out.size = size;
  return { size, preprocess: out };
}

export async function pull(spec, o = {}) {
  const hub = (o.hub ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const repo = `timm/${spec}`;
  const dir = join(o.cache ?? join(ROOT, '.cache', 'hub'), repo);
  mkdirSync(dir, { recursive: true });
  const base = `${hub}/${repo}/resolve/main`;
  const config = JSON.parse(readFileSync(await download(`${base}/config.json`, join(dir, 'config.json')), 'utf8'));
  const arch = config.architecture ?? spec.split('.')[0];
  const checkpoint = await download(`${base}/model.safetensors`, join(dir, 'model.safetensors'));
  const id = o.id ?? spec.replace(/[._]/g, '-');
  const out = o.out ?? join(ROOT, '.cache', 'models', id);
  const { size, preprocess } = preprocessFromTimm(config);
  const args = ['-m', 'scripts.zoo.export', '--model', arch, '--checkpoint', checkpoint, '--out', out, '--id', id,
    '--tier', o.tier ?? 'edge', '--source', `${repo} (${hub}), exported by npm run models:pull`];
  if (size) args.push('--img-size', String(size));
  if (Array.isArray(config.label_names) && config.label_names.length === config.num_classes) {
    writeFileSync(join(dir, 'labels.json'), JSON.stringify(config.label_names));
    args.push('--labels', join(dir, 'labels.json'));
  }
  if (o.fp16) args.push('--fp16');
  const r = spawnSync('/usr/bin/python3', args, { cwd: ROOT, env: { ...process.env, PYTHONPATH: ROOT }, stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) throw new PullError(`export of ${arch} failed: ${r.stderr.toString().trim()}`);
  const manifestPath = join(out, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.preprocess = { ...manifest.preprocess, ...preprocess };
  if (config.license) manifest.license = config.license;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  if (o.publish !== false) {
    const { publishLocal } = await import('./seed-local.mjs');
    await publishLocal([id]);
  }
  return { id, dir: out, manifest };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values: a, positionals } = parseArgs({ allowPositionals: true, options: {
    id: { type: 'string' }, tier: { type: 'string' }, hub: { type: 'string' }, fp16: { type: 'boolean' }, 'no-publish': { type: 'boolean' },
    out: { type: 'string' }, cache: { type: 'string' },
  } });
  if (positionals.length !== 1) {
    console.error('usage: npm run models:pull -- <timm model name>[.<tag>] [--id ID] [--tier edge|heavy] [--fp16] [--hub URL] [--no-publish]');
    process.exit(2);
  }
  try {
    const { id, dir } = await pull(positionals[0], { id: a.id, tier: a.tier, hub: a.hub, fp16: a.fp16, publish: !a['no-publish'], out: a.out, cache: a.cache });
    console.log(`pulled ${positionals[0]} -> ${dir} (id ${id})${a['no-publish'] ? '' : '; published to local R2'}`);
  } catch (e) {
    if (!(e instanceof PullError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
