// src/images/codecs.ts for Node: the same codec pool (src/images/codec-pool.ts), with the WASM
// compiled here from node_modules instead of imported as modules (only workerd's bundler turns a
// .wasm import into a WebAssembly.Module). Used by
// test/fuzz/decoders.test.ts through vi.mock so that src/images/decode.ts runs unchanged, and by
// the preprocessing tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { codecPool } from '../../src/images/codec-pool';

export type { CodecFormat } from '../../src/images/codec-pool';

const require = createRequire(import.meta.url);
const compile = (spec: string) => {
  let compiled: Promise<WebAssembly.Module> | undefined;
  return () => (compiled ??= WebAssembly.compile(readFileSync(require.resolve(spec))));
};

export const { decodeWith, codecMemoryBytes } = codecPool({
  jpeg: compile('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'),
  webp: compile('@jsquash/webp/codec/dec/webp_dec.wasm'),
});

/** A JPEG decoded exactly as the Worker does it, as RGBA bytes (for the preprocessing tests). */
export async function decodeForTest(bytes: Uint8Array) {
  const d = await decodeWith('jpeg', bytes.slice().buffer);
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.length) };
}
