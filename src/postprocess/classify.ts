export interface Prediction { label: string; index: number; score: number }

/** Numerically stable softmax of one row. */
export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) { out[i] = Math.exp(logits[i]! - max); sum += out[i]!; }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** The k highest scores at or above `threshold`, best first (ties by lower index). */
export function topK(scores: Float32Array, labels: readonly string[], k: number, threshold = 0): Prediction[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k).map((i) => ({ label: labels[i] ?? String(i), index: i, score: scores[i]! }));
}
