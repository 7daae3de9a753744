// Finds model folders (manifest.json + ONNX) in the repo and writes them into an R2 bucket.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = resolve(process.env.SHARED_DIR ?? join(ROOT, '..', 'shared'));
export const MODEL_DIRS = [join(ROOT, 'models'), join(ROOT, '.cache', 'models')];

export function discoverModels(dirs = MODEL_DIRS) {
  const found = new Map();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const id of readdirSync(dir)) {
      const mf = join(dir, id, 'manifest.json');
      if (!existsSync(mf)) continue;
      const manifest = JSON.parse(readFileSync(mf, 'utf8'));
      const onnxPath = join(dir, id, basename(manifest.onnx.key));
      if (!existsSync(onnxPath)) continue;
      found.set(manifest.id, { manifest, onnxPath, dir: join(dir, id) });
    }
  }
  return [...found.values()];
}

/** Writes manifest + weights; `bucket` is anything with put(key, value) (Miniflare's R2). */
export async function publishToBucket(bucket, models) {
  for (const { manifest, onnxPath } of models) {
    const bytes = readFileSync(onnxPath);
    await bucket.put(manifest.onnx.key, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    await bucket.put(`models/${manifest.id}/manifest.json`, JSON.stringify(manifest));
  }
}
