/** The Worker's decoders (src/images/codec-pool.ts), from `.wasm` files imported as modules. */
import JPEG_WASM from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
import WEBP_WASM from '@jsquash/webp/codec/dec/webp_dec.wasm';
import { codecPool } from './codec-pool';

export type { CodecFormat } from './codec-pool';
export const { decodeWith, codecMemoryBytes } = codecPool({ jpeg: JPEG_WASM, webp: WEBP_WASM });
