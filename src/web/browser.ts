// In-browser inference for the page: the Worker's own preprocessing and postprocessing modules,
// with onnxruntime-web's WebGPU execution provider (WASM when WebGPU is not there). Built for
// the browser by scripts/build-web.mjs and served from /web/.
import * as ort from 'onnxruntime-web';
import type { RgbaImage } from '../images/types';
import type { Manifest } from '../models/manifest';
import { softmax, topK, type Prediction } from '../postprocess/classify';
import { resizedRgb, toFloat16, writeNormalized } from '../preprocess/tensor';

type ModelInfo = Pick<Manifest, 'id' | 'preprocess' | 'input' | 'outputs' | 'labels'>;
export type Provider = 'webgpu' | 'wasm';

// Only the .wasm comes from the Worker; the JS glue is inside this bundle.
ort.env.wasm.wasmPaths = { wasm: '/web/ort-wasm-simd-threaded.jsep.wasm' };
ort.env.wasm.numThreads = 1; // no cross-origin isolation on this page, so no SharedArrayBuffer

const sessions = new Map<string, Promise<{ info: ModelInfo; session: ort.InferenceSession; provider: Provider }>>();

async function load(id: string, headers: HeadersInit, want: Provider) {
  const info = (await (await fetch(`/v1/models/${encodeURIComponent(id)}`, { headers })).json()) as ModelInfo;
  // Immutable and ETagged: the browser's HTTP cache makes a second visit download nothing.
  const weights = new Uint8Array(await (await fetch(`/v1/models/${encodeURIComponent(id)}/weights`)).arrayBuffer());
  const providers: Provider[] = want === 'webgpu' && 'gpu' in navigator ? ['webgpu', 'wasm'] : ['wasm'];
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(weights, { executionProviders: [provider], graphOptimizationLevel: 'all' });
      return { info, session, provider };
    } catch (e) {
      if (provider === 'wasm') throw e;
      console.warn(`WebGPU execution provider unavailable: ${(e as Error).message}`);
    }
  }
  throw new Error('no execution provider');
}

/** Decoding is the browser's (createImageBitmap honours EXIF orientation); the rest is shared code. */
async function decode(file: Blob): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { width: bitmap.width, height: bitmap.height, data: new Uint8Array(data.buffer) };
}

export async function classifyHere(file: Blob, id: string, headers: HeadersInit, want: Provider = 'webgpu', k = 5): Promise<{
  predictions: Prediction[]; provider: Provider; timings_ms: { decode: number; preprocess: number; inference: number };
}> {
  const key = `${id}:${want}`;
  let entry = sessions.get(key);
  if (!entry) { entry = load(id, headers, want); sessions.set(key, entry); entry.catch(() => sessions.delete(key)); }
  const { info, session, provider } = await entry;
  const t0 = performance.now();
  const img = await decode(file);
  const t1 = performance.now();
  const s = info.preprocess.size;
  const x = new Float32Array(3 * s * s);
  writeNormalized(resizedRgb(img, info.preprocess), info.preprocess, info.input.layout, x, 0);
  const dims = info.input.layout === 'NCHW' ? [1, 3, s, s] : [1, s, s, 3];
  const tensor = info.input.dtype === 'float16' ? new ort.Tensor('float16', toFloat16(x), dims) : new ort.Tensor('float32', x, dims);
  const t2 = performance.now();
  const out = await session.run({ [info.input.name]: tensor }, [info.outputs.logits]);
  const t3 = performance.now();
  const raw = out[info.outputs.logits]!;
  const row = raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data as ArrayLike<number>);
  const scores = info.outputs.kind === 'probabilities' ? row : softmax(row);
  return {
    predictions: topK(scores, info.labels, k),
    provider,
    timings_ms: { decode: Math.round(t1 - t0), preprocess: Math.round(t2 - t1), inference: Math.round(t3 - t2) },
  };
}
