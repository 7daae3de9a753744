// In-browser inference for the page, loaded lazily by app.ts. The same modules as the Worker:
// src/images (jsquash WASM decoders, header checks, EXIF orientation), src/preprocess (Pillow-exact
// resampling, normalisation) and src/postprocess (softmax, top-k); onnxruntime-web's browser builds
// run the model: the JSPI build for the WebGPU execution provider, the plain WASM build otherwise.
import type * as Ort from 'onnxruntime-web';
import { decodeImage } from '../images/decode';
import type { Manifest } from '../models/manifest';
import { softmax, topK, type Prediction } from '../postprocess/classify';
import { meanOfRows } from '../postprocess/views';
import { fromFloat16, resizedRgb, toFloat16, writeNormalized } from '../preprocess/tensor';
import { viewCount, writeViews } from '../preprocess/views';

type ModelInfo = Pick<Manifest, 'id' | 'preprocess' | 'input' | 'outputs' | 'labels' | 'tier' | 'tta'> & { bytes: number; sha256: string };
export type Provider = 'webgpu' | 'wasm';
type OrtModule = typeof Ort;

/** Same budget as the Worker's MAX_IMAGE_PIXELS default. */
const MAX_PIXELS = 40_000_000;

const runtimes = new Map<Provider, Promise<OrtModule>>();

/** One ORT build per provider, each fetching its own .wasm from assets/ort/ (scripts/build-web.mjs). */
function runtime(provider: Provider): Promise<OrtModule> {
  let r = runtimes.get(provider);
  if (!r) {
    r = (async () => {
      const ort = (provider === 'webgpu' ? await import('onnxruntime-web/jspi') : await import('onnxruntime-web/wasm')) as OrtModule;
      const file = provider === 'webgpu' ? 'ort-wasm-simd-threaded.jspi.wasm' : 'ort-wasm-simd-threaded.wasm';
      ort.env.wasm.wasmPaths = { wasm: new URL(`./ort/${file}`, import.meta.url).href };
      ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated: no SharedArrayBuffer
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      return ort;
    })();
    runtimes.set(provider, r);
    r.catch(() => runtimes.delete(provider));
  }
  return r;
}

/** Why WebGPU cannot run here, or null when it can. */
export async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no navigator.gpu';
  if (!('Suspending' in WebAssembly)) return 'this browser lacks WebAssembly JSPI, which ORT\'s WebGPU build needs';
  try {
    if (!(await gpu.requestAdapter())) return 'no WebGPU adapter';
  } catch (e) {
    return `requestAdapter failed: ${(e as Error).message}`;
  }
  return null;
}

export interface Weights { bytes: Uint8Array; ms: number; fromCache: boolean }

