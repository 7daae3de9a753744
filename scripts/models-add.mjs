#!/usr/bin/env node
// npm run models:add -- --onnx <file> --labels <file> [--preset timm|torchvision|caffe-bgr|cifar10]
//   [--config preprocessor_config.json|timm config.json|manifest-style json] --id <id>
//   [--output-kind logits|probabilities] [--layout NCHW|NHWC] [--tier edge|heavy] [--family F]
//   [--out .cache/models] [--no-publish]
// Validates the graph against the manifest, writes manifest + weights into --out, then
// publishes them into the local R2 bucket (the one `npm run dev` serves).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { RegistrationError, registerModel } from './lib/register.mjs';
import { progressBar } from './lib/progress.mjs';
import { ROOT } from './lib/local-models.mjs';
import { publishLocal } from './seed-local.mjs';

const { values: a } = parseArgs({
  options: {
    onnx: { type: 'string' }, labels: { type: 'string' }, id: { type: 'string' }, preset: { type: 'string' },
    config: { type: 'string' }, 'output-kind': { type: 'string' }, layout: { type: 'string' }, tier: { type: 'string' },
    family: { type: 'string' }, variant: { type: 'string' }, license: { type: 'string' }, source: { type: 'string' },
    logits: { type: 'string' }, embedding: { type: 'string' },
    out: { type: 'string', default: join(ROOT, '.cache', 'models') }, 'no-publish': { type: 'boolean', default: false },
  },
});

if (!a.onnx || !a.labels || !a.id) {
  console.error('usage: npm run models:add -- --onnx <file> --labels <file> --id <id> [--preset NAME | --config FILE]');
  process.exit(2);
}
try {
  const { manifest, dir } = await registerModel({
    onnx: a.onnx, labels: a.labels, id: a.id, preset: a.preset, config: a.config, outputKind: a['output-kind'],
    layout: a.layout, tier: a.tier, family: a.family, variant: a.variant, license: a.license, source: a.source,
    logits: a.logits, embedding: a.embedding, out: a.out, progress: progressBar('sha256'),
  });
  console.log(`registered ${manifest.id}: ${manifest.labels.length} labels, input ${manifest.input.name} ${manifest.input.dtype} ${manifest.input.layout}, ${manifest.onnx.bytes} bytes -> ${dir}`);
  if (!a['no-publish']) {
    await publishLocal([manifest.id]);
    console.log(`published ${manifest.id} to local R2`);
  }
} catch (e) {
  if (e instanceof RegistrationError) {
    console.error(`models:add: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
