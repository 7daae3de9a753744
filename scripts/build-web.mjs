#!/usr/bin/env node
// Builds the page's in-browser inference module (src/web/browser.ts + the Worker's preprocessing
// + onnxruntime-web's browser bundle) into .cache/web/, with the ORT .wasm it loads. The files are
// published into the MODELS bucket under web/ (scripts/lib/local-models.mjs) and served at /web/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from './lib/local-models.mjs';

export const WEB_DIR = join(ROOT, '.cache', 'web');
export const WEB_FILES = ['browser.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

export async function buildWeb() {
  mkdirSync(WEB_DIR, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'src', 'web', 'browser.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outfile: join(WEB_DIR, 'browser.mjs'), minify: true, logLevel: 'error',
  });
  const ortDist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  copyFileSync(join(ortDist, 'ort-wasm-simd-threaded.jsep.wasm'), join(WEB_DIR, 'ort-wasm-simd-threaded.jsep.wasm'));
  return WEB_FILES.map((f) => join(WEB_DIR, f));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await buildWeb()).join('\n'));