/** Immutable and ETagged (sha256): the browser's HTTP cache makes a second visit download nothing. */
async function fetchWeights(id: string, headers: HeadersInit): Promise<Weights> {
  const url = new URL(`/v1/models/${encodeURIComponent(id)}/weights`, location.href).href;
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`weights of ${id}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  const entry = performance.getEntriesByName(url).at(-1) as PerformanceResourceTiming | undefined;
  performance.clearResourceTimings();
  return { bytes, ms, fromCache: !!entry && entry.transferSize === 0 && entry.decodedBodySize > 0 };
}

interface Loaded { info: ModelInfo; session: Ort.InferenceSession; ort: OrtModule; provider: Provider; weights: Weights; note: string | null }
const sessions = new Map<string, Promise<Loaded>>();

async function load(id: string, headers: HeadersInit, want: Provider): Promise<Loaded> {
  const res = await fetch(`/v1/models/${encodeURIComponent(id)}`, { headers });
  if (!res.ok) throw new Error(`model ${id}: HTTP ${res.status}`);
  const info = (await res.json()) as ModelInfo;
  return start(info, await fetchWeights(id, headers), want, null);
}

/** A session on the wanted provider; WebGPU falls back to WASM, and `note` says why. */
async function start(info: ModelInfo, weights: Weights, want: Provider, note: string | null): Promise<Loaded> {
  if (want === 'webgpu') {
    note = await webgpuUnavailable();
    if (!note) {
      try {
        const ort = await runtime('webgpu');
        const session = await ort.InferenceSession.create(weights.bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
        return { info, session, ort, provider: 'webgpu', weights, note };
      } catch (e) {
        note = `the WebGPU execution provider failed: ${(e as Error).message}`;
      }
    }
    console.warn(`WebGPU unavailable, running on WASM: ${note}`);
  }
  const ort = await runtime('wasm');
  const session = await ort.InferenceSession.create(weights.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { info, session, ort, provider: 'wasm', weights, note };
}

export interface LocalResult {
  predictions: Prediction[];
  provider: Provider;
  /** Why WebGPU was not used, when it was asked for. */
  note: string | null;
  /** Weights download (first use of a model in this page) and whether the HTTP cache answered. */
  weights: { ms: number; bytes: number; fromCache: boolean } | null;
  timings_ms: { decode: number; preprocess: number; inference: number; session: number };
}

export async function classifyHere(file: Blob, id: string, headers: HeadersInit, want: Provider = 'webgpu', k = 5): Promise<LocalResult> {
  const key = `${id}:${want}`;
  let entry = sessions.get(key);
  const fresh = !entry;
  const ts = performance.now();
  if (!entry) {
    entry = load(id, headers, want);
    sessions.set(key, entry);
    entry.catch(() => sessions.delete(key));
  }
  const { info, session, ort, provider, weights, note } = await entry;
  const t0 = performance.now();
  const img = await decodeImage(new Uint8Array(await file.arrayBuffer()), { maxPixels: MAX_PIXELS });
  const t1 = performance.now();
  const s = info.preprocess.size;
  const per = 3 * s * s;
  // The Worker pipeline's test-time views, one batch-1 run each (a graph may fix its batch at 1).
  const views = info.tta ?? [];
  const x = new Float32Array(per * viewCount(views));
  writeNormalized(resizedRgb(img, info.preprocess), info.preprocess, info.input.layout, x, 0);
  writeViews(x, 0, s, info.input.layout, views);
  const dims = info.input.layout === 'NCHW' ? [1, 3, s, s] : [1, s, s, 3];
  const t2 = performance.now();
  const rows: Float32Array[] = [];
  try {
    for (let v = 0; v < viewCount(views); v++) {
      const view = x.subarray(v * per, (v + 1) * per);
      const tensor = info.input.dtype === 'float16' ? new ort.Tensor('float16', toFloat16(view), dims) : new ort.Tensor('float32', view, dims);
      const out = await session.run({ [info.input.name]: tensor }, [info.outputs.logits]);
      const raw = out[info.outputs.logits]!;
      rows.push(raw.type === 'float16' && raw.data instanceof Uint16Array ? fromFloat16(raw.data)
        : Float32Array.from(raw.data as ArrayLike<number>));
    }
  } catch (e) {
    if (provider !== 'webgpu') throw e;
    // A WebGPU failure at run time (lost device, unsupported kernel): the same weights on WASM.
    const why = `the WebGPU execution provider failed while running: ${(e as Error).message}`;
    console.warn(`${why}; running on WASM`);
    const fallback = start(info, weights, 'wasm', null).then((l) => ({ ...l, note: why }));
    sessions.set(key, fallback);
    fallback.catch(() => sessions.delete(key));
    return classifyHere(file, id, headers, want, k);
  }
  const t3 = performance.now();
  const row = meanOfRows(rows);
  const scores = info.outputs.kind === 'probabilities' ? row : softmax(row);
  return {
    predictions: topK(scores, info.labels, k),
    provider, note,
    weights: fresh ? { ms: Math.round(weights.ms), bytes: weights.bytes.byteLength, fromCache: weights.fromCache } : null,
    timings_ms: {
      decode: Math.round(t1 - t0), preprocess: Math.round(t2 - t1), inference: Math.round(t3 - t2),
      session: fresh ? Math.round(t0 - ts - weights.ms) : 0,
    },
  };
}
