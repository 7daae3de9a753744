/**
 * The WASM image decoders, initialised from `.wasm` files imported as modules (workerd forbids
 * compiling WebAssembly from bytes). Each codec is initialised once per isolate, on first use.
 */
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import JPEG_WASM from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
// @ts-ignore: the package's own .d.ts types this file as wasm-bindgen exports; bundled, it is a Module.
import PNG_WASM from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import WEBP_WASM from '@jsquash/webp/codec/dec/webp_dec.wasm';
import type { ImageFormat } from './header';

interface Decoded { width: number; height: number; data: Uint8ClampedArray }
type Codec = (bytes: ArrayBuffer) => Promise<Decoded>;

const ready = new Map<ImageFormat, Promise<Codec>>();

const factories: Record<ImageFormat, () => Promise<Codec>> = {
  jpeg: async () => { await initJpeg(JPEG_WASM); return (b) => decodeJpeg(b, { preserveOrientation: false }); },
  png: async () => { await initPng(PNG_WASM); return (b) => decodePng(b); },
  webp: async () => { await initWebp(WEBP_WASM); return (b) => decodeWebp(b); },
};

export function codecFor(format: ImageFormat): Promise<Codec> {
  let codec = ready.get(format);
  if (!codec) {
    codec = factories[format]();
    ready.set(format, codec);
    codec.catch(() => ready.delete(format));
  }
  return codec;
}
