#!/usr/bin/env node
// npm run models:publish [-- <id> ...] [--remote]
// Puts models (models/ and .cache/models/) into R2: the local bucket `wrangler dev` reads by
// default; with --remote the real bucket of wrangler.toml through `wrangler r2 object put`
// (needs `wrangler login` or CLOUDFLARE_API_TOKEN). Weights go first, the manifest last, so a
// reader never sees a manifest whose weights are not there yet.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, discoverModels } from './lib/local-models.mjs';
import { BUCKET, publishLocal } from './seed-local.mjs';

const { values: a, positionals: ids } = parseArgs({ allowPositionals: true, options: { remote: { type: 'boolean', default: false } } });
const models = discoverModels().filter((m) => !ids.length || ids.includes(m.manifest.id));
const missing = ids.filter((id) => !models.some((m) => m.manifest.id === id));
if (missing.length) {
  console.error(`error: no local model folder for ${missing.join(', ')} (looked in models/ and .cache/models/)`);
  process.exit(1);
}

function put(key, file, contentType) {
  const r = spawnSync('npx', ['wrangler', 'r2', 'object', 'put', `${BUCKET}/${key}`, '--file', file, '--content-type', contentType, '--remote'],
    { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`wrangler r2 object put ${key} failed (exit ${r.status})`);
}

if (a.remote) {
  for (const { manifest, onnxPath } of models) {
    put(manifest.onnx.key, onnxPath, 'application/octet-stream');
    const mf = join(tmpdir(), `${manifest.id}.manifest.json`);
    writeFileSync(mf, JSON.stringify(manifest));
    put(`models/${manifest.id}/manifest.json`, mf, 'application/json');
    console.log(`published ${manifest.id} to r2://${BUCKET}`);
  }
} else {
  const done = await publishLocal(models.map((m) => m.manifest.id));
  console.log(`published to local R2 (${BUCKET}): ${done.join(', ')}`);
}
