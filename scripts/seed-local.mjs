#!/usr/bin/env node
// Seeds the local R2 bucket (Miniflare persistence under .wrangler/, the one `wrangler dev`
// reads) with every model folder in models/ and .cache/models/, and registers the shared
// SqueezeNet ImageNet classifier when ../shared is present. No network.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Miniflare } from 'miniflare';
import { ROOT, SHARED_DIR, discoverModels, publishToBucket } from './lib/local-models.mjs';
import { registerModel } from './lib/register.mjs';
import { seedDevKeyLocal } from './keys.mjs';

export const R2_PERSIST = join(ROOT, '.wrangler', 'state', 'v3', 'r2');
export const BUCKET = 'edge-vit-models';

/** The shared ImageNet model, registered through the same path users take (models:add). */
export async function registerSqueezenet(out = join(ROOT, '.cache', 'models')) {
  const dir = join(SHARED_DIR, 'models', 'squeezenet1.1-fp16');
  if (!existsSync(join(dir, 'SqueezeNet_fp16.onnx'))) return null;
  return registerModel({
    onnx: join(dir, 'SqueezeNet_fp16.onnx'), labels: join(SHARED_DIR, 'models', 'imagenet_class_index.json'),
    id: 'squeezenet1.1-imagenet', preset: 'caffe-bgr', outputKind: 'probabilities', family: 'squeezenet',
    variant: 'squeezenet1.1', license: 'MIT', source: 'microsoft/Windows-Machine-Learning SqueezeNet_fp16.onnx', out,
  });
}

export async function publishLocal(ids) {
  const mf = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null) } }', r2Buckets: { MODELS: BUCKET }, r2Persist: R2_PERSIST });
  try {
    const bucket = await mf.getR2Bucket('MODELS');
    const models = discoverModels().filter((m) => !ids || ids.includes(m.manifest.id));
    await publishToBucket(bucket, models);
    return models.map((m) => m.manifest.id);
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await registerSqueezenet();
  const ids = await publishLocal();
  console.log(`seeded local R2 (${R2_PERSIST}) with ${ids.length} models: ${ids.join(', ')}`);
  const devKey = await seedDevKeyLocal();
  console.log(`seeded local KV API_KEYS with the dev key: Authorization: Bearer ${devKey} (local only; see SECURITY.md)`);
}
