// src/images/codecs.ts for Node: the same @jsquash WASM decoders (mozjpeg, Rust png, libwebp)
// with the same options, compiled here from node_modules instead of imported as modules
// (only workerd's bundler turns a .wasm import into a WebAssembly.Module). Used by
// test/fuzz/decoders.test.ts through vi.mock so that src/images/decode.ts runs unchanged, and by
// the preprocessing tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import type { ImageFormat } from '../../src/images/header';

const require = createRequire(import.meta.url);
const compile = (spec: string) => WebAssembly.compile(readFileSync(require.resolve(spec)));

interface Decoded { width: number; height: number; data: Uint8ClampedArray }
type Codec = (bytes: ArrayBuffer) => Promise<Decoded>;

const ready = new Map<ImageFormat, Promise<Codec>>();
const factories: Record<ImageFormat, () => Promise<Codec>> = {
  jpeg: async () => { await initJpeg(await compile('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')); return (b) => decodeJpeg(b, { preserveOrientation: false }); },
  png: async () => { await initPng(await compile('@jsquash/png/codec/pkg/squoosh_png_bg.wasm') as never); return (b) => decodePng(b); },
  webp: async () => { await initWebp(await compile('@jsquash/webp/codec/dec/webp_dec.wasm')); return (b) => decodeWebp(b); },
};

export function codecFor(format: ImageFormat): Promise<Codec> {
  let codec = ready.get(format);
  if (!codec) { codec = factories[format](); ready.set(format, codec); }
  return codec;
}

/** A JPEG decoded exactly as the Worker does it, as RGBA bytes (for the preprocessing tests). */
export async function decodeForTest(bytes: Uint8Array) {
  const d = await (await codecFor('jpeg'))(bytes.slice().buffer);
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.length) };
}
