import { z } from 'zod';
import { ViewSchema } from '../preprocess/views';

/** Enough for the mirror plus shifted copies of both; each view is one more forward pass per image. */
const MAX_VIEWS = 16;

/** The manifest schema (docs/manifest.md): everything serving needs to know about a model. */
export const PreprocessSchema = z.object({
  size: z.number().int().min(1).max(4096),
  resize: z.enum(['shortest_edge', 'direct']).default('shortest_edge'),
  crop_pct: z.number().gt(0).max(1).default(1),
  interpolation: z.enum(['bilinear', 'bicubic', 'nearest']).default('bilinear'),
  channel_order: z.enum(['RGB', 'BGR']).default('RGB'),
  scale: z.number().positive().default(1 / 255),
  mean: z.array(z.number()).length(3).default([0, 0, 0]),
  std: z.array(z.number().positive()).length(3).default([1, 1, 1]),
});

export const ManifestSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/),
  family: z.string().min(1),
  variant: z.string().min(1),
  version: z.string().default('1.0.0'),
  tier: z.enum(['edge', 'heavy']),
  onnx: z.object({
    key: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().positive(),
    precision: z.enum(['fp32', 'fp16', 'int8']).default('fp32'),
  }),
  input: z.object({
    name: z.string().default('pixel_values'),
    dtype: z.enum(['float32', 'float16']).default('float32'),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    /** Fixed batch size of the graph (e.g. 1); omitted when the batch axis is dynamic. */
    batch: z.number().int().positive().optional(),
  }).default({ name: 'pixel_values', dtype: 'float32', layout: 'NCHW' }),
  outputs: z.object({
    logits: z.string(),
    embedding: z.string().nullable().default(null),
    kind: z.enum(['logits', 'probabilities']).default('logits'),
  }),
  preprocess: PreprocessSchema,
  labels: z.array(z.string()).min(1),
  embedding_dim: z.number().int().positive().nullable().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  params: z.number().int().optional(),
  /**
   * Test-time views whose outputs are averaged with the image's own (docs/manifest.md): the mirror
   * and shifted images, for models trained on random flips and crops. Each view costs one more
   * forward pass.
   */
  tta: z.array(ViewSchema).max(MAX_VIEWS).default([]),
  /** Edge model to use when this (heavy) model is unavailable and the client asked for fallback=edge. */
  fallback: z.string().optional(),
  source: z.string().optional(),
  license: z.string().optional(),
}).passthrough();

export type Manifest = z.infer<typeof ManifestSchema>;
export type Preprocess = z.infer<typeof PreprocessSchema>;
