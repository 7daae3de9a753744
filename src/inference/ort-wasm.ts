import { ApiError } from '../errors';
import type { Manifest } from '../models/manifest';
import { loadVerifiedWeights } from '../models/weights';
import { toFloat16, fromFloat16 } from '../preprocess/tensor';
import type { Backend, ModelInput, ModelOutput } from './backend';
import { isolateCpu } from './cpu-gate';
import { createSession, ort, type OrtSession } from './ort-runtime';

/** Sessions kept per isolate; a small LRU because an isolate has 128 MB. */
const MAX_SESSIONS = 2;
const sessions = new Map<string, Promise<OrtSession>>();

/** Forgets a model's cached session (benchmarks measure cold loads with it). */
export function dropSession(m: Manifest): void {
  const key = `${m.id}@${m.onnx.sha256}`;
  sessions.get(key)?.then((s) => s.release()).catch(() => undefined);
  sessions.delete(key);
}

/** Edge backend: onnxruntime-web (WASM, one thread, SIMD) in this isolate. */
export class OrtWasmBackend implements Backend {
  readonly name = 'edge-wasm';
  constructor(private readonly bucket: R2Bucket) {}

  session(m: Manifest): Promise<OrtSession> {
    const key = `${m.id}@${m.onnx.sha256}`;
    let s = sessions.get(key);
    if (s) {
      sessions.delete(key); // re-insert: most recently used last
      sessions.set(key, s);
      return s;
    }
    s = loadVerifiedWeights(this.bucket, m).then(async (bytes) => {
      try {
        return await createSession(bytes);
      } catch (e) {
        throw new ApiError('model-unavailable', `The model "${m.id}" could not be loaded: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
      }
    });
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
    while (sessions.size > MAX_SESSIONS) {
      const [oldest, victim] = sessions.entries().next().value as [string, Promise<OrtSession>];
      sessions.delete(oldest);
      victim.then((v) => v.release()).catch(() => undefined);
    }
    return s;
  }

  async run(m: Manifest, input: ModelInput, opts: { wantEmbedding: boolean }): Promise<ModelOutput> {
    const session = await this.session(m);
    const per = input.data.length / input.batch;
    const s = m.preprocess.size;
    const chunk = m.input.batch ?? input.batch; // fixed-batch graphs run in slices
    const logits: Float32Array[] = [];
    const embeddings: Float32Array[] = [];
    const fetches = [m.outputs.logits, ...(opts.wantEmbedding && m.outputs.embedding ? [m.outputs.embedding] : [])];
    for (let start = 0; start < input.batch; start += chunk) {
      const n = Math.min(chunk, input.batch - start);
      const slice = input.data.subarray(start * per, (start + n) * per);
      const dims = m.input.layout === 'NCHW' ? [n, 3, s, s] : [n, s, s, 3];
      const tensor = m.input.dtype === 'float16'
        ? new ort.Tensor('float16', toFloat16(slice), dims)
        : new ort.Tensor('float32', slice, dims);
      const out = await isolateCpu.run(() => session.run({ [m.input.name]: tensor }, fetches));
      logits.push(asFloat32(out[m.outputs.logits]!));
      if (fetches.length > 1) embeddings.push(asFloat32(out[m.outputs.embedding!]!));
      for (const t of Object.values(out)) t.dispose();
      tensor.dispose();
    }
    const allLogits = concat(logits);
    const embedding = embeddings.length ? concat(embeddings) : null;
    return {
      logits: allLogits,
      classes: allLogits.length / input.batch,
      embedding,
      embeddingDim: embedding ? embedding.length / input.batch : 0,
      backend: this.name,
    };
  }
}

function asFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return new Float32Array(t.data as Float32Array);
  // fp16 data arrives as raw bits (Uint16Array) or, where the runtime has it, a Float16Array.
  if (t.type === 'float16') return t.data instanceof Uint16Array ? fromFloat16(t.data) : Float32Array.from(t.data as ArrayLike<number>);
  throw new ApiError('model-unavailable', `Unsupported output tensor type ${t.type}.`);
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
