/** The Worker's decoders (src/images/codec-pool.ts), from `.wasm` files imported as modules. */
import JPEG_WASM from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
// @ts-ignore: the package's own .d.ts types this file as wasm-bindgen exports; bundled, it is a Module.
import PNG_WASM from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import WEBP_WASM from '@jsquash/webp/codec/dec/webp_dec.wasm';
import { codecPool } from './codec-pool';

export const { decodeWith, codecMemoryBytes } = codecPool({ jpeg: JPEG_WASM, png: PNG_WASM as WebAssembly.Module, webp: WEBP_WASM });
