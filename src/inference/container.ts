import { ApiError } from '../errors';
import type { Manifest } from '../models/manifest';
import { toFloat16 } from '../preprocess/tensor';
import type { Backend, ModelInput, ModelOutput } from './backend';
import { CircuitBreaker } from './breaker';
import { decodeInferResponse, encodeInferRequest, float32Bytes } from './oip';

export interface ContainerOptions {
  /** Sends one HTTP request to the OIP v2 server (a Durable Object stub's fetch, or global fetch). */
  send: (path: string, init: RequestInit) => Promise<Response>;
  timeoutMs: number;
  retries: number;
  breaker: CircuitBreaker;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * Heavy-tier backend: the companion container (or any KServe/Triton server) over the Open
 * Inference Protocol v2. Bounded retries on transient failures, a timeout per attempt, and a
 * circuit breaker; when the server is unavailable the caller gets a 503 problem with Retry-After.
 */
export class ContainerBackend implements Backend {
  readonly name = 'container';
  constructor(private readonly o: ContainerOptions) {}

  async run(m: Manifest, input: ModelInput, opts: { wantEmbedding: boolean }): Promise<ModelOutput> {
    const s = m.preprocess.size;
    const shape = m.input.layout === 'NCHW' ? [input.batch, 3, s, s] : [input.batch, s, s, 3];
    const bytes = m.input.dtype === 'float16' ? new Uint8Array(toFloat16(input.data).buffer) : float32Bytes(input.data);
    const outputs = [m.outputs.logits, ...(opts.wantEmbedding && m.outputs.embedding ? [m.outputs.embedding] : [])];
    const { body, headerLength } = encodeInferRequest([{ name: m.input.name, datatype: m.input.dtype === 'float16' ? 'FP16' : 'FP32', shape, bytes }], outputs);
    const res = await this.call(`/v2/models/${encodeURIComponent(m.id)}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      body,
    });
    const len = res.headers.get('inference-header-content-length');
    let decoded;
    try {
      decoded = decodeInferResponse(new Uint8Array(await res.arrayBuffer()), len === null ? null : Number(len));
    } catch (e) {
      throw unavailable(`the container's response could not be decoded (${(e as Error).message})`, 5000);
    }
    const logits = decoded.get(m.outputs.logits);
    if (!logits) throw unavailable(`the container returned no "${m.outputs.logits}" output`, 5000);
    const emb = opts.wantEmbedding && m.outputs.embedding ? decoded.get(m.outputs.embedding) ?? null : null;
    // Rows are matched to images (and test-time views) by position: a short answer must not shift them.
    for (const [name, t] of [[m.outputs.logits, logits], [m.outputs.embedding, emb]] as const) {
      if (t && (t.shape[0] !== input.batch || t.data.length % input.batch !== 0)) {
        throw unavailable(`the container returned ${t.shape[0]} rows of "${name}" for ${input.batch} inputs`, 5000);
      }
    }
    return {
      logits: logits.data,
      classes: logits.data.length / input.batch,
      embedding: emb ? emb.data : null,
      embeddingDim: emb ? emb.data.length / input.batch : 0,
      backend: this.name,
    };
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    const b = this.o.breaker;
    let lastError = 'unknown error';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (!b.allow()) throw unavailable(`the heavy-tier container is unavailable (circuit open after repeated failures; last: ${lastError})`, b.retryAfterMs());
      try {
        const res = await this.o.send(path, { ...init, signal: AbortSignal.timeout(this.o.timeoutMs) });
        if (res.ok) { b.success(); return res; }
        const text = (await res.text()).slice(0, 200);
        if (res.status === 404) { b.success(); throw new ApiError('model-unavailable', `The container does not serve this model: ${text}`, {}, { 'retry-after': '60' }); }
        if (!RETRYABLE.has(res.status) && res.status < 500) { b.success(); throw new ApiError('model-unavailable', `The container rejected the request (HTTP ${res.status}): ${text}`); }
        lastError = `HTTP ${res.status}`;
      } catch (e) {
        if (e instanceof ApiError) throw e;
        lastError = (e as Error)?.name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs} ms` : 'connection failed';
      }
      b.failure();
      if (attempt < this.o.retries) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt + Math.random() * 50));
    }
    throw unavailable(`the heavy-tier container did not answer (${lastError})`, Math.max(b.retryAfterMs(), 1000));
  }
}

function unavailable(detail: string, retryAfterMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError('model-unavailable', `Model unavailable: ${detail}.`, { retry_after_s: seconds }, { 'retry-after': String(seconds) });
}
