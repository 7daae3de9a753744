// Bundles the server into dist/server.mjs (onnxruntime-node stays external: native addon).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export async function buildContainer() {
  await build({
    entryPoints: [join(here, 'src', 'server.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20',
    outfile: join(here, 'dist', 'server.mjs'), external: ['onnxruntime-node'], logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return join(here, 'dist', 'server.mjs');
}
if (import.meta.url === `file://${process.argv[1]}`) console.log(await buildContainer());
