/** The fields of a model manifest (docs/manifest.md) that the container needs. */
export interface Manifest {
  id: string;
  version: string;
  onnx: { key: string; sha256: string; bytes: number; precision: string };
  input: { name: string; dtype: 'float32' | 'float16'; layout: 'NCHW' | 'NHWC' };
  outputs: { logits: string; embedding: string | null };
  preprocess: { size: number };
  labels: string[];
  embedding_dim?: number;
}

export const oipType = (dtype: Manifest['input']['dtype']) => (dtype === 'float16' ? 'FP16' : 'FP32');

/** The model's input shape, batch first (-1 = dynamic). */
export function inputShape(m: Manifest, batch = -1): number[] {
  const s = m.preprocess.size;
  return m.input.layout === 'NCHW' ? [batch, 3, s, s] : [batch, s, s, 3];
}
