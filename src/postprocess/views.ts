import type { ModelOutput } from '../inference/backend';

/**
 * Each image's outputs as the arithmetic mean over its `k` consecutive views (src/preprocess/views.ts):
 * logits (or probabilities) and embeddings alike, so `/v1/classify` and `/v1/embed` agree.
 */
export function meanOverViews(out: ModelOutput, k: number): ModelOutput {
  if (k === 1) return out;
  return {
    ...out,
    logits: meanOfViews(out.logits, out.classes, k),
    embedding: out.embedding && meanOfViews(out.embedding, out.embeddingDim, k),
  };
}

/** Rows of `width` values, `k` consecutive rows per image -> one mean row per image. */
export function meanOfViews(values: Float32Array, width: number, k: number): Float32Array {
  const n = values.length / (width * k);
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const views = Array.from({ length: k }, (_, v) => values.subarray((i * k + v) * width, (i * k + v + 1) * width));
    out.set(meanOfRows(views), i * width);
  }
  return out;
}

/** One image's view rows -> their mean row; also the browser's, whose views run one at a time. */
export function meanOfRows(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows[0]!.length);
  for (const row of rows) for (let j = 0; j < out.length; j++) out[j]! += row[j]! / rows.length;
  return out;
}
