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

/** Why `raw` is not a usable manifest for model `id`, or null. (The Worker validates the full schema.) */
export function checkManifest(raw: unknown, id: string): string | null {
  const m = raw as Partial<Manifest> | null;
  if (typeof m !== 'object' || m === null) return 'not an object';
  if (m.id !== id) return `its id is "${String(m.id)}"`;
  if (typeof m.version !== 'string') return 'version is missing';
  if (typeof m.onnx?.key !== 'string' || !/^[0-9a-f]{64}$/.test(String(m.onnx?.sha256))) return 'onnx.key / onnx.sha256 are missing';
  if (typeof m.input?.name !== 'string' || !['float32', 'float16'].includes(m.input.dtype) || !['NCHW', 'NHWC'].includes(m.input.layout)) return 'input is invalid';
  if (typeof m.outputs?.logits !== 'string') return 'outputs.logits is missing';
  if (!Number.isInteger(m.preprocess?.size) || m.preprocess!.size < 1) return 'preprocess.size is invalid';
  if (!Array.isArray(m.labels)) return 'labels are missing';
  return null;
}

export const oipType = (dtype: Manifest['input']['dtype']) => (dtype === 'float16' ? 'FP16' : 'FP32');

/** The model's input shape, batch first (-1 = dynamic). */
export function inputShape(m: Manifest, batch = -1): number[] {
  const s = m.preprocess.size;
  return m.input.layout === 'NCHW' ? [batch, 3, s, s] : [batch, s, s, 3];
}
