#!/usr/bin/env node
// Builds the page at `/` into .cache/web/ (git-ignored), the folder the Worker serves as static
// assets (wrangler.toml [assets], and the `assets` option of scripts/lib/worker-host.mjs):
//
//   index.html                      src/web/index.html as is
//   assets/app.js (+ chunks)        src/web/app.ts; the in-browser mode (src/web/browser.ts, with the
//                                   Worker's own src/images, src/preprocess, src/postprocess) is a lazy chunk
//   assets/codecs/*.wasm            the jsquash decoders the Worker uses, compiled by the page
//   assets/ort/*.wasm               onnxruntime-web: the plain WASM build (WASM EP, 14 MB) and the
//                                   JSPI build (WebGPU EP, 16 MB). Both stay under the 25 MiB per-file
//                                   limit of Workers static assets; ORT's JSEP/asyncify builds do not.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from './lib/local-models.mjs';

export const WEB_DIR = join(ROOT, '.cache', 'web');
export const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.jspi.wasm'];

const require = createRequire(join(ROOT, 'package.json'));

/**
 * Writes only what changed, and never empties the folder: other test runs (and wrangler dev)
 * serve these files while a global setup rebuilds them, and the build is deterministic.
 */
function put(path, bytes, written) {
  written.add(path);
  if (existsSync(path) && statSync(path).size === bytes.length && readFileSync(path).equals(bytes)) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path); // atomic: a reader sees the old file or the new one
}

/**
 * `import X from '*.wasm'` gives the Worker a compiled WebAssembly.Module (wrangler's CompiledWasm
 * rule). In the browser the same import becomes a fetch + compile of a copied file, so
 * src/images/codecs.ts runs unchanged.
 */
const wasmModules = (outdir, written) => ({
  name: 'wasm-modules',
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, (args) => ({
      path: args.path.startsWith('.') ? resolve(args.resolveDir, args.path) : require.resolve(args.path, { paths: [args.resolveDir] }),
      namespace: 'wasm-module',
    }));
    b.onLoad({ filter: /.*/, namespace: 'wasm-module' }, (args) => {
      const name = basename(args.path);
      put(join(outdir, 'codecs', name), readFileSync(args.path), written);
      // Chunks are emitted into outdir itself, so the URL is relative to the importing chunk.
      return {
        contents: `const res = await fetch(new URL(${JSON.stringify(`./codecs/${name}`)}, import.meta.url));
if (!res.ok) throw new Error('cannot load ${name}: HTTP ' + res.status);
export default await WebAssembly.compile(await res.arrayBuffer());`,
        loader: 'js',
      };
    });
  },
});

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

export async function buildWeb({ minify = true } = {}) {
  const assets = join(WEB_DIR, 'assets');
  const written = new Set();
  put(join(WEB_DIR, 'index.html'), readFileSync(join(ROOT, 'src', 'web', 'index.html')), written);
  const out = await build({
    entryPoints: { app: join(ROOT, 'src', 'web', 'app.ts') },
    bundle: true, splitting: true, format: 'esm', platform: 'browser', target: 'es2022',
    outdir: assets, chunkNames: '[name]-[hash]', minify, sourcemap: false, logLevel: 'error', write: false,
    // The ORT bundles and emscripten glue mention node modules behind runtime checks.
    external: ['node:*', 'fs', 'path', 'url', 'module', 'worker_threads', 'crypto'],
    plugins: [wasmModules(assets, written)],
  });
  for (const f of out.outputFiles) put(f.path, Buffer.from(f.contents), written);
  const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  for (const f of ORT_FILES) put(join(assets, 'ort', f), readFileSync(join(ortDist, f)), written);
  // Chunks of earlier builds (content-hashed names) are no longer referenced.
  for (const f of walk(WEB_DIR)) {
    if (!written.has(f) && !f.endsWith('.tmp')) rmSync(f, { force: true });
  }
  return WEB_DIR;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(`built the page into ${await buildWeb()}`);
