import type { Manifest } from '../models/manifest';

/** A preprocessed batch: float32 values in the manifest's layout, `batch` images. */
export interface ModelInput {
  data: Float32Array;
  batch: number;
}

/** Raw model outputs, flattened per image (singleton dimensions squeezed). */
export interface ModelOutput {
  logits: Float32Array;
  classes: number;
  embedding: Float32Array | null;
  embeddingDim: number;
  /** Where the model ran, reported to clients (e.g. "edge-wasm", "container"). */
  backend: string;
}

/** What every execution backend (edge WASM, container, browser WebGPU) implements. */
export interface Backend {
  readonly name: string;
  run(model: Manifest, input: ModelInput, opts: { wantEmbedding: boolean }): Promise<ModelOutput>;
}
