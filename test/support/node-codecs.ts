// The Worker's WASM decoders, run in Node for unit tests (same .wasm, compiled here).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';

const require = createRequire(import.meta.url);
let ready: Promise<void> | null = null;

export async function decodeForTest(bytes: Uint8Array) {
  ready ??= WebAssembly.compile(readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'))).then((m) => initJpeg(m));
  await ready;
  const d = await decodeJpeg(bytes.slice().buffer, { preserveOrientation: false });
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.length) };
}
