/**
 * The @jsquash WASM decoders (mozjpeg, libwebp), each instantiated on first use from a
 * compiled module: imported as a module in the Worker (workerd forbids compiling WebAssembly from
 * bytes; src/images/codecs.ts), compiled from node_modules in Node tests (test/support/node-codecs.ts).
 *
 * A WebAssembly memory never shrinks: after one 12 MP photo mozjpeg's heap would hold 48 MiB for
 * the rest of the isolate's life, beside ORT's heap, in a 128 MB isolate. So a codec whose memory
 * grew past KEEP_CODEC_BYTES is replaced by a fresh instance right after its decode and the grown
 * one is left to the garbage collector (instantiating a compiled module is cheap). PNG is not
 * here: it is decoded in JavaScript (src/images/png.ts).
 */
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import type { ImageFormat } from './header';

/** The formats these WASM codecs decode. */
export type CodecFormat = Exclude<ImageFormat, 'png'>;

export interface Decoded { width: number; height: number; data: Uint8ClampedArray }
type Source = WebAssembly.Module | (() => Promise<WebAssembly.Module>);
interface Codec {
  decode(bytes: ArrayBuffer): Promise<Decoded>;
  /** Bytes of the codec's linear memory now (0 where it cannot be read). */
  memoryBytes(): number;
}

/** Emscripten starts these heaps at 16 MiB; mozjpeg's stays at 16.1 MiB up to a 2 MP JPEG, a 12 MP one grows it to 48.4. */
export const KEEP_CODEC_BYTES = 32 * 2 ** 20;

const compiled = async (s: Source) => (s instanceof WebAssembly.Module ? s : s());

/** Emscripten calls onRuntimeInitialized on its Module object, which holds the live heap view. */
function emscripten(init: (m: WebAssembly.Module, o: object) => Promise<void>, source: Source,
  decode: (b: ArrayBuffer) => Promise<Decoded>): () => Promise<Codec> {
  return async () => {
    let heap: { HEAPU8?: Uint8Array } | undefined;
    await init(await compiled(source), { onRuntimeInitialized(this: { HEAPU8?: Uint8Array }) { heap = this; } });
    return { decode, memoryBytes: () => heap?.HEAPU8?.buffer.byteLength ?? 0 };
  };
}

export function codecPool(wasm: Record<CodecFormat, Source>) {
  const factories: Record<CodecFormat, () => Promise<Codec>> = {
    jpeg: emscripten(initJpeg as never, wasm.jpeg, (b) => decodeJpeg(b, { preserveOrientation: false })),
    webp: emscripten(initWebp as never, wasm.webp, (b) => decodeWebp(b)),
  };
  const ready = new Map<CodecFormat, Promise<Codec>>();

  const codecFor = (format: CodecFormat) => {
    let codec = ready.get(format);
    if (!codec) {
      codec = factories[format]();
      ready.set(format, codec);
      codec.catch(() => ready.delete(format));
    }
    return codec;
  };

  return {
    /** Decodes with the format's codec, then replaces a codec that grew past the budget. */
    async decodeWith(format: CodecFormat, bytes: ArrayBuffer): Promise<Decoded> {
      const pending = codecFor(format);
      const codec = await pending;
      try {
        return await codec.decode(bytes);
      } finally {
        // Re-instantiate now, not on the next image: the codec library holds its current instance
        // in a module variable, so the grown one is only released once it is replaced. Awaited
        // here, inside this request (and the CPU gate), so no other request waits on a promise
        // this one created (workerd cancels such waits once the creator has answered).
        if (codec.memoryBytes() > KEEP_CODEC_BYTES && ready.get(format) === pending) {
          ready.delete(format);
          await codecFor(format).catch(() => undefined);
        }
      }
    },
    /** Linear memory of the live codec instances (`npm run bench`, the memory test). */
    async codecMemoryBytes(): Promise<Record<CodecFormat, number>> {
      const out = { jpeg: 0, webp: 0 };
      for (const [format, codec] of ready) out[format] = (await codec.catch(() => null))?.memoryBytes() ?? 0;
      return out;
    },
  };
}
